"""Image bytes: what an image is (from its header only) and, when asked, another format.

Pillow reads a header without decoding pixels, so knowing the size of a 4K answer costs
the first few kilobytes of its base64. Decoding happens only to transcode, which the
client asked for by naming an ``output_format`` Gemini did not send.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .errors import BadGateway
from .image_header import read_size

FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "HEIF": "heif"}
MIME_FORMATS = {"image/jpeg": "jpeg", "image/jpg": "jpeg", "image/png": "png",
                "image/webp": "webp", "image/heic": "heif", "image/heif": "heif"}
PILLOW_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
# 8K x 8K: far past Gemini's 4K, far short of a decompression bomb.
MAX_PIXELS = 8192 * 8192
# base64 bytes tried for a header, then the whole image: a JPEG's size marker is usually in
# its first 3 KB (4 KB of base64 decode and parse in a sixth of the time 64 KB take).
_HEADS = (4 * 1024, 64 * 1024, 1024 * 1024)


@dataclass(frozen=True)
class ImageInfo:
    format: str  # jpeg | png | webp | ...
    width: int
    height: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def info_from_b64(read_head, total: int, mime_type: str | None = None) -> ImageInfo | None:
    """Format and pixel size of a base64 image, from as little of it as will do.

    ``read_head(n)`` returns the first ``n`` base64 bytes. None when Pillow cannot tell.
    """
    for size in (*_HEADS, total):
        head = read_head(min(size, total))
        head = head[: len(head) - len(head) % 4]
        try:
            raw = base64.b64decode(head, validate=False)
        except (binascii.Error, ValueError):
            return None
        info = info_from_bytes(raw)
        if info is not None or size >= total:
            return info
    return None


def info_from_bytes(raw: bytes) -> ImageInfo | None:
    known = read_size(raw)  # JPEG, PNG, WebP: their headers, without setting up Pillow
    if known is not None:
        return ImageInfo(*known)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a truncated head is expected here
            with Image.open(io.BytesIO(raw)) as image:
                name = FORMATS.get(image.format or "", (image.format or "").lower())
                return ImageInfo(name, image.width, image.height)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None


def transcode_b64(b64: bytes, output_format: str, compression: int | None) -> bytes:
    """``b64`` re-encoded as ``output_format`` (png | jpeg | webp), base64 again."""
    try:
        raw = base64.b64decode(b64)
        with Image.open(io.BytesIO(raw)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise BadGateway("Gemini's image is too large to convert.")
            image.load()
            converted = _for_format(image, output_format)
            out = io.BytesIO()
            options = {}
            if output_format in ("jpeg", "webp"):
                options["quality"] = compression if compression is not None else 95
            if output_format == "png":
                options["compress_level"] = 6
            converted.save(out, PILLOW_NAMES[output_format], **options)
    except BadGateway:
        raise
    except (binascii.Error, UnidentifiedImageError, OSError, SyntaxError, ValueError,
            EOFError, Image.DecompressionBombError):
        raise BadGateway("Gemini's image could not be read to convert it.") from None
    return base64.b64encode(out.getvalue())


def _for_format(image: Image.Image, output_format: str) -> Image.Image:
    if output_format == "jpeg" and image.mode not in ("RGB", "L"):
        # JPEG has no alpha: flatten onto white rather than let Pillow refuse.
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        return image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image
