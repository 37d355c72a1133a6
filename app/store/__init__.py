"""Where images wait for clients that asked for ``response_format: url``.

An image is stored under a new unguessable name (``<id>.<ext>``, 192 random bits) for
``IMAGE_URL_TTL`` seconds and served by ``GET /v1/images/files/<name>`` without a token:
the name is the credential, as in OpenAI's own expiring URLs. Two stores:

- ``disk`` (default): a folder, for one machine (every worker on it shares the folder).
- ``redis``: for several machines or dynos, where a URL made by one must be served by any.

A store that cannot write raises ``StoreUnavailable`` (503): an answer never points at an
image that was not stored.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..config import Settings

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# 24 random bytes: 192 bits, 32 URL-safe characters.
ID_BYTES = 24
NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.(png|jpeg|webp)\Z")


@dataclass(frozen=True)
class StoredFile:
    """A stored image, found: on disk (``path``) or in memory (``data``)."""

    name: str
    content_type: str
    size: int
    expires_in: float  # seconds left
    path: str | None = None
    data: bytes | None = None


class ImageStore(Protocol):
    def put(self, image: Iterable[bytes], image_format: str) -> str:
        """Store the image's bytes (given in chunks); return its name ``<id>.<ext>``."""

    def get(self, name: str) -> StoredFile | None:
        """The image by that name, or None when it is unknown or has expired."""


def new_name(image_format: str) -> str:
    if image_format not in CONTENT_TYPES:
        raise ValueError(f"not a stored image format: {image_format!r}")
    return f"{secrets.token_urlsafe(ID_BYTES)}.{image_format}"


def valid_name(name: str) -> bool:
    """Only names the store itself makes: nothing a client sends reaches a path or a key."""
    return NAME.match(name) is not None


def decoded(b64_chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Base64 decoded chunk by chunk: an image is never held whole to be stored."""
    carry = b""
    for chunk in b64_chunks:
        data = carry + bytes(chunk)
        usable = len(data) - len(data) % 4
        carry = data[usable:]
        if usable:
            yield binascii.a2b_base64(data[:usable])
    if carry:
        yield binascii.a2b_base64(carry + b"=" * (-len(carry) % 4))


def from_settings(settings: Settings) -> ImageStore:
    """The store ``IMAGE_STORE`` names. Call it in the worker (``create_app``), never in
    gunicorn's master: a Redis connection pool made before gevent patches would block."""
    if settings.image_store == "redis":
        from .redis import RedisStore

        return RedisStore.from_url(settings.redis_url or "", settings.redis_prefix,
                                   settings.image_url_ttl)
    from .disk import DiskStore, default_directory

    return DiskStore(settings.image_store_dir or default_directory(), settings.image_url_ttl,
                     settings.image_store_max_bytes)
