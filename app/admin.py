"""Key status and traffic for operators: ``/admin/keys`` and ``/admin/stats``, behind
``ADMIN_TOKEN`` (404 when unset)."""

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
    """Every key as this worker sees it, masked."""
    views = [_public(view) for view in current_app.extensions["gateway"].pool.snapshot()]
    return jsonify({"object": "list", "worker_pid": os.getpid(), "data": views})


@bp.post("/keys/<masked>/enable")
def enable_key(masked: str):
    """Put a key back in rotation (billing fixed, say) without a restart."""
    pool = current_app.extensions["gateway"].pool
    wanted = masked if masked.startswith("…") else "…" + masked
    if not pool.enable(wanted):
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
