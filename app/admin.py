"""Key status, usage and traffic for operators: ``/admin/keys``, ``/admin/usage`` and
``/admin/stats``, behind ``ADMIN_TOKEN`` (404 when unset). With REDIS_URL keys and usage
show, and act on, the whole deployment; without it, the worker that answers."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, jsonify, request

from .errors import GatewayError
from .traffic_stats import traffic_stats

bp = Blueprint("admin", __name__, url_prefix="/admin")


class KeyNotFound(GatewayError):
    status = 404
    error_type = "invalid_request_error"
    code = "key_not_found"


@bp.before_request
def require_admin_token():
    gateway = current_app.extensions["gateway"]
    if not gateway.settings.admin_token:
        abort(404)  # no admin surface at all unless the operator asked for one
    gateway.admin_tokens.check_header(request.headers.get("Authorization"))


@bp.get("/keys")
def list_keys():
    """Every key, masked: as the deployment sees it (Redis) or as this worker does."""
    gateway = current_app.extensions["gateway"]
    views = [_public(view) for view in gateway.pool.snapshot()]
    return jsonify({"object": "list", "worker_pid": os.getpid(), "scope": _scope(gateway),
                    "data": views})


@bp.post("/keys/<masked>/enable")
def enable_key(masked: str):
    """Put a key back in rotation (billing fixed, say) without a restart."""
    return _act_on(masked, lambda pool, wanted: pool.enable(wanted))


@bp.post("/keys/<masked>/disable")
def disable_key(masked: str):
    """Take a key out of rotation until an admin enables it (it is never re-probed)."""
    return _act_on(masked, lambda pool, wanted: pool.disable_masked(wanted))


@bp.get("/usage")
def usage():
    """Requests, images and Gemini tokens per client (masked token) and per key (masked)."""
    return jsonify(current_app.extensions["gateway"].clients.report())


def _act_on(masked: str, action):
    pool = current_app.extensions["gateway"].pool
    wanted = masked if masked.startswith("…") else "…" + masked
    if not action(pool, wanted):
        raise KeyNotFound(f"No key shown as {wanted!r}; GET /admin/keys lists them.")
    (view,) = [_public(v) for v in pool.snapshot() if v["key"] == wanted][:1]
    return jsonify(view)


@bp.get("/stats")
def stats():
    """Request, latency, image and token totals from the metrics, all workers merged."""
    metrics = current_app.extensions["gateway"].metrics
    return jsonify({**traffic_stats(metrics.merged_registry()), "worker_pid": os.getpid()})


# Gemini's words, kept for the operator: long enough to read, never a page of them.
MAX_REASON_CHARACTERS = 500


def _scope(gateway) -> str:
    if gateway.redis is None or gateway.redis.degraded_reason is not None:
        return "worker"
    return "deployment"


def _public(view: dict) -> dict:
    redact = current_app.extensions["gateway"].redact
    return {
        **view,
        # Gemini's messages quote keys ("Consumer 'api_key:…' has been suspended").
        "reason": _bounded(redact(view["reason"])) if view["reason"] else None,
        "last_error": _bounded(redact(view["last_error"])) if view["last_error"] else None,
        "cooling_until": _iso(view["cooling_until"]),
        "last_success_at": _iso(view["last_success_at"]),
    }


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARACTERS else text[:MAX_REASON_CHARACTERS] + " …"


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
