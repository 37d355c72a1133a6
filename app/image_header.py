"""The pixel size of a JPEG, PNG or WebP, read from its first bytes without Pillow.

Every answer reports its image's ``size``. Pillow's ``Image.open`` finds it too, but sets up
a decoder for it: 4 % of a small generation's CPU in the worker (N1 in `make bench`), for
four numbers that sit at fixed places (PNG, WebP) or in the first marker segments (JPEG).
Anything this does not recognise goes to Pillow as before (image_files.info_from_bytes).
"""

from __future__ import annotations

import struct

# JPEG start-of-frame markers: SOF0-SOF15 less DHT (C4), JPG (C8) and DAC (CC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM, RST0-7, SOI, EOI.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})


def read_size(raw: bytes) -> tuple[str, int, int] | None:
    """``(format, width, height)`` of the image that ``raw`` starts, or None."""
    if raw.startswith(b"\xff\xd8"):
        return _jpeg(raw)
    if raw.startswith(b"\x89PNG\r\n\x1a\n") and raw[12:16] == b"IHDR" and len(raw) >= 24:
        width, height = struct.unpack(">II", raw[16:24])
        return ("png", width, height) if width and height else None
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return _webp(raw)
    return None


def _jpeg(raw: bytes) -> tuple[str, int, int] | None:
    at = 2
    while at + 4 <= len(raw):
        if raw[at] != 0xFF:
            return None  # not at a marker: leave it to Pillow
        marker = raw[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        (length,) = struct.unpack(">H", raw[at + 2:at + 4])
        if marker in _SOF:
            if at + 9 > len(raw):
                return None
            height, width = struct.unpack(">HH", raw[at + 5:at + 9])
            return ("jpeg", width, height) if width and height else None
        if marker == 0xDA or length < 2:  # scan data before any frame header: malformed
            return None
        at += 2 + length
    return None  # the frame header lies past the bytes given


def _webp(raw: bytes) -> tuple[str, int, int] | None:
    chunk = raw[12:16]
    if chunk == b"VP8 " and len(raw) >= 30 and raw[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", raw[26:30])
        return "webp", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(raw) >= 25 and raw[20] == 0x2F:
        bits = int.from_bytes(raw[21:25], "little")
        return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(raw) >= 30:
        width = int.from_bytes(raw[24:27], "little") + 1
        height = int.from_bytes(raw[27:30], "little") + 1
        return "webp", width, height
    return None
