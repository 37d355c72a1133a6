"""Upstream answers shaped like Gemini's: ``{"created": <unix>, "data": [{"b64_json": ...}]}``."""

from __future__ import annotations

import base64
import json
import random

CREATED = 1_790_000_000
# A PNG signature first, so the bytes look like an image to anything that sniffs them.
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_b64(size: int, seed: int) -> str:
    """``size`` characters of base64 of random bytes: incompressible, like a real image."""
    raw_len = size // 4 * 3
    rng = random.Random(seed)
    raw = _PNG_SIGNATURE + rng.randbytes(max(0, raw_len - len(_PNG_SIGNATURE)))
    return base64.b64encode(raw).decode("ascii")


def gemini_images(total_bytes: int, images: int = 1) -> bytes:
    """A Gemini 200 body of about ``total_bytes`` holding ``images`` images of equal size."""
    overhead = len(json.dumps({"created": CREATED, "data": [{"b64_json": ""}] * images}))
    per_image = max(4, (total_bytes - overhead) // images)
    data = [{"b64_json": image_b64(per_image, seed)} for seed in range(images)]
    return json.dumps({"created": CREATED, "data": data}, separators=(",", ":")).encode()
