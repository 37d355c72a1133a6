"""Upstream answers: the compat layer's OpenAI shape (S1–S5) and native Gemini's (N1–N6).

Compat: ``{"created": <unix>, "data": [{"b64_json": ...}]}``. Native: a ``generateContent``
answer whose final image is a real JPEG padded with random bytes to the size asked for
(decoders stop at the JPEG's end marker; Pillow reads the real header), after a thought
text part and a thought draft image that the gateway must drop.
"""

from __future__ import annotations

import base64
import io
import json
import random

CREATED = 1_790_000_000
# A PNG signature first, so the bytes look like an image to anything that sniffs them.
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Sides tried for the final image's real JPEG, largest first: the largest that fits the size.
_SIDES = (1024, 512, 256, 128, 64)


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


def _jpeg(side: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (side, side), (30, 60, 110))
    draw = ImageDraw.Draw(image)
    for i in range(0, side, max(1, side // 16)):
        draw.line((0, i, side, side - i), fill=(240, 200, 80), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def padded_jpeg_b64(size: int, seed: int = 0) -> str:
    """About ``size`` characters of base64: a real JPEG, then random bytes (incompressible)."""
    raw = next((jpeg for jpeg in map(_jpeg, _SIDES) if len(jpeg) <= size // 4 * 3), _jpeg(16))
    padding = max(0, size // 4 * 3 - len(raw))
    return base64.b64encode(raw + random.Random(seed).randbytes(padding)).decode("ascii")


def native_answer(total_bytes: int, model: str) -> bytes:
    """A ``generateContent`` 200 of about ``total_bytes``: thoughts, text, one final image."""
    draft = base64.b64encode(_jpeg(96)).decode("ascii")  # a few KB: spooled, then dropped

    def document(final: str) -> dict:
        parts = [
            {"text": "Planning the composition: a lighthouse at dusk.", "thought": True},
            {"inlineData": {"mimeType": "image/jpeg", "data": draft}, "thought": True},
            {"text": "Here is the lighthouse."},
            {"inlineData": {"mimeType": "image/jpeg", "data": final},
             "thoughtSignature": "c2lnbmF0dXJl"},
        ]
        return {
            "candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1120,
                              "candidatesTokensDetails": [{"modality": "IMAGE",
                                                           "tokenCount": 1120}],
                              "thoughtsTokenCount": 264, "totalTokenCount": 1396},
            "modelVersion": model, "responseId": "YmVuY2gtcmVzcG9uc2U",
        }

    overhead = len(json.dumps(document(""), separators=(",", ":")))
    final = padded_jpeg_b64(max(4, total_bytes - overhead))
    return json.dumps(document(final), separators=(",", ":")).encode()


def native_final_images(body: bytes) -> list[str]:
    """The base64 of the non-thought images of a native answer: what a client must get."""
    parts = json.loads(body)["candidates"][0]["content"]["parts"]
    return [part["inlineData"]["data"] for part in parts
            if "inlineData" in part and not part.get("thought")]
