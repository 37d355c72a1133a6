"""The size an answer reports comes from the image's header, and agrees with Pillow."""

import io

import pytest
from PIL import Image

from app.image_files import info_from_bytes
from app.image_header import read_size


def encoded(fmt: str, size: tuple[int, int], mode: str = "RGB", **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 80, 40) if mode == "RGB" else (200, 80, 40, 128)).save(
        out, fmt, **options)
    return out.getvalue()


CASES = [
    ("jpeg", encoded("JPEG", (1024, 768))),
    ("jpeg", encoded("JPEG", (768, 1344), progressive=True)),  # SOF2
    ("jpeg", encoded("JPEG", (640, 480), exif=b"Exif\x00\x00" + b"\x00" * 3000)),
    ("jpeg", encoded("JPEG", (1, 1))),
    ("png", encoded("PNG", (1536, 672))),
    ("png", encoded("PNG", (3, 5), mode="RGBA")),
    ("webp", encoded("WEBP", (1200, 896), quality=80)),  # VP8, lossy
    ("webp", encoded("WEBP", (333, 77), lossless=True)),  # VP8L
    ("webp", encoded("WEBP", (640, 360), mode="RGBA", quality=70)),  # VP8X, alpha
]


@pytest.mark.parametrize(("fmt", "raw"), CASES)
def test_the_header_gives_what_pillow_reads(fmt, raw):
    with Image.open(io.BytesIO(raw)) as image:
        expected = (fmt, image.width, image.height)
    assert read_size(raw) == expected
    assert read_size(raw[:4096]) in (expected, None)  # a head: the size, or "read more"


def test_a_jpeg_whose_frame_header_is_past_the_head_asks_for_more():
    raw = encoded("JPEG", (640, 480), exif=b"Exif\x00\x00" + b"\x00" * 6000)
    assert read_size(raw[:4096]) is None
    assert read_size(raw) == ("jpeg", 640, 480)


@pytest.mark.parametrize("raw", [b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"GIF89a",
                                 b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x00",
                                 b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"\xff\xd8\x00\x00\x00\x00"])
def test_what_it_cannot_read_is_none(raw):
    assert read_size(raw) is None


def test_other_formats_still_go_to_pillow():
    info = info_from_bytes(encoded("GIF", (48, 20), mode="RGB"))
    assert (info.format, info.size) == ("gif", "48x20")
