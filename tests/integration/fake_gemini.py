"""A fake Gemini on a loopback port, scripted per test: the native API under
``native_root`` and the compatibility layer under ``base_url``.

It records every call (time, key, body), counts calls in flight, and answers with
whatever the test's ``behaviour(call)`` returns: a reply, a dropped connection, a slow
or trickling body, silence until the client gives up, an endless flood, or an SSE
answer paced event by event. A ``Reply`` (or
``Drop``) without a body answers what Gemini answers on that path when all goes well:
``…:generateContent`` a native image answer (a small real JPEG), ``…:streamGenerateContent``
its SSE form (a JSON array without ``alt=sse``), ``GET {native_root}/models`` one page of
models, ``GET {native_root}/models/{id}`` that model; the compat paths today's compat answer.

A call counts as in flight from the moment its request has been read until the moment
before the fake sends the last byte of its answer (or closes), or until its client has
closed the connection (a read timeout). The gateway cannot finish a call before that
last byte, and it closes a connection it gives up on before it starts another call, so
a concurrency cap that holds in the gateway can never show up here as one call too many.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests import gemini_bodies as gemini

NATIVE_PREFIX = "/v1beta/"
COMPAT_PREFIX = "/v1beta/openai/"
# What the default GET {native_root}/models lists: the live image models and two that make
# no images, so the gateway's filtering has something to do.
LISTED_MODELS = ("gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image",
                 "gemini-2.5-flash-image", "gemini-2.5-flash", "gemini-embedding-001")


@dataclass
class Call:
    at: float
    path: str  # without the query
    key: str  # from x-goog-api-key, else from Authorization: Bearer
    body: dict | None
    query: str = ""
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query)

    @property
    def native(self) -> bool:
        return self.path.startswith(NATIVE_PREFIX) and not self.path.startswith(COMPAT_PREFIX)

    @property
    def model(self) -> str | None:
        """The model of a native ``models/{model}:method`` or ``models/{model}`` path."""
        if not self.native or "/models/" not in self.path:
            return None
        return self.path.rpartition("/models/")[2].partition(":")[0]


@dataclass
class Reply:
    status: int = 200
    body: str | bytes | None = None  # None: the success answer for the call's path
    delay: float = 0.0
    content_type: str | None = None  # None: the one that goes with the default body


@dataclass
class Drop:
    """Read the request, then close the connection without answering."""

    reset: bool = False
    after_bytes: int = 0  # send this many bytes of a 200 first (a break mid-body)
    body: bytes | None = None  # the 200 answer those bytes come from (None: a big default)


@dataclass
class Trickle:
    """Send a body one byte every ``interval`` seconds."""

    body: bytes
    interval: float


@dataclass
class Stall:
    """Send nothing until the client gives up and closes (its read timeout fires)."""

    limit: float = 30.0  # stop waiting after this long, whatever the client does


@dataclass
class Flood:
    """A 200 whose body is ``prefix`` and then filler up to ``total`` bytes, sent as fast as
    the client reads: with a Content-Length or chunked, plain or gzip-encoded."""

    total: int
    prefix: bytes = b'{"padding": "'
    declare_length: bool = True
    gzip: bool = False
    block: int = 1 << 20  # bytes a write (an HTTP chunk when chunked)


@dataclass
class Paced:
    """A 200 SSE answer sent event by event (chunked), ``gap`` seconds apart: the first
    event at once, then each next one after the gap. ``body`` None: the default SSE answer
    for the call's path (``drafts`` thought images before the final one)."""

    gap: float
    body: bytes | None = None
    drafts: int = 0


Action = Reply | Drop | Trickle | Stall | Flood | Paced


