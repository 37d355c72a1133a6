"""An offline stand-in for Gemini, so the gateway runs with no keys and no network.

It is mounted on the session as a transport adapter for ``DEMO_BASE_URL`` and answers
``images/generations`` like the compatibility layer does, with real PNG images: a
gradient whose colours come from the prompt.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import time
import zlib

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

DEMO_BASE_URL = "http://demo-upstream.invalid/v1beta/openai"
MAX_SIDE = 1024
DEFAULT_SIDE = 512
DEMO_MODELS = ("gemini-2.5-flash", "gemini-2.5-flash-image", "gemini-3-pro-image-preview",
               "imagen-4.0-generate-001", "text-embedding-004")


def demo_png(prompt: str, width: int, height: int) -> bytes:
    """A ``width`` x ``height`` RGB PNG, cheap to make at any size."""
    seed = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).digest()
    base = seed[0:3]
    first_row = bytearray(b"\x00")  # filter: none
    for x in range(width):
        shade = x * 255 // max(1, width - 1)
        first_row += bytes(((base[c] + shade * (c + 1)) % 256) for c in range(3))
    # Each further row uses the "up" filter with a constant delta: a vertical gradient
    # for the price of one row.
    step_row = b"\x02" + bytes((seed[3] % 3 + 1, seed[4] % 3, seed[5] % 3 + 1)) * width
    raw = bytes(first_row) + step_row * (height - 1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _dimensions(size: object) -> tuple[int, int]:
    if isinstance(size, str) and "x" in size:
        width, _, height = size.partition("x")
        if width.isdigit() and height.isdigit():
            return min(int(width), MAX_SIDE) or 1, min(int(height), MAX_SIDE) or 1
    return DEFAULT_SIDE, DEFAULT_SIDE


class DemoUpstreamAdapter(BaseAdapter):
    def send(self, request: PreparedRequest, stream=False, timeout=None, verify=True,
             cert=None, proxies=None) -> Response:
        if request.method == "POST" and (request.path_url or "").endswith("/images/generations"):
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                body = {}
            prompt = str(body.get("prompt", ""))
            width, height = _dimensions(body.get("size"))
            count = body.get("n") if isinstance(body.get("n"), int) else 1
            images = [
                {"b64_json": base64.b64encode(demo_png(f"{prompt}#{i}", width, height)).decode()}
                for i in range(max(1, min(count, 4)))
            ]
            return _response(request, 200, {"created": int(time.time()), "data": images})
        if request.method == "GET" and (request.path_url or "").endswith("/models"):
            return _response(request, 200, {"object": "list", "data": [
                {"id": f"models/{name}", "object": "model", "owned_by": "google"}
                for name in DEMO_MODELS]})
        return _response(
            request, 404, [{"error": {"code": 404, "message": "Not found in demo upstream",
                                      "status": "NOT_FOUND"}}]
        )

    def close(self) -> None:
        pass


def _response(request: PreparedRequest, status: int, document: object) -> Response:
    payload = json.dumps(document).encode()
    raw = HTTPResponse(
        body=io.BytesIO(payload),
        headers={"Content-Type": "application/json", "Content-Length": str(len(payload))},
        status=status,
        preload_content=False,
    )
    response = Response()
    response.status_code = status
    response.headers.update(raw.headers)
    response.raw = raw
    response.request = request
    response.url = request.url or ""
    response.encoding = "utf-8"
    return response
