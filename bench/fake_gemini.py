"""A slow fake Gemini: answers every POST with a prepared body after a fixed latency.

Run as ``python -m bench.fake_gemini --port P --latency 2 [--trickle 2] --body FILE``.
With ``--trickle`` the body is sent in slices spread over that many seconds, so a proxy
holds every answer half-received at once, as with a real Gemini sending megabytes. One
gevent process holds thousands of waiting connections for a greenlet each, and sends the
prepared bytes with ``sendall`` (no copy per response), so on its core it stays far from
being the bottleneck: the figures then describe the proxy in front of it.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402  (after patching, as gevent asks)
import resource  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

MAX_HEADER_BYTES = 64 * 1024
MAX_REQUEST_BODY = 1024 * 1024
READ_CHUNK = 64 * 1024
TRICKLE_STEP = 0.05  # seconds between two slices of a trickled body


def response_head(body_length: int) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {body_length}\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode("ascii")


class SlowUpstream:
    def __init__(self, body: bytes, latency: float, trickle: float = 0.0) -> None:
        self.latency = latency
        self.answer = memoryview(response_head(len(body)) + body)
        steps = max(1, round(trickle / TRICKLE_STEP))
        self.slice = -(-len(self.answer) // steps) if trickle > 0 else len(self.answer)

    def handle(self, sock: socket.socket, _address: tuple) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffered = b""
        try:
            while True:
                request, buffered = _read_request(sock, buffered)
                if request is None:
                    return
                gevent.sleep(self.latency)
                self._send(sock)
                if b"\r\nconnection: close" in request.lower():
                    return
        except OSError:
            return  # the client went away; nothing to clean up but the socket
        finally:
            sock.close()


    def _send(self, sock: socket.socket) -> None:
        for start in range(0, len(self.answer), self.slice):
            if start:
                gevent.sleep(TRICKLE_STEP)
            sock.sendall(self.answer[start:start + self.slice])


def _read_request(sock: socket.socket, buffered: bytes) -> tuple[bytes | None, bytes]:
    """One request's head (its body read and dropped) and what followed it, or None at EOF."""
    while b"\r\n\r\n" not in buffered:
        if len(buffered) > MAX_HEADER_BYTES:
            return None, b""
        chunk = sock.recv(READ_CHUNK)
        if not chunk:
            return None, b""
        buffered += chunk
    head, _, rest = buffered.partition(b"\r\n\r\n")
    length = _content_length(head)
    if length is None or length > MAX_REQUEST_BODY:
        return None, b""
    while len(rest) < length:
        chunk = sock.recv(READ_CHUNK)
        if not chunk:
            return None, b""
        rest += chunk
    return head, rest[length:]


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip()
            return int(value) if value.isdigit() else None
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, required=True, help="seconds before answering")
    parser.add_argument("--trickle", type=float, default=0.0,
                        help="seconds to spread the body over (0: all at once)")
    parser.add_argument("--body", type=Path, required=True, help="file holding the 200 body")
    args = parser.parse_args(argv)

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    upstream = SlowUpstream(args.body.read_bytes(), args.latency, args.trickle)
    server = StreamServer(("127.0.0.1", args.port), upstream.handle, backlog=4096)
    gevent.signal_handler(signal.SIGTERM, server.stop, 1)
    gevent.signal_handler(signal.SIGINT, server.stop, 1)
    server.start()
    sys.stdout.write(f"fake gemini listening on 127.0.0.1:{args.port}\n")
    sys.stdout.flush()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
