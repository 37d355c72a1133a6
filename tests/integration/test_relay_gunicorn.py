"""Large answers relayed through real gunicorn, and a client that leaves while queued."""

import json
import socket
import threading
import time

import pytest
import requests

from tests.conftest import TOKENS
from tests.integration.fake_gemini import Drop, Reply

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def big_answer(images=4, size=600_000):
    return json.dumps({"created": 1_790_000_000,
                       "data": [{"b64_json": "QUJD" * (size // 4)} for _ in range(images)]})


def test_large_answer_arrives_intact(start_gateway, fake_gemini, sdk):
    body = big_answer()
    fake_gemini.behaviour = lambda call: Reply(body=body)
    gateway = start_gateway()
    response = requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x", "n": 4},
                             headers=AUTH, timeout=30)
    assert response.status_code == 200
    assert response.content == body.encode()
    assert response.headers["Content-Length"] == str(len(body))
    client = sdk(gateway, TOKENS[0], max_retries=0)
    result = client.images.generate(prompt="x", n=4)
    assert len(result.data) == 4
    time.sleep(0.2)
    assert "images=4" in gateway.output()


@pytest.mark.parametrize("reset", [False, True])
def test_break_while_relaying_ends_the_response_short_and_frees_the_slot(
        start_gateway, fake_gemini, reset):
    body = big_answer().encode()
    fake_gemini.behaviour = lambda call: Drop(after_bytes=len(body) // 2, body=body, reset=reset)
    gateway = start_gateway(MAX_CONCURRENT=1)
    # A reset often discards what the gateway had not read yet, before relaying began:
    # then the client gets a clean 502. Otherwise its body ends short. Never a whole 200.
    try:
        response = requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                                 headers=AUTH, timeout=30)
        cut_short = False
    except requests.exceptions.RequestException:
        cut_short = True
    if not reset:
        assert cut_short
    elif not cut_short:
        assert response.status_code == 502
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    fake_gemini.behaviour = lambda call: Reply()
    # The only slot is free again and the worker is unharmed.
    response = requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                             headers=AUTH, timeout=10)
    assert response.status_code == 200
    if cut_short:
        assert "relayed answer cut short" in gateway.output()


def test_client_leaving_while_queued_costs_no_upstream_call(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=1.5)
    gateway = start_gateway(MAX_CONCURRENT=1)
    holder = threading.Thread(target=lambda: requests.post(
        gateway.url + "/v1/images/generations", json={"prompt": "first"}, headers=AUTH,
        timeout=30))
    holder.start()
    deadline = time.monotonic() + 10
    while fake_gemini.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.02)

    body = b'{"prompt": "nobody will see this"}'
    leaver = socket.create_connection(("127.0.0.1", gateway.port), timeout=5)
    leaver.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
                   + f"Authorization: Bearer {TOKENS[0]}\r\n".encode()
                   + b"Content-Type: application/json\r\n"
                   + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    time.sleep(0.3)  # queued behind the first request
    leaver.close()
    holder.join(timeout=30)
    time.sleep(0.5)
    assert [call.body["prompt"] for call in fake_gemini.calls] == ["first"]
    assert " 499 " in gateway.output()


def test_a_client_that_stops_reading_loses_its_slot_at_the_deadline(start_gateway, fake_gemini):
    from tests.integration.fake_gemini import Flood

    # Far more than the kernel buffers between gateway and client hold: the relay blocks.
    fake_gemini.behaviour = lambda call: (
        Flood(total=48 << 20, prefix=b'{"created": 1, "data": [{"b64_json": "')
        if call.body["prompt"] == "big" else Reply())
    gateway = start_gateway(MAX_CONCURRENT=1, REQUEST_DEADLINE=3, QUEUE_TIMEOUT=20,
                            UPSTREAM_CONNECT_TIMEOUT=2)
    staller = socket.socket()
    staller.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small
    staller.settimeout(10)
    staller.connect(("127.0.0.1", gateway.port))
    body = b'{"prompt": "big"}'
    staller.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
                    + f"Authorization: Bearer {TOKENS[0]}\r\n".encode()
                    + b"Content-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    assert staller.recv(1024).startswith(b"HTTP/1.1 200")  # the relay began; now stop reading
    try:
        started = time.monotonic()
        # The only slot is the staller's until REQUEST_DEADLINE (3 s) has passed.
        response = requests.post(gateway.url + "/v1/images/generations",
                                 json={"prompt": "small"}, headers=AUTH, timeout=30)
        waited = time.monotonic() - started
        assert response.status_code == 200
        assert waited < 10  # not QUEUE_TIMEOUT (20 s): the slot came back
    finally:
        staller.close()
    time.sleep(0.3)
    assert "did not take" in gateway.output()
