"""Client tokens: who may use the gateway."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from .errors import AuthenticationFailed


class TokenChecker:
    """Compares a presented token with every configured one in constant time.

    Comparing SHA-256 digests keeps the time independent of the token's length, and
    checking every token (no early exit) keeps it independent of which one matched.
    """

    def __init__(self, tokens: Iterable[str], *, named: str = "your gateway key") -> None:
        self._digests = [_digest(token) for token in tokens]
        self.named = named  # what the client should send, in the 401's words

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def is_valid(self, token: str) -> bool:
        presented = _digest(token)
        matched = False
        for digest in self._digests:
            matched |= hmac.compare_digest(presented, digest)
        return matched

    def check_header(self, authorization: str | None) -> None:
        """Raise ``AuthenticationFailed`` unless the header carries a configured token."""
        if not self.enabled:
            return
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed(
                f"Missing bearer token: send 'Authorization: Bearer <{self.named}>'."
            )
        if not self.is_valid(token.strip()):
            raise AuthenticationFailed(f"Invalid bearer token: send {self.named}.")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
