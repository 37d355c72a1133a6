"""The gateway as deployed: real gunicorn with gevent workers, a fake Gemini on loopback."""

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
import requests

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Drop, Reply, Trickle
from tests.integration.gateway_process import run_to_exit

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


@pytest.fixture(params=["openai", "gemini"])
def either_api(start_gateway, request):
    """The gateway with either upstream API: both share keys, slots, retries and deadlines."""
    def start(**env):
        return start_gateway(**{"UPSTREAM_API": request.param, **env})
    return start


def generate(gateway, body=None, timeout=30, headers=AUTH):
    return requests.post(gateway.url + "/v1/images/generations",
                         json=body or {"prompt": "a lighthouse"}, headers=headers,
                         timeout=timeout)


def assert_openai_error(response, status):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_openai_sdk_generates_images_through_the_gateway(start_gateway, fake_gemini, sdk):
    fake_gemini.behaviour = lambda call: Reply(body=json.dumps(gemini.images(2)))
    gateway = start_gateway()
    client = sdk(gateway, TOKENS[1], max_retries=0)
    result = client.images.generate(model="gemini-2.5-flash-image", prompt="a lighthouse",
                                    n=2, size="1024x1024", response_format="b64_json")
    assert len(result.data) == 2
    assert base64.b64decode(result.data[0].b64_json).startswith(b"\x89PNG")
    (call,) = fake_gemini.calls
    assert call.key == KEYS[0]
    assert call.body == {"model": "gemini-2.5-flash-image", "prompt": "a lighthouse", "n": 2,
                         "size": "1024x1024", "response_format": "b64_json"}

    wrong = sdk(gateway, "wrong-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.images.generate(prompt="x")
    fake_gemini.behaviour = lambda call: Reply(429, gemini.rate_limited("30s"))
    with pytest.raises(openai.RateLimitError) as caught:
        client.images.generate(prompt="x")
    assert caught.value.code == "rate_limit_exceeded"
    assert len(fake_gemini.calls) == 3


def test_banner_names_address_key_count_and_auth(start_gateway):
    gateway = start_gateway()
    output = gateway.output()
    assert f"starting on http://127.0.0.1:{gateway.port}: 2 Gemini key(s), client auth ON" \
        in output


def test_parallel_requests_never_exceed_max_concurrent(either_api, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=0.3)
    gateway = either_api(MAX_CONCURRENT=3)
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: generate(gateway).status_code, range(16)))
    assert statuses == [200] * 16
    assert len(fake_gemini.calls) == 16
    assert fake_gemini.max_in_flight == 3


def test_rate_limited_key_is_skipped_for_its_cooldown(either_api, fake_gemini):
    limited_once = threading.Event()

    def behaviour(call):
        if call.key == KEYS[0] and not limited_once.is_set():
            limited_once.set()
            return Reply(429, gemini.rate_limited("1.5s"))
        return Reply()

    fake_gemini.behaviour = behaviour
    gateway = either_api()
    assert [generate(gateway).status_code for _ in range(4)] == [200] * 4
    assert fake_gemini.keys() == [KEYS[0], KEYS[1], KEYS[1], KEYS[1], KEYS[1]]
    time.sleep(1.6)
    for _ in range(2):
        assert generate(gateway).status_code == 200
    assert KEYS[0] in fake_gemini.keys()[5:]


def test_invalid_key_leaves_rotation(either_api, fake_gemini):
    fake_gemini.behaviour = lambda call: (
        Reply(400, gemini.invalid_key()) if call.key == KEYS[0] else Reply())
    gateway = either_api()
    assert [generate(gateway).status_code for _ in range(6)] == [200] * 6
    assert fake_gemini.keys().count(KEYS[0]) == 1
    assert "taken out of rotation" in gateway.output()
    assert f"…{KEYS[0][-4:]}" in gateway.output()


def test_5xx_is_retried_after_retry_delay_then_twice_that(either_api, fake_gemini):
    answers = iter([Reply(503, gemini.overloaded()), Reply(503, gemini.overloaded()), Reply()])
    fake_gemini.behaviour = lambda call: next(answers)
    gateway = either_api(RETRY_DELAY=400)
    assert generate(gateway).status_code == 200
    first, second, third = (call.at for call in fake_gemini.calls)
    assert {call.key for call in fake_gemini.calls} == {KEYS[0]}
    assert 0.4 <= second - first < 0.4 + 0.3
    assert 0.8 <= third - second < 0.8 + 0.3


@pytest.mark.parametrize("reset", [False, True])
def test_dropped_connection_is_a_clean_502_and_not_retried(either_api, fake_gemini, reset):
    fake_gemini.behaviour = lambda call: Drop(reset=reset)
    gateway = either_api(RETRY_DELAY=10)
    assert_openai_error(generate(gateway), 502)
    assert len(fake_gemini.calls) == 1
    fake_gemini.behaviour = lambda call: Reply()
    assert generate(gateway).status_code == 200


