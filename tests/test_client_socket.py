"""The check for a client that left while its request waited for a slot."""

import resource
import socket

import pytest

from app.client_socket import disconnect_check


@pytest.fixture
def connection():
    gateway_side, client_side = socket.socketpair()
    yield gateway_side, client_side
    gateway_side.close()
    client_side.close()


def test_no_socket_means_no_check():
    assert disconnect_check({}) is None


def test_connected_client_is_there(connection):
    gateway_side, _ = connection
    assert disconnect_check({"gunicorn.socket": gateway_side})() is False


def test_client_with_more_to_say_is_there(connection):
    gateway_side, client_side = connection
    client_side.sendall(b"GET /next HTTP/1.1\r\n")
    assert disconnect_check({"gunicorn.socket": gateway_side})() is False
    assert gateway_side.recv(100).startswith(b"GET /next")  # the peek consumed nothing


def test_closed_client_is_gone(connection):
    gateway_side, client_side = connection
    client_side.close()
    assert disconnect_check({"gunicorn.socket": gateway_side})() is True


def test_socket_timeout_is_restored(connection):
    gateway_side, _ = connection
    gateway_side.settimeout(7.5)
    disconnect_check({"gunicorn.socket": gateway_side})()
    assert gateway_side.gettimeout() == 7.5


def test_a_client_past_descriptor_1024_is_still_there():
    # A worker serving a thousand slow requests holds descriptors past select()'s limit;
    # a check built on select() called every such client gone (499 under load).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"the open-files limit ({hard}) is below 1200")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    filler = [socket.socket() for _ in range(1100)]
    gateway_side, client_side = socket.socketpair()
    try:
        assert gateway_side.fileno() > 1024
        assert disconnect_check({"gunicorn.socket": gateway_side})() is False
    finally:
        for sock in (*filler, gateway_side, client_side):
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
