"""OpenAI's edit mask, kept by the gateway: Gemini has no mask field.

A mask is a PNG the size of the first input image whose fully transparent pixels mark
where the image may change. The gateway tells Gemini which region that is (in words, from
the mask's bounding box), then pastes Gemini's image, resized to the input's size, into
the original through the mask: every pixel outside the transparent area is the input's
own, exactly. Pillow decodes here, and only here, because a mask asks for it.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from .errors import BadGateway, InvalidRequest
from .image_files import MAX_PIXELS, PILLOW_NAMES

# What Pillow may raise for bytes it cannot read (see style-by-example.md).
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
               Image.DecompressionBombError, Image.DecompressionBombWarning)
# Modes a composite keeps as they are; others become RGB(A) first.
_KEPT_MODES = ("RGB", "RGBA", "L", "LA")


@dataclass(frozen=True)
class Mask:
    """Where an edit may change the first image: 255 where the mask is fully transparent."""

    editable: Image.Image  # mode "L", the first image's size
    box: tuple[int, int, int, int]  # the editable region's bounding box (left, top, right, bottom)

    @property
    def size(self) -> tuple[int, int]:
        return self.editable.size

    def instruction(self) -> str:
        """The region in words, for the prompt: Gemini sees images, not masks."""
        width, height = self.size
        left, top, right, bottom = self.box
        share = (right - left) * (bottom - top) / (width * height)
        return (
            "Change only this region of the first image: from "
            f"{_percent(left, width)} to {_percent(right, width)} of its width (from the "
            f"left) and from {_percent(top, height)} to {_percent(bottom, height)} of its "
            f"height (from the top), about {share:.0%} of the picture. Keep everything "
            "outside that region exactly as it is, and keep the picture's size and framing."
        )


def _percent(value: int, whole: int) -> str:
    return f"{100 * value / whole:.0f}%"


def read_mask(mask_bytes: bytes, image_bytes: bytes) -> Mask:
    """The mask, checked against the first image; 400 naming ``mask`` when it cannot be one."""
    mask = _open(mask_bytes, "mask")
    with mask:
        if mask.format != "PNG":
            raise _mask_error("'mask' must be a PNG image with an alpha channel.")
        if "A" not in mask.getbands() and "transparency" not in mask.info:
            raise _mask_error(
                "'mask' has no alpha channel: its fully transparent pixels mark where the "
                "image may change, so it must be a PNG with transparency (RGBA or LA).")
        size = _image_size(image_bytes)
        if mask.size != size:
            raise _mask_error(
                f"'mask' is {mask.width}x{mask.height} but the first image is "
                f"{size[0]}x{size[1]}: they must be the same size.")
        alpha = _load(mask, "mask").convert("RGBA").getchannel("A")
    editable = alpha.point([255] + [0] * 255)  # only fully transparent pixels
    box = editable.getbbox()
    if box is None:
        raise _mask_error("'mask' has no fully transparent pixel, so nothing may change: "
                          "make the area to edit fully transparent.")
    return Mask(editable, box)


def composite(original_bytes: bytes, generated_b64: Iterator[bytes], mask: Mask,
              output_format: str, compression: int | None) -> bytes:
    """Gemini's image pasted into the original through ``mask``, as base64 of
    ``output_format``. Outside the mask every pixel is the original's."""
    original = _load(_open(original_bytes, "image"), "image")
    if original.mode not in _KEPT_MODES:
        original = original.convert("RGBA" if "A" in original.getbands()
                                    or "transparency" in original.info else "RGB")
    try:
        raw = base64.b64decode(b"".join(generated_b64))
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            generated = Image.open(io.BytesIO(raw))
            if generated.width * generated.height > MAX_PIXELS:
                raise BadGateway("Gemini's image is too large to composite.")
            generated.load()
    except BadGateway:
        raise
    except (*_UNREADABLE, binascii.Error):
        raise BadGateway("Gemini's image could not be read to apply the mask.") from None
    if generated.size != original.size:
        generated = generated.convert(original.mode).resize(original.size, Image.LANCZOS)
    else:
        generated = generated.convert(original.mode)
    result = Image.composite(generated, original, mask.editable)
    if output_format == "jpeg" and result.mode in ("RGBA", "LA"):
        result = result.convert("RGB")
    out = io.BytesIO()
    # PNG at level 1: a 2K composite encodes five times faster than at level 6 for a
    # tenth more bytes, and the worker waits for it.
    options: dict = {"compress_level": 1} if output_format == "png" else {}
    if output_format == "jpeg":
        options["quality"] = compression if compression is not None else 95
    elif output_format == "webp":
        # Lossless unless the client asked for compression: the promise is exact pixels.
        if compression is None or compression == 100:
            options["lossless"] = True
        else:
            options["quality"] = compression
    result.save(out, PILLOW_NAMES[output_format], **options)
    return base64.b64encode(out.getvalue())


def _image_size(data: bytes) -> tuple[int, int]:
    with _open(data, "image") as image:
        return image.size


def _open(data: bytes, param: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except _UNREADABLE:
        raise InvalidRequest(
            f"'{param}' could not be read as an image"
            + (" (a mask needs the first image to be PNG, JPEG or WebP)." if param == "image"
               else "."), param=param, code="invalid_image") from None
    if image.width * image.height > MAX_PIXELS:
        image.close()
        raise InvalidRequest(f"'{param}' has too many pixels to apply a mask "
                             f"(at most {MAX_PIXELS}).", param=param, code="invalid_image")
    return image


def _load(image: Image.Image, param: str) -> Image.Image:
    try:
        image.load()
    except _UNREADABLE:
        raise InvalidRequest(f"'{param}' could not be decoded.", param=param,
                             code="invalid_image") from None
    return image


def _mask_error(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="mask", code="invalid_mask")
