"""The OpenAI-compatible API: ``POST /v1/images/generations`` and ``GET /v1/models``."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, g, jsonify, request

from .errors import InvalidRequest
from .validation import parse_image_request

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger("gateway.api")


@bp.post("/images/generations")
def generate_images():
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    image_request = parse_image_request(_json_body(), gateway.settings.default_model)
    g.prompt = image_request.payload["prompt"]
    if image_request.dropped:
        log.debug("dropped unsupported parameters: %s", ", ".join(image_request.dropped))
    answer = gateway.upstream.generate_images(image_request.payload, g.trace)
    images = len(answer["data"])
    g.images = images
    if images < image_request.n:
        log.info("Gemini returned %d of %d images asked for", images, image_request.n)
    return jsonify(answer)


@bp.get("/models")
def list_models():
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    return jsonify({"object": "list", "data": gateway.models.image_models()})


def _json_body() -> object:
    # Reading the body enforces MAX_CONTENT_LENGTH (413) before any parsing.
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest("The request body is not valid JSON.") from None
