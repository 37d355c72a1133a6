"""Client tokens: who may use the gateway, and which client each request is."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import AuthenticationFailed
from .redaction import mask


@dataclass(frozen=True)
class Client:
    """Who sent a request, without the token: ``id`` names it in Redis (a digest of the
    configured token), ``label`` in logs, metrics and /admin/usage (the masked token)."""

    id: str
    label: str


# Every request when PROXY_AUTH_KEYS is empty: one client, so limits still apply.
ANONYMOUS = Client(id="anonymous", label="anonymous")


class TokenChecker:
    """Compares a presented token with every configured one in constant time.

    Comparing SHA-256 digests keeps the time independent of the token's length, and
    checking every token (no early exit) keeps it independent of which one matched.
    """

    def __init__(self, tokens: Iterable[str], *, named: str = "your gateway key") -> None:
        tokens = list(tokens)
        self._digests = [_digest(token) for token in tokens]
        self.named = named  # what the client should send, in the 401's words
        masked = [mask(token) for token in tokens]
        seen = Counter(masked)
        # Two tokens may end alike: number them so their usage stays apart.
        self._clients = [
            Client(id=digest.hex()[:16],
                   label=shown if seen[shown] == 1 else f"{shown}#{index + 1}")
            for index, (digest, shown) in enumerate(zip(self._digests, masked, strict=True))
        ]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    @property
    def clients(self) -> list[Client]:
        return list(self._clients)

    def is_valid(self, token: str) -> bool:
        return self._match(token) is not None

    def check_header(self, authorization: str | None) -> Client:
        """The client whose token the header carries (``ANONYMOUS`` when auth is off);
        ``AuthenticationFailed`` unless it carries a configured token."""
        if not self.enabled:
            return ANONYMOUS
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed(
                f"Missing bearer token: send 'Authorization: Bearer <{self.named}>'."
            )
        client = self._match(token.strip())
        if client is None:
            raise AuthenticationFailed(f"Invalid bearer token: send {self.named}.")
        return client

    def _match(self, token: str) -> Client | None:
        presented = _digest(token)
        matched = 0  # 1 + the index of the matching token; no branch on the comparison
        for index, digest in enumerate(self._digests):
            matched |= (index + 1) * hmac.compare_digest(presented, digest)
        return self._clients[matched - 1] if matched else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
