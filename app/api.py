"""The OpenAI-compatible API: ``POST /v1/images/generations`` and ``GET /v1/models``."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, g, jsonify, request
from werkzeug.exceptions import ClientDisconnected

from .answers import ImagesBody
from .client_socket import disconnect_check
from .delivery import deliver
from .errors import InvalidRequest, RequestTimeout
from .upstream.relay import RelayedBody
from .validation import parse_image_request

bp = Blueprint("api", __name__, url_prefix="/v1")
log = logging.getLogger("gateway.api")


@bp.post("/images/generations")
def generate_images():
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    image_request = parse_image_request(_json_body(), gateway.settings.default_model)
    g.prompt = image_request.prompt
    if image_request.dropped:
        log.debug("ignored parameters: %s", ", ".join(image_request.dropped))
    if gateway.settings.upstream_api == "gemini":
        return deliver(image_request, [{"text": image_request.prompt}])
    _compat_can_answer(image_request)
    answer = gateway.images.generate(
        image_request, g.trace, client_gone=disconnect_check(request.environ)
    )
    if isinstance(answer, ImagesBody):
        # Not direct_passthrough, for the same reason as below: close() must run.
        response = Response(answer, content_type="application/json")
        response.content_length = answer.content_length
        return response
    if isinstance(answer, RelayedBody):
        # Large answers pass through as they arrive, already in OpenAI's shape.
        # Not direct_passthrough: werkzeug would hand the bare iterable to the server and
        # skip Response.close(), which writes the access line and the request metrics.
        response = Response(answer, content_type="application/json")
        if answer.content_length is not None:
            response.content_length = answer.content_length
        return response
    if answer.images < image_request.n:
        log.info("Gemini returned %d of %d images asked for", answer.images, image_request.n)
    return Response(answer.body, content_type="application/json")


@bp.get("/models")
def list_models():
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    return jsonify({"object": "list", "data": gateway.models.image_models()})


@bp.get("/models/<path:model_id>")
def get_model(model_id: str):
    gateway = current_app.extensions["gateway"]
    gateway.tokens.check_header(request.headers.get("Authorization"))
    return jsonify(gateway.models.model(model_id))


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
    """The request body, enforcing MAX_CONTENT_LENGTH (413) and CLIENT_BODY_TIMEOUT (408).

    gunicorn drops a connection whose headers dawdle, not one whose body does: without a
    timeout a client dripping its body holds a connection for ever.
    """
    client = request.environ.get("gunicorn.socket")
    if client is None:
        return request.get_data(cache=False)
    previous = client.gettimeout()
    client.settimeout(current_app.extensions["gateway"].settings.client_body_timeout)
    try:
        return request.get_data(cache=False)
    except ClientDisconnected as exc:
        # werkzeug reports any failed read as a disconnect; a timeout stays its context.
        if isinstance(exc.__context__, TimeoutError):
            raise RequestTimeout(
                "The request body did not arrive in time (CLIENT_BODY_TIMEOUT between reads)."
            ) from None
        raise
    finally:
        client.settimeout(previous)
