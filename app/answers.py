"""What Gemini's 200 answers mean: images, model lists, and the look of a large answer."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import BadGateway, ContentPolicyViolation

IMAGE_FIELD = b'"b64_json"'
# Pieces of an answer smaller than this are joined before they are sent: each piece is a
# trip through werkzeug and gunicorn and a send() of its own.
COALESCE_BYTES = 64 * 1024
# The head of an images answer: a JSON object whose "data" list opens with an image.
_IMAGES_HEAD = re.compile(rb'^\s*\{.*?"data"\s*:\s*\[\s*\{\s*"b64_json"\s*:\s*"', re.DOTALL)


@dataclass(frozen=True)
class ImagesAnswer:
    """An OpenAI images answer, as the JSON bytes to send."""

    body: bytes
    images: int


def images_from(body: bytes) -> ImagesAnswer:
    """The OpenAI answer from Gemini's 200 body; zero images means the safety filter spoke.

    Gemini's compatibility layer already answers in OpenAI's shape: when every entry is an
    image and ``created`` is a number, its bytes are sent on as they are, saving a
    serialisation of megabytes of base64. Otherwise the answer is rebuilt from its images.
    """
    document, data = _data_list(body, "images")
    images = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str) and item["b64_json"]:
            image = {"b64_json": item["b64_json"]}
            if isinstance(item.get("revised_prompt"), str):
                image["revised_prompt"] = item["revised_prompt"]
            images.append(image)
    if not images:
        raise ContentPolicyViolation(
            "Gemini returned no image for this prompt; its safety filters may have blocked "
            "the prompt or the result. Rephrase the prompt and try again."
        )
    created = document.get("created")
    created_ok = isinstance(created, int) and not isinstance(created, bool)
    if created_ok and len(images) == len(data):
        return ImagesAnswer(body, len(images))
    rebuilt = {"created": created if created_ok else int(time.time()), "data": images}
    return ImagesAnswer(json.dumps(rebuilt, separators=(",", ":")).encode(), len(images))


def models_from(body: bytes) -> list[dict]:
    """The ``data`` list of Gemini's ``GET /models`` answer."""
    _, data = _data_list(body, "models")
    return [item for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _data_list(body: bytes, what: str) -> tuple[dict, list]:
    """The JSON object of a 200 answer and its ``data`` list, or ``BadGateway``."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadGateway(f"Gemini answered 200 with a body that is not JSON ({what}).") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise BadGateway(f"Gemini answered 200 without a list of {what}.")
    return document, data


def looks_like_images(head: bytes) -> bool:
    """Whether the first bytes of a large answer are an images answer with an image in it.

    A zero-image (safety filtered) answer is small and is always parsed whole; only large
    answers that open like this are relayed without parsing.
    """
    return _IMAGES_HEAD.match(head[:4096]) is not None


class ImageCounter:
    """Counts images in a relayed body chunk by chunk, across chunk boundaries."""

    def __init__(self) -> None:
        self.count = 0
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        overlap = len(IMAGE_FIELD) - 1
        # A field split over two chunks is found in the joint, never twice: the joint is
        # too short to hold one wholly on either side.
        self.count += (self._tail + chunk[:overlap]).count(IMAGE_FIELD)
        # Base64 holds no quote: hopping from quote to quote (a memchr) skips the megabytes
        # of image data that a search for the whole field would scan byte by byte.
        quote = chunk.find(b'"')
        while quote != -1:
            if chunk.startswith(IMAGE_FIELD, quote):
                self.count += 1
            quote = chunk.find(b'"', quote + 1)
        self._tail = chunk[-overlap:] if len(chunk) >= overlap else (self._tail + chunk)[-overlap:]


class ImagesBody:
    """An OpenAI images answer sent in pieces: a little JSON, then each image's base64 read
    from the spool it waited in, so no answer is ever held whole or serialised whole.

    ``sources`` are ``(image, revised_prompt)``: an image is base64 ``bytes`` or anything
    with ``b64_length`` and ``b64_chunks()``. ``close()`` (WSGI) runs ``on_close``.
    """

    def __init__(self, created: int, sources: list, fields: dict,
                 on_close: list | None = None) -> None:
        self.images = len(sources)
        self.usage = fields.get("usage")  # for the client's usage record
        self._pieces: list = [b'{"created":%d,"data":[' % created]
        for index, (image, revised) in enumerate(sources):
            self._pieces.append(b'%s{"b64_json":"' % (b"," if index else b""))
            self._pieces.append(image)
            tail = b'"'
            if revised:
                tail += b',"revised_prompt":' + json.dumps(revised).encode()
            self._pieces.append(tail + b"}")
        extra = json.dumps(fields, separators=(",", ":")).encode()
        self._pieces.append(b"]" + (b"," + extra[1:] if fields else b"}"))
        self.content_length = sum(
            len(p) if isinstance(p, bytes) else p.b64_length for p in self._pieces)
        self._on_close = on_close or []
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        return (chunk for chunk, _ in self.pieces())

    def pieces(self) -> Iterator[tuple[bytes, bool]]:
        """The body in chunks, each with whether it is nothing but image base64 (which
        the secret masker need not scan: see redaction.MaskedBody)."""
        pending: list[bytes] = []
        size = 0
        for piece in self._pieces:
            image = not isinstance(piece, bytes)
            for chunk in piece.b64_chunks() if image else (piece,):
                if pending and size + len(chunk) > COALESCE_BYTES:
                    yield b"".join(pending), False
                    pending, size = [], 0
                if len(chunk) >= COALESCE_BYTES:
                    yield chunk, image
                else:
                    pending.append(chunk)
                    size += len(chunk)
        if pending:
            yield b"".join(pending), False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for callback in self._on_close:
            callback()
