"""Logging for the gateway: text or JSON lines on stderr, request ids, secrets masked."""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import g, has_request_context

from .config import Settings
from .redaction import RedactingFilter, Redactor

LOGGER_NAME = "gateway"
_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s [%(request_id)s] %(message)s"

# One redactor for the process: every app built here adds its secrets to it.
redactor = Redactor()


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            in_request = has_request_context() and hasattr(g, "request_id")
            record.request_id = g.request_id if in_request else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line; an access line's fields sit at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        line.update(getattr(record, "access", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings) -> logging.Logger:
    redactor.add(settings.secrets)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level.upper())
    for handler in [h for h in logger.handlers if getattr(h, "gateway_handler", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.gateway_handler = True
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter(_TEXT_FORMAT)
    )
    handler.addFilter(RequestIdFilter())
    # Last, so it sees the finished message (and any exception text) before it is written.
    handler.addFilter(RedactingFilter(redactor))
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def route_through_gateway_handler(other: logging.Logger) -> None:
    """Send another library's logger (Flask's own, which logs a traceback when an error
    handler itself fails) through the gateway's handler, so its lines are masked too."""
    gateway_handlers = [h for h in logging.getLogger(LOGGER_NAME).handlers
                        if getattr(h, "gateway_handler", False)]
    for handler in list(other.handlers):
        other.removeHandler(handler)
    for handler in gateway_handlers:
        other.addHandler(handler)
    other.propagate = False


def mask_gunicorn_output() -> None:
    """Mask secrets in what gunicorn's own error log writes from this worker too."""
    for handler in logging.getLogger("gunicorn.error").handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redactor))