class FakeGemini:
    def __init__(self, behaviour: Callable[[Call], Action] | None = None) -> None:
        self.behaviour = behaviour or (lambda call: Reply())
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.flood_bytes_sent = 0  # bytes of Flood answers that left, headers excluded
        self._open: set[socket.socket] = set()  # connections of the calls in flight
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self),
                                           bind_and_activate=False)
        # socketserver's backlog of 5 drops connections when a gateway opens its
        # MAX_CONCURRENT connections at once; the kernel retries them a second later.
        self._server.request_queue_size = 128
        self._server.server_bind()
        self._server.server_activate()
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The compatibility layer's URL (``UPSTREAM_API=openai``)."""
        return self.native_root + "/openai"

    @property
    def native_root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1beta"

    def keys(self) -> list[str]:
        return [call.key for call in self.calls]

    def reset_max_in_flight(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight

    def start(self) -> FakeGemini:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _enter(self, call: Call, connection: socket.socket) -> None:
        with self._lock:
            # A call whose client gave up (its FIN is queued here before the client could
            # send this new call) is over, even if its handler thread has not run yet.
            for gone in [c for c in self._open if _peer_closed(c)]:
                self._open.discard(gone)
                self.in_flight -= 1
            self.calls.append(call)
            self._open.add(connection)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self, connection: socket.socket) -> None:
        with self._lock:
            if connection in self._open:
                self._open.discard(connection)
                self.in_flight -= 1

    def _count_flood(self, sent: int) -> None:
        with self._lock:
            self.flood_bytes_sent += sent


