"""The OpenAI-compatible API: ``POST /v1/images/generations`` and ``GET /v1/models``."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .answers import ImagesBody
from .client_socket import body_deadline, disconnect_check
from .delivery import deliver
from .errors import InvalidRequest
from .upstream.relay import RelayedBody
from .validation import parse_image_request

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger("gateway.api")


@bp.post("/images/generations")
def generate_images():
    gateway = current_app.extensions["gateway"]
    caller = gateway.tokens.check_header(request.headers.get("Authorization"))
    image_request = parse_image_request(_json_body(), gateway.settings.default_model)
    gateway.clients.check(caller)  # CLIENT_RATE_LIMIT, CLIENT_IMAGE_QUOTA
    g.prompt = image_request.prompt
    if image_request.dropped:
        log.debug("ignored parameters: %s", ", ".join(image_request.dropped))
    if gateway.settings.upstream_api == "gemini":
        return deliver(image_request, [{"text": image_request.prompt}], caller=caller)
    _compat_can_answer(image_request)
    answer = gateway.images.generate(
        image_request, g.trace, client_gone=disconnect_check(request.environ)
    )
    trace = g.trace
    if isinstance(answer, ImagesBody):
        # Not direct_passthrough, for the same reason as below: close() must run.
        response = Response(answer, content_type="application/json")
        response.content_length = answer.content_length
        gateway.clients.record(caller, answer.images, answer.usage, key=trace.key)
        return response
    if isinstance(answer, RelayedBody):
        # Large answers pass through as they arrive, already in OpenAI's shape.
        # Not direct_passthrough: werkzeug would hand the bare iterable to the server and
        # skip Response.close(), which writes the access line and the request metrics.
        response = Response(answer, content_type="application/json")
        if answer.content_length is not None:
            response.content_length = answer.content_length
        # The images are counted as the relay ends.
        response.call_on_close(
            lambda: gateway.clients.record(caller, trace.images or 0, None, key=trace.key))
        return response
    if answer.images < image_request.n:
        log.info("Gemini returned %d of %d images asked for", answer.images, image_request.n)
    gateway.clients.record(caller, answer.images, None, key=trace.key)
    return Response(answer.body, content_type="application/json")


@bp.get("/models")
def list_models():
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    return jsonify({"object": "list", "data": gateway.models.image_models()})


@bp.get("/models/<model>")
def get_model(model: str):
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    return jsonify(gateway.models.model(model))


def _compat_can_answer(image_request) -> None:
    """The compat pass-through relays Gemini's base64 answer: no URL, no stream."""
    for param, asked in (("response_format", image_request.response_format == "url"),
                         ("stream", image_request.stream)):
        if asked:
            raise InvalidRequest(
                f"'{param}': {'url' if param == 'response_format' else 'true'} is not "
                "supported with UPSTREAM_API=openai, which passes Gemini's own base64 answer "
                "through; use response_format 'b64_json' (or the native backend).",
                param=param, code="unsupported_value")


def _json_body() -> object:
    raw = _read_body()
    if not raw.strip():
        raise InvalidRequest("The request body must be a JSON object.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest("The request body is not valid JSON.") from None


def _read_body() -> bytes:
    """The request body, enforcing MAX_CONTENT_LENGTH (413) and CLIENT_BODY_TIMEOUT (408)."""
    seconds = current_app.extensions["gateway"].settings.client_body_timeout
    with body_deadline(request.environ, seconds):
        return _whole_body()


def _whole_body() -> bytes:
    """werkzeug stops a chunked body (no Content-Length) at MAX_CONTENT_LENGTH silently:
    one byte more in the stream means it was larger, a 413, not a body cut short."""
    body = request.get_data(cache=False)
    limit = request.max_content_length
    if (request.content_length is None and limit is not None and len(body) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return body
