"""Logging for the gateway: plain lines on stderr, with secrets masked."""

from __future__ import annotations

import logging
import sys

from .config import Settings
from .redaction import RedactingFilter, Redactor

LOGGER_NAME = "gateway"
_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"

# One redactor for the process: every app built here adds its secrets to it.
redactor = Redactor()


def configure_logging(settings: Settings) -> logging.Logger:
    redactor.add(settings.secrets)
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(settings.log_level.upper())
    if not any(isinstance(f, RedactingFilter) for h in logger.handlers for f in h.filters):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(RedactingFilter(redactor))
        logger.addHandler(handler)
        logger.propagate = False
    return logger
