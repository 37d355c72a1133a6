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
from ..client_socket import ClientTooSlow, send_deadline
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
        seconds_left: Callable[[], float] | None = None,
    ) -> None:
        self.response = response
        self._chunks = chunks
        self._first = first
        self._read_guard = read_guard
        self._max_bytes = max_bytes
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_close = on_close
        # Writing to the client holds the slot as reading from Gemini does: both end at
        # REQUEST_DEADLINE, or a client that stops reading keeps its slot for ever.
        self._seconds_left = seconds_left
        self._send_deadline = None
        self._sent = 0
        self._finished = False
        self._closed = False
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        # Decoded bytes differ in length from an encoded body's Content-Length; the client
        # has checked the header before handing the answer over.
        self.content_length = None if encoded else declared_length(response.headers)

    def __iter__(self) -> Iterator[bytes]:
        if self._seconds_left is not None:
            self._send_deadline = send_deadline(self._seconds_left())
        counter = ImageCounter()
        size = len(self._first)
        counter.feed(self._first)
        yield self._first
        self._sent = size
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
                self._sent = size
        except ClientTooSlow:
            # The deadline passed while reading from Gemini, not while writing.
            self._finished = True
            self._on_failure("timeout", "REQUEST_DEADLINE passed while relaying")
            log.warning("relayed answer cut short after %d bytes: REQUEST_DEADLINE passed", size)
            raise
        except (GatewayError, Urllib3Error, OSError) as exc:
            self._finished = True
            detail = exc.message if isinstance(exc, GatewayError) else type(exc).__name__
            outcome = "timeout" if isinstance(exc, GatewayTimeout) else "connection"
            self._on_failure(outcome, detail)
            log.warning("relayed answer cut short after %d bytes: %s", size, detail)
            # Headers are out: only dropping the connection tells the client.
            raise ConnectionResetError(errno.ECONNRESET, "upstream answer cut short") from None
        self._finished = True
        self._stop_send_deadline()
        self._on_success(counter.count)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        expired = self._stop_send_deadline()
        if expired and not self._finished:
            # Gemini's part went well: nothing to hold against the key.
            log.warning("the client did not take the relayed answer within REQUEST_DEADLINE; "
                        "dropped after %d bytes", self._sent)
        try:
            self.response.close()
        finally:
            self._on_close()

    def _stop_send_deadline(self) -> bool:
        """Cancel the timer; whether it had already fired."""
        timer, self._send_deadline = self._send_deadline, None
        if timer is None:
            return False
        expired = not timer.pending
        timer.cancel()
        return expired
