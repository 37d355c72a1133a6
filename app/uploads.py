"""Images a client uploads for an edit: what they are (from their bytes), and the limits.

werkzeug spools each uploaded file to a temporary file past 500 KB, so an upload is held
on disk, not in the worker's memory; it is read back in chunks when the upstream body is
written. The type is decided from the file's first bytes, never from the client's
``Content-Type`` or file name.
"""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from .client_socket import body_deadline
from .errors import InvalidRequest, RequestTooLarge

ACCEPTED = "PNG, JPEG, WebP, HEIC or HEIF"
# ISO base media brands of HEIC/HEIF stills (the "ftyp" box at byte 4).
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx")
_HEIF_BRANDS = (b"mif1", b"msf1")
# Raw bytes per base64 chunk: a multiple of 3, so chunks encode without padding between.
RAW_CHUNK = 3 * 256 * 1024


def sniff(head: bytes) -> str | None:
    """The MIME type of an image from its first 16 bytes, or None when it is none of ours."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIC_BRANDS:
            return "image/heic"
        if head[8:12] in _HEIF_BRANDS:
            return "image/heif"
    return None


@dataclass
class Upload:
    """One uploaded image: its type, size and the (spooled) file it waits in."""

    param: str  # the form field it came in: image, image[], mask
    mime_type: str
    size: int
    file: IO[bytes]

    def read(self) -> bytes:
        """The whole file (for the images Pillow must decode: a mask and its image)."""
        self.file.seek(0)
        return self.file.read()

    def b64_chunks(self) -> Iterator[bytes]:
        self.file.seek(0)
        while chunk := self.file.read(RAW_CHUNK):
            yield base64.b64encode(chunk)


def checked_upload(param: str, file: IO[bytes], max_bytes: int) -> Upload:
    """``file`` as an ``Upload``; 413 past ``max_bytes``, 400 when it is not an image."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    file.seek(0)
    if size > max_bytes:
        raise RequestTooLarge(
            f"'{param}' is {size} bytes; each image may be at most {max_bytes} bytes "
            "(MAX_IMAGE_BYTES).", param=param)
    if size == 0:
        raise InvalidRequest(f"'{param}' is an empty file.", param=param,
                             code="invalid_image")
    mime_type = sniff(file.read(16))
    file.seek(0)
    if mime_type is None:
        raise InvalidRequest(
            f"'{param}' is not an image the gateway accepts: it must be {ACCEPTED} "
            "(judged from the file's bytes, not its name or content type).",
            param=param, code="invalid_image_format")
    return Upload(param, mime_type, size, file)


@contextlib.contextmanager
def edit_body_limits(request: Request, max_body_bytes: int, body_timeout: float):
    """Reading an edit's body: at most ``max_body_bytes`` (chunked uploads too) and no
    pause longer than ``body_timeout`` between two reads.

    The limit replaces MAX_BODY_BYTES for this request only; it must be set before
    anything reads ``request.stream``.
    """
    request.max_content_length = max_body_bytes
    try:
        with body_deadline(request.environ, body_timeout):
            yield
    except RequestEntityTooLarge:
        raise RequestTooLarge(
            f"The request body is larger than {max_body_bytes} bytes, the most an edit may "
            "send (MAX_EDIT_BODY_BYTES).") from None
