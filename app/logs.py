"""Logging for the gateway: text or JSON lines on stderr, request ids, secrets masked.

Every line is one line: a client controls paths, methods, headers and field names, and
none of their bytes may start a new line or reach a terminal as a control sequence. The
formatters escape control characters (C0, DEL, C1, the Unicode line and paragraph
separators, bidirectional overrides) in everything they write, gunicorn's own lines
included (``GatewayGunicornLogger``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

from flask import g, has_request_context
from gunicorn.glogging import Logger as GunicornLogger

from .config import Settings
from .redaction import RedactingFilter, Redactor

LOGGER_NAME = "gateway"
_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s [%(request_id)s] %(message)s"
# Characters that end a line somewhere (a terminal, `less`, a log shipper, an editor) or
# steer a terminal or the reading direction.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# The same, less what json.dumps escapes itself (C0).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# One redactor for the process: every app built here adds its secrets to it.
redactor = Redactor()


def _escaped(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100
                                else f"\\u{ord(char):04x}")


def one_line(text: str) -> str:
    """``text`` with every control character written as an escape: it stays one line."""
    return _UNSAFE.sub(_escaped, text)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            in_request = has_request_context() and hasattr(g, "request_id")
            record.request_id = g.request_id if in_request else "-"
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    text = record.exc_text or ""
    if record.stack_info:
        text = f"{text}\n{formatter.formatStack(record.stack_info)}".lstrip("\n")
    return text


class TextFormatter(logging.Formatter):
    """Readable lines; a traceback follows on lines of its own, each indented, so no
    line a client shaped can pass for a log line."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = one_line(self.formatMessage(record))
        details = _exception_text(self, record)
        return line + "".join("\n    " + one_line(part) for part in details.splitlines())


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
        details = _exception_text(self, record)
        if details:
            line["exception"] = details
        text = json.dumps(line, ensure_ascii=False, default=str)
        # json.dumps escapes C0 itself; the rest would still break a line or a terminal.
        return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(settings: Settings) -> logging.Logger:
    redactor.add(settings.secrets)
    # No line format here names a source file, a thread or a multiprocessing process:
    # finding the caller's frame for every record cost most of an access line (the
    # logging HOWTO's "Optimization" section lists these switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level.upper())
    for handler in [h for h in logger.handlers if getattr(h, "gateway_handler", False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.gateway_handler = True
    handler.setFormatter(formatter_for(settings.log_format))
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


def gunicorn_logger_class(log_format: str) -> type[GunicornLogger]:
    """gunicorn's logger, writing its own lines ("Booting worker", "Invalid request
    from …") with the gateway's formatter: the same format, the same escaping."""

    class GatewayGunicornLogger(GunicornLogger):
        def setup(self, cfg) -> None:
            super().setup(cfg)
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter_for(log_format))

    return GatewayGunicornLogger
