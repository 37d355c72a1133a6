"""An offline stand-in for Gemini, so the gateway runs with no keys and no network.

It is mounted on the session as a transport adapter for ``DEMO_ROOT`` and answers like the
native API (upstream-facts.md §2-5): ``models/{model}:generateContent`` and
``:streamGenerateContent`` with real JPEGs of the requested ratio and tier, thought parts
and usage, and the same refusals; ``GET models`` in pages. Under ``DEMO_BASE_URL`` it still
answers ``images/generations`` like the compatibility layer, with PNG gradients, for
``UPSTREAM_API=openai``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import time
import zlib
from urllib.parse import parse_qs, urlsplit

from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

from .demo_answers import all_models, generate, merged, models_page, sse
from .demo_rules import Refusal, invalid, read_request
from .models import ModelTable

DEMO_ROOT = "http://demo-upstream.invalid/v1beta"
DEMO_BASE_URL = DEMO_ROOT + "/openai"  # the compatibility layer, for UPSTREAM_API=openai
ROOT_PATH = urlsplit(DEMO_ROOT).path
COMPAT_PATH = urlsplit(DEMO_BASE_URL).path
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
    def __init__(self, table: ModelTable | None = None) -> None:
        super().__init__()
        self.table = table or ModelTable.load()

    def send(self, request: PreparedRequest, stream=False, timeout=None, verify=True,
             cert=None, proxies=None) -> Response:
        url = urlsplit(request.url or "")
        path = url.path
        if path.startswith(COMPAT_PATH + "/") or path == COMPAT_PATH:
            return self._compat(request, path)
        query = parse_qs(url.query)
        if not path.startswith(ROOT_PATH + "/"):
            return _html_not_found(request)
        if not request.headers.get("x-goog-api-key"):
            return _refusal(request, Refusal(
                403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers "
                "without established identity). Please use API key or other form of API "
                "consumer identity to call this API."))
        route = path[len(ROOT_PATH) + 1:]
        try:
            if request.method == "GET" and route == "models":
                return _response(request, 200, models_page(
                    self.table, _first(query, "pageSize"), _first(query, "pageToken")))
            if request.method == "GET" and route.startswith("models/"):
                return self._one_model(request, route.removeprefix("models/"))
            model, _, method = route.removeprefix("models/").partition(":")
            if request.method == "POST" and route.startswith("models/") and method in (
                    "generateContent", "streamGenerateContent"):
                return self._generate(request, model, method, _first(query, "alt") == "sse")
        except Refusal as refusal:
            return _refusal(request, refusal)
        return _html_not_found(request)

    def _generate(self, request: PreparedRequest, model: str, method: str,
                  sse_wanted: bool) -> Response:
        raw = request.body.read() if hasattr(request.body, "read") else request.body
        try:
            body = json.loads(raw or b"")
        except ValueError:
            raise invalid("Invalid JSON payload received. Unexpected token.") from None
        chunks = generate(read_request(model, body, self.table, method))
        if method == "generateContent":
            return _response(request, 200, merged(chunks))
        if sse_wanted:
            return _raw_response(request, 200, sse(chunks), "text/event-stream")
        return _response(request, 200, chunks)  # without alt=sse: one JSON array

    def _one_model(self, request: PreparedRequest, model: str) -> Response:
        entry = next((m for m in all_models(self.table) if m["name"] == f"models/{model}"), None)
        if entry is None:
            raise Refusal(404, "NOT_FOUND", f"models/{model} is not found for API version "
                          "v1beta, or is not supported for getModel.")
        return _response(request, 200, entry)

    def _compat(self, request: PreparedRequest, path: str) -> Response:
        if request.method == "POST" and path.endswith("/images/generations"):
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
        if request.method == "GET" and path.endswith("/models"):
            return _response(request, 200, {"object": "list", "data": [
                {"id": f"models/{name}", "object": "model", "owned_by": "google"}
                for name in DEMO_MODELS]})
        return _response(
            request, 404, [{"error": {"code": 404, "message": "Not found in demo upstream",
                                      "status": "NOT_FOUND"}}]
        )

    def close(self) -> None:
        pass


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _refusal(request: PreparedRequest, refusal: Refusal) -> Response:
    return _response(request, refusal.code, refusal.document())


def _html_not_found(request: PreparedRequest) -> Response:
    # Google's front end answers unknown paths with an HTML page, not the JSON envelope.
    page = (b"<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title>"
            b"<p><b>404.</b> <ins>That's an error.</ins><p>The requested URL was not found "
            b"on this server. <ins>That's all we know.</ins></html>")
    return _raw_response(request, 404, page, "text/html; charset=UTF-8")


def _response(request: PreparedRequest, status: int, document: object) -> Response:
    return _raw_response(request, status, json.dumps(document).encode(),
                         "application/json; charset=UTF-8")


def _raw_response(request: PreparedRequest, status: int, payload: bytes,
                  content_type: str) -> Response:
    raw = HTTPResponse(
        body=io.BytesIO(payload),
        headers={"Content-Type": content_type, "Content-Length": str(len(payload))},
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
