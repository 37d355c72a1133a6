"""A large answer from Gemini, relayed to the client as it arrives.

Holding an 8 MB answer whole (and again parsed, and again serialised) costs tens of MB per
request in flight; relaying it costs one chunk. The relay owns the request's concurrency
slot and the upstream connection until the last byte is through or the client has gone.

Once the first byte is out the status line cannot change: if Gemini breaks off, the relay
raises ``ConnectionResetError`` so the server drops the connection, and the client sees a
body shorter than announced rather than a well-formed error.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Iterator

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from ..answers import ImageCounter
from ..errors import GatewayError, GatewayTimeout, UpstreamTooLarge
from .headers import declared_length

log = logging.getLogger("gateway.upstream")


class RelayedBody:
    """Iterable of the answer's bytes; ``close()`` (WSGI) releases everything it holds."""

    def __init__(
        self,
        response: requests.Response,
        chunks: Iterator[bytes],
        first: bytes,
        *,
        read_guard: Callable[[], object],
        max_bytes: int,
        on_success: Callable[[int], None],
        on_failure: Callable[[str, str], None],
        on_close: Callable[[], None],
    ) -> None:
        self.response = response
        self._chunks = chunks
        self._first = first
        self._read_guard = read_guard
        self._max_bytes = max_bytes
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_close = on_close
        self._closed = False
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        # Decoded bytes differ in length from an encoded body's Content-Length; the client
        # has checked the header before handing the answer over.
        self.content_length = None if encoded else declared_length(response.headers)

    def __iter__(self) -> Iterator[bytes]:
        counter = ImageCounter()
        size = len(self._first)
        counter.feed(self._first)
        yield self._first
        try:
            while True:
                with self._read_guard():
                    chunk = next(self._chunks, None)
                if chunk is None:
                    break
                size += len(chunk)
                if size > self._max_bytes:
                    raise UpstreamTooLarge(f"Gemini's answer is larger than {self._max_bytes} "
                                           "bytes.")
                counter.feed(chunk)
                yield chunk
        except (GatewayError, Urllib3Error, OSError) as exc:
            detail = exc.message if isinstance(exc, GatewayError) else type(exc).__name__
            outcome = "timeout" if isinstance(exc, GatewayTimeout) else "connection"
            self._on_failure(outcome, detail)
            log.warning("relayed answer cut short after %d bytes: %s", size, detail)
            # Headers are out: only dropping the connection tells the client.
            raise ConnectionResetError(errno.ECONNRESET, "upstream answer cut short") from None
        self._on_success(counter.count)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.response.close()
        finally:
            self._on_close()
