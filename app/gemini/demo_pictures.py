"""The demo upstream's pictures: real JPEGs at the pixel sizes Gemini answers with.

A picture is a gradient (or the client's first input image) with the prompt drawn on it,
so whoever runs the demo sees that their words and sizes went through.
"""

from __future__ import annotations

import hashlib
import io
import math
import textwrap
import warnings

from PIL import Image, ImageDraw, ImageFont, ImageOps

TIER_PIXELS = {"512": 512, "1K": 1024, "2K": 2048, "4K": 4096}
# Sizes Gemini is known to answer with (upstream-facts.md §2); others are derived below.
KNOWN_SIZES = {
    ("1:1", "1K"): (1024, 1024),
    ("16:9", "1K"): (1408, 768),
    ("16:9", "2K"): (2752, 1536),
}
JPEG_QUALITY = 85
# An input image larger than this is refused before Pillow decodes it (a decompression bomb).
MAX_INPUT_PIXELS = 50_000_000


def ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return int(width) / int(height)


def pixel_size(ratio: str, tier: str) -> tuple[int, int]:
    """Width and height of an answer: width/height ≈ ``ratio``, area ≈ tier², both sides
    multiples of 16."""
    known = KNOWN_SIZES.get((ratio, tier))
    if known:
        return known
    width, _, height = ratio.partition(":")
    transposed = KNOWN_SIZES.get((f"{height}:{width}", tier))
    if transposed:
        return transposed[1], transposed[0]
    side, value = TIER_PIXELS[tier], ratio_value(ratio)
    return _multiple_of_16(side * math.sqrt(value)), _multiple_of_16(side / math.sqrt(value))


def _multiple_of_16(length: float) -> int:
    return max(16, round(length / 16) * 16)


def nearest_ratio(width: int, height: int, ratios: tuple[str, ...]) -> str:
    """The ratio of ``ratios`` closest to width/height, compared in log space."""
    target = math.log(width / height)
    return min(ratios, key=lambda ratio: abs(math.log(ratio_value(ratio)) - target))


def open_input(data: bytes) -> Image.Image:
    """An input image, checked against bombs; raises ValueError when it is not one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_INPUT_PIXELS:
            raise ValueError("too many pixels")
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ValueError(str(exc)) from None
    return image


def picture(text: str, size: tuple[int, int], base: Image.Image | None = None,
            caption: str = "", quality: int = JPEG_QUALITY) -> bytes:
    """A JPEG of ``size`` showing ``text`` over ``base`` (fitted) or over a gradient."""
    if base is not None:
        canvas = ImageOps.fit(ImageOps.exif_transpose(base).convert("RGB"), size)
    else:
        canvas = _gradient(text, size)
    _draw_text(canvas, text, caption)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _gradient(seed_text: str, size: tuple[int, int]) -> Image.Image:
    # Four corner colours from the prompt, blended by one bilinear resize: cheap at 4K.
    seed = hashlib.sha256(seed_text.encode("utf-8", "surrogatepass")).digest()
    corners = [tuple(64 + seed[i + c] % 160 for c in range(3)) for i in (0, 3, 6, 9)]
    small = Image.new("RGB", (2, 2))
    small.putdata(corners)
    return small.resize(size, Image.BILINEAR)


def _draw_text(canvas: Image.Image, text: str, caption: str) -> None:
    width, height = canvas.size
    font_size = max(10, min(width, height) // 14)
    font = ImageFont.load_default(size=font_size)
    columns = max(8, int(width * 0.85 / (font_size * 0.55)))
    lines = textwrap.wrap(text, columns, max_lines=6, placeholder=" …") or [""]
    draw = ImageDraw.Draw(canvas)
    stroke = max(1, font_size // 12)
    y = max(4, (height - len(lines) * font_size * 1.25) // 2)
    for line in lines:
        draw.text((width // 2, y), line, font=font, fill="white", anchor="ma",
                  stroke_width=stroke, stroke_fill="black")
        y += font_size * 1.25
    if caption:
        small = ImageFont.load_default(size=max(8, font_size // 2))
        draw.text((width // 2, height - 4), caption, font=small, fill="white", anchor="md",
                  stroke_width=1, stroke_fill="black")
