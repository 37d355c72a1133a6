"""Upstream headers the gateway acts on, read strictly: a malformed one is a 502, not a 500."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import BadGateway


def declared_length(headers: Mapping[str, str]) -> int | None:
    """The upstream's Content-Length, None when absent; ``BadGateway`` when malformed
    (``str.isdigit`` accepts '²', which ``int`` refuses)."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise BadGateway("Gemini answered with a malformed Content-Length header.")
    return int(value)
