"""A fake Gemini compatibility layer on a loopback port, scripted per test.

It records every call (time, key, body), counts calls in flight, and answers with
whatever the test's ``behaviour(call)`` returns: a reply, a dropped connection, a slow
or trickling body.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests import gemini_bodies as gemini


@dataclass
class Call:
    at: float
    path: str
    key: str
    body: dict | None


@dataclass
class Reply:
    status: int = 200
    body: str | bytes = field(default_factory=lambda: json.dumps(gemini.images()))
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass
class Drop:
    """Read the request, then close the connection without answering."""

    reset: bool = False
    after_bytes: int = 0  # send this many bytes of a 200 first (a break mid-body)
    body: bytes | None = None  # the 200 answer those bytes come from


@dataclass
class Trickle:
    """Send a body one byte every ``interval`` seconds."""

    body: bytes
    interval: float


Action = Reply | Drop | Trickle


class FakeGemini:
    def __init__(self, behaviour: Callable[[Call], Action] | None = None) -> None:
        self.behaviour = behaviour or (lambda call: Reply())
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1beta/openai"

    def keys(self) -> list[str]:
        return [call.key for call in self.calls]

    def start(self) -> FakeGemini:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _enter(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler_for(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            call = Call(time.monotonic(), self.path, key, body)
            fake._enter(call)
            try:
                self._perform(fake.behaviour(call))
            finally:
                fake._leave()

        do_GET = do_POST

        def _perform(self, action: Action) -> None:
            if isinstance(action, Reply):
                if action.delay:
                    time.sleep(action.delay)
                payload = action.body.encode() if isinstance(action.body, str) else action.body
                self._head(action.status, len(payload), action.content_type)
                self.wfile.write(payload)
            elif isinstance(action, Drop):
                if action.after_bytes:
                    payload = action.body or json.dumps(gemini.images(4)).encode()
                    self._head(200, len(payload), "application/json")
                    self.wfile.write(payload[: action.after_bytes])
                    self.wfile.flush()
                if action.reset:
                    # Linger 0: closing sends a TCP reset instead of a clean FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif isinstance(action, Trickle):
                self._head(200, len(action.body), "application/json")
                for index in range(len(action.body)):
                    self.wfile.write(action.body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(action.interval)

        def _head(self, status: int, length: int, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.end_headers()

    return Handler
