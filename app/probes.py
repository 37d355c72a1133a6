"""What load balancers and Prometheus ask: ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, Response, current_app, jsonify, request

from .metrics import CONTENT_TYPE

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
def healthz():
    """Alive: answers without touching the key pool or the upstream."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready while any key is in rotation: a cooling key comes back, and a client is
    better served by our 429 than by a load balancer's 503. ``degraded`` (still 200) when
    REDIS_URL is set but Redis does not answer: requests go on with per-process state."""
    gateway = current_app.extensions["gateway"]
    if gateway.redis is not None:
        gateway.redis.ping()  # notices an outage, or the end of one, on its own
    states = Counter(view["state"] for view in gateway.pool.snapshot())
    keys = {state: states.get(state, 0) for state in ("active", "cooling", "out_of_rotation")}
    degraded = gateway.redis.degraded_reason if gateway.redis is not None else None
    if keys["active"] + keys["cooling"] > 0:
        if degraded:
            return jsonify({"status": "degraded", "reason": degraded, "keys": keys})
        return jsonify({"status": "ready", "keys": keys})
    response = jsonify({"status": "unready", "reason": "every Gemini API key is out of "
                        "rotation (invalid, blocked or leaked)", "keys": keys})
    response.status_code = 503
    return response


@bp.get("/metrics")
def metrics():
    gateway = current_app.extensions["gateway"]
    if gateway.settings.metrics_auth:
        gateway.admin_tokens.check_header(request.headers.get("Authorization"))
    return Response(gateway.metrics.render(), content_type=CONTENT_TYPE)
