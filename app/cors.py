"""CORS for browser clients, configured by ``CORS_ORIGINS`` (empty: off)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask import Response, request

# What the OpenAI SDKs send from a browser besides the x-stainless-* family (language,
# package version, OS, arch, runtime, retry count, timeout, helper method…, a family
# that grows with each release: allowed by prefix).
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Accept", "X-Request-ID",
                   "OpenAI-Organization", "OpenAI-Project", "OpenAI-Beta", "Idempotency-Key")
_ALLOWED_LOWER = frozenset(h.lower() for h in ALLOWED_HEADERS)
ALLOWED_HEADER_PREFIX = "x-stainless-"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
EXPOSED_HEADERS = "X-Request-ID, Retry-After"
ALLOWED_METHODS = "GET, POST, OPTIONS"
PREFLIGHT_MAX_AGE = "600"


class Cors:
    def __init__(self, origins: Sequence[str]) -> None:
        self.any_origin = tuple(origins) == ("*",)
        self.origins = frozenset(origins)

    @property
    def enabled(self) -> bool:
        return bool(self.origins)

    def allowed_origin(self, origin: str | None) -> str | None:
        if not origin or not self.enabled:
            return None
        if self.any_origin:
            return "*"
        return origin if origin in self.origins else None

    def preflight(self) -> Response | None:
        """The answer to a preflight ``OPTIONS``, given before (and without) auth."""
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        if not self.enabled:
            return None
        response = Response(status=204)
        # The allowed headers echo what was asked: a cache must not answer another ask.
        response.vary.add("Access-Control-Request-Headers")
        origin = self.allowed_origin(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ", ".join(_allowed_headers(
                request.headers.get("Access-Control-Request-Headers", "")))
            response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        return response

    def decorate(self, response: Response) -> None:
        """Add the CORS headers to any response, error responses included."""
        if not self.enabled:
            return
        origin = self.allowed_origin(request.headers.get("Origin"))
        if not self.any_origin:
            response.vary.add("Origin")
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS


def _allowed_headers(requested: str) -> list[str]:
    """The fixed list, plus each requested x-stainless-* header (at most 32 of them)."""
    extra = []
    for name in (part.strip() for part in requested.split(",")[:32]):
        lowered = name.lower()
        if (lowered.startswith(ALLOWED_HEADER_PREFIX) and _HEADER_NAME.match(name)
                and lowered not in _ALLOWED_LOWER):
            extra.append(lowered)
    return [*ALLOWED_HEADERS, *dict.fromkeys(extra)]
