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

    def mentions(self, text: str) -> bool:
        """Whether ``text`` holds a secret in any letter case (a lowercased key is one)."""
        lowered = text.lower()
        return any(secret.lower() in lowered for secret in self._ordered)

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


_IMAGE_FIELD = b'"b64_json"'
# Bytes kept back between chunks, beyond the longest secret, so that an image field's
# opening ('"b64_json" : "') split over two chunks is still recognised.
_FIELD_MARGIN = 64
_WHITE = (b" ", b"\t", b"\r", b"\n")


class BodyMasker:
    """Masks secrets in a JSON body that passes through in chunks, keeping its length.

    Scanning megabytes of base64 for every secret costs more than relaying them, and base64
    image data holds no secret: the values of ``"b64_json"`` are skipped (they hold no
    quote, so one memchr finds their end); the rest is scanned, a secret split over two
    chunks included. A secret becomes ``*`` for each character but the last four, so a
    ``Content-Length`` already sent stays true.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s.encode() for s in secrets if s}, key=len, reverse=True)
        self._hold = max((len(s) for s in self._secrets), default=0) - 1 + _FIELD_MARGIN
        self._pending = b""
        self._in_image = False

    def feed(self, chunk: bytes) -> bytes:
        if not self._secrets:
            return chunk
        data, self._pending = self._pending + chunk, b""
        out: list[bytes] = []
        at = 0  # offsets, not slices: a relayed chunk is 256 KiB
        while at < len(data):
            if self._in_image:
                end = data.find(b'"', at)
                if end == -1:
                    out.append(data[at:] if at else data)
                    break
                out.append(data[at:end])
                at, self._in_image = end, False
                continue
            opening = _image_value_start(data, at)
            if opening is None:
                masked = self._masked(data[at:])
                # No secret holds white space: data that ends in some cannot end in part
                # of one, so nothing need wait for the next chunk (an SSE event, which ends
                # in a blank line, goes out at once).
                kept = 0 if masked[-1:] in _WHITE else min(len(masked), self._hold)
                self._pending = masked[len(masked) - kept:]
                out.append(masked[: len(masked) - kept])
                break
            out.append(self._masked(data[at:opening]))
            at, self._in_image = opening, True
        return b"".join(out)

    @property
    def inside_image(self) -> bool:
        """Whether the bytes fed so far end inside a ``"b64_json"`` value."""
        return self._in_image and not self._pending

    def finish(self) -> bytes:
        rest, self._pending = self._pending, b""
        return rest if self._in_image else self._masked(rest)

    def _masked(self, text: bytes) -> bytes:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, b"*" * (len(secret) - 4) + secret[-4:])
        return text


def _image_value_start(data: bytes, start: int) -> int | None:
    """Just past the opening quote of the first whole ``"b64_json": "`` from ``start``."""
    quote = data.find(b'"', start)
    while quote != -1:
        escaped = quote > 0 and data[quote - 1] == ord("\\")  # a quote inside a string
        if not escaped and data.startswith(_IMAGE_FIELD, quote):
            at = _after_blanks(data, quote + len(_IMAGE_FIELD))
            if data[at:at + 1] == b":":
                at = _after_blanks(data, at + 1)
                if data[at:at + 1] == b'"':
                    return at + 1
        quote = data.find(b'"', quote + 1)
    return None


def _after_blanks(data: bytes, at: int) -> int:
    while data[at:at + 1] in (b" ", b"\t", b"\r", b"\n"):
        at += 1
    return at


class MaskedBody:
    """A response's iterable with its secrets masked; ``close()`` reaches the original."""

    def __init__(self, body: Iterable[bytes], masker: BodyMasker) -> None:
        self._body = body
        self._masker = masker

    def __iter__(self):
        # A body that knows which of its chunks are image base64 (answers.ImagesBody) says
        # so: while the masker agrees it is inside an image value, such a chunk goes out
        # unscanned (a second pass over megabytes, 3 % of a 2 MB answer's CPU in N3).
        pieces = getattr(self._body, "pieces", None)
        source = pieces() if pieces is not None else ((chunk, False) for chunk in self._body)
        for chunk, image_data in source:
            if image_data and self._masker.inside_image:
                yield chunk
                continue
            masked = self._masker.feed(chunk)
            if masked:
                yield masked
        rest = self._masker.finish()
        if rest:
            yield rest

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()
