"""CORS for browser clients, configured by ``CORS_ORIGINS`` (empty: off)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Response, request

ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-ID"
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
        origin = self.allowed_origin(request.headers.get("Origin"))
        if origin:
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
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