def _handler_for(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The last byte of an answer goes in a write of its own (see _finish); with Nagle
        # it would wait for the gateway's delayed ACK, 40 ms a call.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except OSError:  # the gateway dropped a kept-alive connection: nothing to read
                self.close_connection = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            key = (self.headers.get("x-goog-api-key")
                   or self.headers.get("Authorization", "").removeprefix("Bearer "))
            url = urlsplit(self.path)
            call = Call(time.monotonic(), url.path, key, body, url.query, self.command,
                        dict(self.headers.items()))
            fake._enter(call, self.connection)
            try:
                self._perform(fake.behaviour(call), call)
            except OSError:  # the gateway gave up on this call: nothing more to say
                self.close_connection = True
            finally:
                self._done()

        do_GET = do_POST

        def _done(self) -> None:
            fake._leave(self.connection)

        def _perform(self, action: Action, call: Call) -> None:
            if isinstance(action, Reply):
                if action.delay:
                    time.sleep(action.delay)
                default_body, default_type = success_for(call)
                body = default_body if action.body is None else action.body
                payload = body.encode() if isinstance(body, str) else body
                content_type = action.content_type or (
                    default_type if action.body is None else "application/json")
                self._finish(self._head(action.status, content_type, len(payload)) + payload)
            elif isinstance(action, Drop):
                if action.after_bytes:
                    payload = action.body or big_success_for(call)
                    self.wfile.write(self._head(200, "application/json", len(payload))
                                     + payload[: action.after_bytes])
                    self.wfile.flush()
                self._done()
                if action.reset:
                    # Linger 0: closing sends a TCP reset instead of a clean FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif isinstance(action, Trickle):
                self.wfile.write(self._head(200, "application/json", len(action.body)))
                for index in range(len(action.body) - 1):
                    self.wfile.write(action.body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(action.interval)
                self._finish(action.body[-1:])
            elif isinstance(action, Stall):
                self._wait_for_client_to_close(action.limit)
                self.close_connection = True
            elif isinstance(action, Flood):
                self._flood(action)
            elif isinstance(action, Paced):
                self._paced(action, call)

        def _finish(self, data: bytes) -> None:
            """Send ``data``; the call leaves the in-flight count just before its last byte."""
            self.wfile.write(data[:-1])
            self.wfile.flush()
            self._done()
            self.wfile.write(data[-1:])
            self.wfile.flush()

        def _wait_for_client_to_close(self, limit: float) -> None:
            deadline = time.monotonic() + limit
            while (remaining := deadline - time.monotonic()) > 0:
                readable, _, _ = select.select([self.connection], [], [], remaining)
                if readable:
                    try:
                        if self.connection.recv(1, socket.MSG_PEEK) == b"":
                            break  # the client closed: its read timeout fired
                    except OSError:
                        break
                    time.sleep(0.01)  # it sent something instead; keep waiting

        def _paced(self, action: Paced, call: Call) -> None:
            body = action.body
            if body is None:
                answer = gemini.native_image_answer(
                    images=[("image/jpeg", gemini.jpeg_b64(64, 64))],
                    thought_images=action.drafts)
                body = gemini.native_sse(answer)
            events = [event + b"\r\n\r\n" for event in body.split(b"\r\n\r\n") if event]
            self.wfile.write(self._head(200, "text/event-stream", None,
                                        ["Transfer-Encoding: chunked"]))
            for index, event in enumerate(events):
                if index:
                    time.sleep(action.gap)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self._done()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _flood(self, action: Flood) -> None:
            extra = ["Content-Encoding: gzip"] if action.gzip else []
            if action.declare_length and not action.gzip:
                head = self._head(200, "application/json", action.total)
            else:
                head = self._head(200, "application/json", None,
                                  [*extra, "Transfer-Encoding: chunked"])
            self.wfile.write(head)
            chunked = not (action.declare_length and not action.gzip)
            for block in _flood_blocks(action):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
                fake._count_flood(len(block))
            self.wfile.write(b"0\r\n\r\n" if chunked else b"")
            self.wfile.flush()

        @staticmethod
        def _head(status: int, content_type: str, length: int | None,
                  extra: list[str] | None = None) -> bytes:
            phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            lines = [f"HTTP/1.1 {status} {phrase}",
                     f"Content-Type: {content_type}",
                     *([f"Content-Length: {length}"] if length is not None else []),
                     *(extra or []), "", ""]
            return "\r\n".join(lines).encode()

    return Handler


def success_for(call: Call) -> tuple[bytes, str]:
    """The body and content type Gemini sends when ``call`` succeeds."""
    if not call.native:
        return json.dumps(gemini.images()).encode(), "application/json"
    if call.path.endswith(":streamGenerateContent"):
        answer = gemini.native_image_answer(images=[("image/jpeg", gemini.jpeg_b64(64, 64))])
        if call.params.get("alt") == ["sse"]:
            return gemini.native_sse(answer), "text/event-stream"
        return json.dumps(_chunks_of(gemini.native_sse(answer))).encode(), "application/json"
    if call.path.endswith(":generateContent"):
        answer = gemini.native_image_answer(images=[("image/jpeg", gemini.jpeg_b64(64, 64))])
        return json.dumps(answer).encode(), "application/json"
    if call.path.endswith("/models"):
        return json.dumps(gemini.native_models_page(LISTED_MODELS)).encode(), "application/json"
    if call.model:
        [entry] = gemini.native_models_page([call.model])["models"]
        return json.dumps(entry).encode(), "application/json"
    return json.dumps(gemini.images()).encode(), "application/json"


def big_success_for(call: Call) -> bytes:
    """A success answer with several images, long enough to break off in the middle."""
    if not call.native:
        return json.dumps(gemini.images(4)).encode()
    jpeg = ("image/jpeg", gemini.jpeg_b64(256, 256))
    return json.dumps(gemini.native_image_answer(images=[jpeg], thought_images=2)).encode()


def _chunks_of(sse: bytes) -> list[dict]:
    return [json.loads(event.removeprefix(b"data: "))
            for event in sse.split(b"\r\n\r\n") if event]


def _peer_closed(connection: socket.socket) -> bool:
    try:
        readable, _, _ = select.select([connection], [], [], 0)
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _flood_blocks(action: Flood):
    """The body of a Flood in blocks of ``action.block`` bytes (HTTP chunks when chunked),
    made lazily; with gzip, the encoded blocks."""
    filler = b"A" * action.block
    if not action.gzip:
        first = action.prefix + filler[len(action.prefix):]
        yield first[: action.total]
        left = action.total - len(first)
        while left > 0:
            yield filler[:left]
            left -= action.block
        return
    # After a full flush deflate forgets what came before, so every further block of
    # filler compresses to the same bytes: a gigabyte costs one compression.
    compressor = zlib.compressobj(wbits=31)
    yield compressor.compress(action.prefix + filler) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(filler) + compressor.flush(zlib.Z_FULL_FLUSH)
    for _ in range(action.total // action.block):
        yield repeated
