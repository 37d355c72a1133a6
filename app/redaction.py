"""Keep secrets out of everything a person can read: masking and a log filter."""

from __future__ import annotations

import logging
from collections.abc import Iterable


def mask(secret: str) -> str:
    """Show a key as its last four characters only: ``…abcd``."""
    return "…" + secret[-4:] if len(secret) > 8 else "…" + "*" * 4


class Redactor:
    """Replaces every known secret in a text with its masked form."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s)
        # Longest first, so a secret that contains another is masked whole.
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, mask(secret))
        return text


class RedactingFilter(logging.Filter):
    """A last line of defence: masks secrets in any record that reaches a handler."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Kept apart from the message: a formatter writes a traceback on lines of its own.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, self.redactor(text)
        elif record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        return True