def test_break_mid_body_is_502(either_api, fake_gemini):
    fake_gemini.behaviour = lambda call: Drop(after_bytes=100)
    gateway = either_api()
    assert_openai_error(generate(gateway), 502)
    assert len(fake_gemini.calls) == 1


def test_read_timeout_is_504_and_not_retried(either_api, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=2)
    gateway = either_api(UPSTREAM_READ_TIMEOUT=0.5)
    started = time.monotonic()
    assert_openai_error(generate(gateway), 504)
    assert time.monotonic() - started < 1.8
    assert len(fake_gemini.calls) == 1


def test_request_deadline_stops_a_trickling_body(either_api, fake_gemini):
    # Each byte arrives well within the read timeout; only the deadline can end this.
    fake_gemini.behaviour = lambda call: Trickle(json.dumps(gemini.images()).encode(), 0.05)
    gateway = either_api(UPSTREAM_READ_TIMEOUT=1, REQUEST_DEADLINE=1.5,
                            UPSTREAM_CONNECT_TIMEOUT=1)
    started = time.monotonic()
    error = assert_openai_error(generate(gateway), 504)
    assert "REQUEST_DEADLINE" in error["message"]
    assert 1.4 <= time.monotonic() - started < 2.5


def test_60_mb_body_gets_a_413_answer(start_gateway, fake_gemini):
    gateway = start_gateway()
    response = requests.post(gateway.url + "/v1/images/generations", data=b"x" * (60 << 20),
                             headers={**AUTH, "Content-Type": "application/json"}, timeout=60)
    assert_openai_error(response, 413)
    assert fake_gemini.calls == []
    assert generate(gateway).status_code == 200


def test_missing_token_is_401_without_upstream_call(start_gateway, fake_gemini):
    gateway = start_gateway()
    response = generate(gateway, headers={})
    assert_openai_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert fake_gemini.calls == []


def test_missing_keys_stop_the_master_with_one_line():
    result = run_to_exit({"PORT": "8000"})
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert "GEMINI_API_KEYS" in output
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1


# A non-numeric WEB_CONCURRENCY is parsed by gunicorn itself when it imports its config
# module, before gunicorn.conf.py runs: its traceback is not ours to shorten (README).
@pytest.mark.parametrize(("name", "value"), [("MAX_CONCURRENT", "lots"), ("PORT", "-1"),
                                              ("RETRY_DELAY", "1s"), ("WEB_CONCURRENCY", "0")])
def test_bad_values_stop_the_master_naming_the_variable(name, value):
    result = run_to_exit({"GEMINI_API_KEYS": "k", name: value})
    assert result.returncode != 0
    output = (result.stdout + result.stderr).strip()
    assert name in output and "Traceback" not in output
    assert len(output.splitlines()) == 1


def test_every_bad_value_stops_the_master_at_once_one_line_each():
    result = run_to_exit({"GEMINI_API_KEYS": "k", "MAX_RETRIES": "many", "PORT": "http",
                          "LOG_FORMAT": "xml"})
    assert result.returncode == 2
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert [line.split(": ")[2].split()[0] for line in lines] == [
        "PORT", "MAX_RETRIES", "LOG_FORMAT"]


def test_a_body_that_drips_gets_a_408_and_the_connection_closed(start_gateway, fake_gemini):
    import socket

    gateway = start_gateway(CLIENT_BODY_TIMEOUT=1)
    body = b'{"prompt": "a lighthouse"}'
    dripper = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    started = time.monotonic()
    dripper.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
                    + f"Authorization: Bearer {TOKENS[0]}\r\n".encode()
                    + b"Content-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:5])
    answer = b""
    while chunk := dripper.recv(65536):  # ends when the gateway closes the connection
        answer += chunk
    dripper.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"request_timeout"' in answer
    assert 0.9 <= time.monotonic() - started < 5
    assert fake_gemini.calls == []
    assert generate(gateway).status_code == 200  # the worker is unharmed


def test_a_chunked_body_over_max_body_bytes_is_a_413(start_gateway, fake_gemini):
    gateway = start_gateway(MAX_BODY_BYTES=1024)

    def chunks():
        yield b'{"prompt": "x"}'
        for _ in range(8):
            yield b" " * 512  # valid JSON if cut at the limit

    response = requests.post(gateway.url + "/v1/images/generations", data=chunks(),
                             headers={**AUTH, "Content-Type": "application/json"}, timeout=30)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert_openai_error(response, 413)
    assert fake_gemini.calls == []
