"""One mapping from anything that goes wrong to OpenAI's error shape."""

from __future__ import annotations

import logging
import re

from flask import Flask, current_app, g, jsonify
from werkzeug.exceptions import HTTPException

from .errors import GatewayError

log = logging.getLogger("gateway.errors")
# An error code is a word a program matches on; Gemini's status is passed on only as one.
_PLAIN_CODE = re.compile(r"^[a-z0-9_]{1,64}$")

_HTTP_MESSAGES = {
    404: ("Unknown path. This gateway serves POST /v1/images/generations, "
          "/v1/images/edits and /v1/images/variations.", "not_found"),
    405: ("Method not allowed for this path.", "method_not_allowed"),
    413: ("The request body is larger than this gateway accepts (MAX_BODY_BYTES).",
          "request_too_large"),
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(GatewayError, _gateway_error)
    app.register_error_handler(HTTPException, _http_exception)
    app.register_error_handler(Exception, _unexpected)


def _gateway_error(error: GatewayError):
    body = error.body()
    # Gemini's messages are relayed; a key echoed in one must not reach the client.
    redact = current_app.extensions["gateway"].redact
    body["error"]["message"] = redact(error.message)
    code = body["error"]["code"]
    if code is not None and (not _PLAIN_CODE.match(code) or redact.mentions(code)):
        body["error"]["code"] = None
    # For the access line: what went wrong (a 502 says which connection failure, and how
    # many attempts it took).
    g.error = body["error"]["message"]
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers())
    return response


def _http_exception(error: HTTPException):
    status = error.code or 500
    message, code = _HTTP_MESSAGES.get(status, (error.description or error.name, None))
    error_type = "invalid_request_error" if status < 500 else "server_error"
    response = jsonify({"error": {"message": message, "type": error_type, "param": None,
                                  "code": code}})
    response.status_code = status
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _unexpected(error: Exception):
    log.exception("unexpected error while serving a request")
    response = jsonify({"error": {"message": "Internal error in the gateway.",
                                  "type": "server_error", "param": None, "code": None}})
    response.status_code = 500
    return response
