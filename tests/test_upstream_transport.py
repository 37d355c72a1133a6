"""The sockets upstream calls go out on: a receive buffer sized for answers of megabytes,
only where the kernel grants it whole."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.config import Settings
from app.upstream import transport
from app.upstream.client import build_session

NO_NAGLE = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
BIG_BUFFER = (socket.SOL_SOCKET, socket.SO_RCVBUF, transport.RECEIVE_BUFFER)


def test_the_receive_buffer_is_asked_for_where_the_kernel_grants_it():
    assert transport.socket_options(rmem_max=4 << 20) == [NO_NAGLE, BIG_BUFFER]
    assert transport.socket_options(rmem_max=transport.RECEIVE_BUFFER) == [NO_NAGLE, BIG_BUFFER]


def test_below_the_kernel_cap_the_kernel_keeps_sizing_the_buffer_itself():
    # The Linux default cap (208 KiB): asking would shrink the buffer, not grow it.
    assert transport.socket_options(rmem_max=212992) == [NO_NAGLE]
    assert transport.socket_options(rmem_max=0) == [NO_NAGLE]


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connection stays open to be looked at

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_real_upstream_connection_gets_the_buffer_this_kernel_grants(loopback_server):
    settings = Settings.from_environ({"GEMINI_API_KEYS": "AIzaTestKeyAlpha0000000000000001"})
    session = build_session(settings)
    url = loopback_server + "/v1beta/models/m:generateContent"
    response = transport.send(session, "POST", url, payload={"contents": []},
                              auth=lambda request: request, timeout=(5, 5))
    assert response.status_code == 200
    connection = response.raw.connection
    granted = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    response.raw.read()
    response.close()
    session.close()
    if transport._read_rmem_max() >= transport.RECEIVE_BUFFER:
        assert granted >= transport.RECEIVE_BUFFER  # Linux doubles what it was asked for
    else:
        assert granted < transport.RECEIVE_BUFFER  # left to the kernel's own sizing


def test_calls_to_a_host_keep_working_past_the_pool_managers_host_limit(loopback_server):
    settings = Settings.from_environ({"GEMINI_API_KEYS": "AIzaTestKeyAlpha0000000000000001"})
    session = build_session(settings)
    others = [ThreadingHTTPServer(("127.0.0.1", 0), _Answer) for _ in range(5)]
    for server in others:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def call(root: str) -> int:
        response = transport.send(session, "POST", root + "/v1beta/models/m:generateContent",
                                  payload={"contents": []}, auth=lambda request: request,
                                  timeout=(5, 5))
        response.raw.read()
        response.close()
        return response.status_code

    try:
        assert call(loopback_server) == 200
        assert call(loopback_server) == 200
        # More hosts than the manager keeps (pool_connections=4): the first host drops out
        # of it, and the next call there must still get a working pool.
        for server in others:
            assert call(f"http://127.0.0.1:{server.server_address[1]}") == 200
        assert call(loopback_server) == 200
    finally:
        for server in others:
            server.shutdown()
            server.server_close()
        session.close()
