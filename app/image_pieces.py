"""One made image, ready to deliver: in the format the client asked for, as base64 pieces.

Shared by the url answer (the pieces are decoded into the image store) and the stream
(the pieces become a ``data:`` event), so neither holds an image whole unless the client
asked for a format Gemini did not send (then Pillow must decode it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from .gemini.native import ImageData
from .image_files import MIME_FORMATS, info_from_b64, transcode_b64
from .validation import ImageRequest

DELIVERABLE = ("png", "jpeg", "webp")


@dataclass
class Deliverable:
    image: ImageData | bytes  # bytes: base64 made here by a transcode
    format: str
    size: str | None

    def b64_chunks(self) -> Iterator[bytes]:
        if isinstance(self.image, bytes):
            yield self.image
        else:
            yield from self.image.b64_chunks()


def deliverable(image: ImageData, request: ImageRequest) -> Deliverable:
    info = info_from_b64(image.b64_head, image.b64_length)
    actual = info.format if info else MIME_FORMATS.get(image.mime_type, "jpeg")
    wanted = request.output_format or (actual if actual in DELIVERABLE else "png")
    size = info.size if info else None
    if wanted == actual:
        return Deliverable(image, actual, size)
    b64 = transcode_b64(b"".join(image.b64_chunks()), wanted, request.output_compression)
    return Deliverable(b64, wanted, size)


def event_image(fields: dict, image: ImageData, request: ImageRequest) -> Iterator[bytes]:
    """One SSE event carrying ``image`` as ``b64_json`` besides ``fields``, in pieces.

    The image is made ready (transcoded if need be) before the first piece is asked for,
    so a failure raises here, before any byte of the event went out."""
    ready = deliverable(image, request)
    fields = {**fields, "output_format": ready.format}
    if ready.size:
        fields["size"] = ready.size
    tail = b'",' + json.dumps(fields, separators=(",", ":")).encode()[1:] + b"\n\n"
    return _pieces(ready, tail)


def _pieces(ready: Deliverable, tail: bytes) -> Iterator[bytes]:
    yield b'data: {"b64_json":"'
    yield from ready.b64_chunks()
    yield tail
