"""``POST /v1/images/edits`` and ``POST /v1/images/variations`` (thin views).

On the native backend an edit is n ``generateContent`` calls with the input images in the
user turn (editing.py). With ``UPSTREAM_API=openai`` the client's body is forwarded as it
came to ``{GEMINI_BASE_URL}/images/edits`` (or ``/images/variations``): that upstream
speaks OpenAI's API, masks included.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from .answers import ImagesBody, images_from
from .client_socket import disconnect_check
from .delivery import deliver
from .edit_request import EditRequest, parse_edit_form, parse_edit_json, parse_variation_form
from .editing import Editor
from .errors import InvalidRequest
from .json_body import SpooledBody
from .uploads import edit_body_limits
from .upstream.relay import RelayedBody

bp = Blueprint("edits", __name__, url_prefix="/v1")
log = logging.getLogger("gateway.edits")
FORWARD_CHUNK = 256 * 1024


@bp.post("/images/edits")
def edit_images():
    gateway = _authorised()
    if gateway.settings.upstream_api == "openai":
        return _forwarded("/images/edits")
    with _limits(gateway):
        if request.mimetype == "application/json":
            edit = parse_edit_json(_json(), gateway.settings.default_model,
                                   gateway.settings.max_image_bytes)
        else:
            _require_form()
            edit = parse_edit_form(request.form, request.files, gateway.settings.default_model,
                                   gateway.settings.max_image_bytes)
    return _made_and_answered(gateway, edit)


@bp.post("/images/variations")
def create_variation():
    gateway = _authorised()
    if gateway.settings.upstream_api == "openai":
        return _forwarded("/images/variations")
    with _limits(gateway):
        _require_form()
        edit = parse_variation_form(request.form, request.files,
                                    gateway.settings.default_model,
                                    gateway.settings.max_image_bytes)
    return _made_and_answered(gateway, edit)


def _made_and_answered(gateway, edit: EditRequest) -> Response:
    g.prompt = edit.image.prompt
    if edit.image.dropped:
        # repr: a field name is the client's, and may hold a line break.
        log.debug("ignored parameters: %s", ", ".join(map(repr, edit.image.dropped)))
    editor = Editor(gateway.images)
    # b64_json, url or a stream, as for generations; the edit makes its own images (its
    # body spooled once for the n calls, its mask applied after).
    return deliver(edit.image, None, "image_edit", caller=g.caller,
                   make=lambda trace, gone: editor.make(edit, trace, client_gone=gone))


def _sent(body: ImagesBody | RelayedBody) -> Response:
    # Not direct_passthrough: close() must run (it frees spools, writes the access line).
    response = Response(body, content_type="application/json")
    if body.content_length is not None:
        response.content_length = body.content_length
    return response


def _forwarded(path: str) -> Response:
    """The client's body, spooled under the edit limits, sent on unchanged."""
    gateway = current_app.extensions["gateway"]
    with _limits(gateway):
        body = SpooledBody.copied(_chunks(request.stream), request.content_type or "")
    with body:
        answer = gateway.upstream.call("POST", path, body.reader(), images_from, g.trace,
                                       relay_large=True,
                                       client_gone=disconnect_check(request.environ))
    if isinstance(answer, RelayedBody):
        return _sent(answer)
    return Response(answer.body, content_type="application/json")


def _authorised():
    gateway = current_app.extensions["gateway"]
    g.caller = gateway.tokens.check_header(request.headers.get("Authorization"))
    gateway.clients.check(g.caller)  # CLIENT_RATE_LIMIT, CLIENT_IMAGE_QUOTA
    return gateway


def _limits(gateway):
    settings = gateway.settings
    return edit_body_limits(request, settings.max_edit_body_bytes, settings.client_body_timeout)


def _require_form() -> None:
    if request.mimetype != "multipart/form-data":
        raise InvalidRequest("Send the images as multipart/form-data (or, for edits, a JSON "
                             "body with 'images').")


def _json() -> object:
    raw = request.get_data(cache=False)
    if request.content_length is None and len(raw) >= (request.max_content_length or 0):
        # A chunked body is cut at the limit without a word from werkzeug: it was larger.
        raise RequestEntityTooLarge()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest("The request body is not valid JSON.") from None


def _chunks(stream):
    while chunk := stream.read(FORWARD_CHUNK):
        yield chunk
