"""Images delivered as clients ask, through real gunicorn with gevent workers against the
loopback fake Gemini: url answers (disk and Redis stores), and stream=true in the Python
and Node openai SDKs, keep-alives, and a client that leaves mid-stream."""

import json
import os
import re
import socket
import time

import openai
import requests

from tests import gemini_bodies as gemini
from tests.conftest import TOKENS
from tests.integration.fake_gemini import Paced, Reply
from tests.integration.node_sdk import node_lines
from tests.integration.python_clients import langchain_dalle_url
from tests.redis_server import redis_server  # noqa: F401 - the fixture

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
IMAGE = gemini.jpeg_bytes(64, 64)  # what the fake's default answers hold
_ACCESS = re.compile(r"\[(\d+)\] gateway\.access \[[^\]]+\] (\w+) (\S+) (\d+)")


def generate(gateway, **params):
    """``images.generate`` of the Python SDK, its client closed afterwards (a stream is
    read whole first)."""
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=TOKENS[0],
                       max_retries=0) as client:
        result = client.images.generate(**params)
        return list(result) if params.get("stream") else result


def native(start_gateway, tmp_path, **env):
    env.setdefault("IMAGE_STORE_DIR", str(tmp_path / "images"))
    return start_gateway(UPSTREAM_API="gemini", **env)


def access_lines(gateway):
    """(pid, method, path, status) of every access line so far."""
    return [(int(m[1]), m[2], m[3], int(m[4])) for m in _ACCESS.finditer(gateway.output())]


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_url_answer_is_fetched_without_a_token_and_expires(start_gateway, tmp_path):
    gateway = native(start_gateway, tmp_path)
    result = generate(gateway, prompt="a fox", response_format="url")
    [item] = result.data
    assert item.b64_json is None and item.url.startswith(gateway.url + "/v1/images/files/")
    fetched = requests.get(item.url, timeout=10)  # a plain GET: no Authorization
    assert fetched.status_code == 200 and fetched.content == IMAGE
    assert fetched.headers["Content-Type"] == "image/jpeg"

    # LangChain's DallEAPIWrapper itself: its default model dall-e-2, no response_format.
    url = langchain_dalle_url(gateway.url + "/v1", TOKENS[0], "a fox")
    assert url.startswith(gateway.url + "/v1/images/files/")
    assert requests.get(url, timeout=10).content == IMAGE

    name = item.url.rpartition("/")[2]
    past = time.time() - 3601
    os.utime(tmp_path / "images" / name, (past, past))
    expired = requests.get(item.url, timeout=10)
    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "image_not_found"


def test_forwarded_proto_is_trusted_only_from_forwarded_allow_ips(start_gateway, tmp_path):
    body = {"prompt": "a fox", "response_format": "url"}
    headers = AUTH | {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    strict = native(start_gateway, tmp_path, FORWARDED_ALLOW_IPS="10.9.9.9")
    url = requests.post(strict.url + "/v1/images/generations", json=body, headers=headers,
                        timeout=30).json()["data"][0]["url"]
    assert url.startswith(f"http://127.0.0.1:{strict.port}/")
    trusting = native(start_gateway, tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1")
    url = requests.post(trusting.url + "/v1/images/generations", json=body, headers=headers,
                        timeout=30).json()["data"][0]["url"]
    assert url.startswith(f"https://127.0.0.1:{trusting.port}/")  # never evil.example


def test_python_sdk_streams_partials_and_completed_events(start_gateway, fake_gemini,
                                                          tmp_path):
    fake_gemini.behaviour = lambda call: Paced(gap=0.05, drafts=2)
    gateway = native(start_gateway, tmp_path)
    events = generate(gateway, prompt="a fox", stream=True, partial_images=2)
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"]
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    completed = events[-1]
    assert completed.usage.output_tokens > 0 and completed.size == "64x64"
    assert completed.b64_json and completed.output_format == "jpeg"
    call = fake_gemini.calls[-1]
    assert call.path.endswith(":streamGenerateContent") and call.params["alt"] == ["sse"]
    assert call.body["generationConfig"]["thinkingConfig"] == {"includeThoughts": True}

    events = generate(gateway, prompt="a fox", stream=True, n=2)
    assert [e.type for e in events] == ["image_generation.completed"] * 2
    assert "thinkingConfig" not in fake_gemini.calls[-1].body["generationConfig"]


def test_keep_alives_flow_and_a_client_that_leaves_frees_its_slot(start_gateway, fake_gemini,
                                                                  tmp_path):
    fake_gemini.behaviour = lambda call: (Paced(gap=4, drafts=1) if "stream" in call.path
                                          else Reply())
    gateway = native(start_gateway, tmp_path, MAX_CONCURRENT=1, QUEUE_TIMEOUT=8,
                     STREAM_KEEPALIVE=1)
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as client:
        body = json.dumps({"prompt": "a fox", "stream": True, "partial_images": 1}).encode()
        client.sendall(b"POST /v1/images/generations HTTP/1.1\r\nHost: x\r\n"
                       b"Authorization: Bearer " + TOKENS[0].encode() + b"\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        sent_at = time.monotonic()
        received = b""
        while b": keep-alive" not in received:
            received += client.recv(65536)
        # The first byte goes out after one interval, not two (Heroku's router wants one
        # within 30 s; the default interval is 15 s).
        assert time.monotonic() - sent_at < 1.8
        while received.count(b": keep-alive") < 2:
            received += client.recv(65536)
        assert received.startswith(b"HTTP/1.1 200")
        assert b"text/event-stream" in received and b"X-Accel-Buffering: no" in received
        assert b"data:" not in received  # the draft is 4 s away: only keep-alives so far
        assert b"Cache-Control: no-cache" in received
    left_at = time.monotonic()
    # The stream's only slot is free at once: a plain request gets it (else it would wait
    # for the first call's 12 s answer, past QUEUE_TIMEOUT).
    response = requests.post(gateway.url + "/v1/images/generations",
                             json={"prompt": "another"}, headers=AUTH, timeout=30)
    assert response.status_code == 200
    assert time.monotonic() - left_at < 3
    assert wait_for(lambda: "client_gone=true" in gateway.output())
    line = next(x for x in gateway.output().splitlines() if "client_gone=true" in x)
    assert " 499 " in line
    metrics = requests.get(gateway.url + "/metrics", timeout=10).text
    assert 'route="/v1/images/generations",status="499"' in metrics.replace(
        'method="POST",', "")


def test_two_workers_serve_each_others_urls_through_redis(start_gateway, tmp_path,
                                                          redis_server):  # noqa: F811
    gateway = native(start_gateway, tmp_path, IMAGE_STORE="redis",
                     REDIS_URL=redis_server.url, WEB_CONCURRENCY=2)
    url = generate(gateway, prompt="a fox", response_format="url").data[0].url
    assert wait_for(lambda: any(line[1] == "POST" for line in access_lines(gateway)))
    [maker] = [pid for pid, method, _, _ in access_lines(gateway) if method == "POST"]

    def file_servers():
        return [pid for pid, method, path, _ in access_lines(gateway)
                if method == "GET" and "/files/" in path]

    for fetches in range(1, 61):
        with requests.Session() as fresh:  # a new connection each time: any worker may take it
            fetched = fresh.get(url, timeout=10, headers={"Connection": "close"})
        assert fetched.status_code == 200 and fetched.content == IMAGE
        assert wait_for(lambda count=fetches: len(file_servers()) >= count)
        if set(file_servers()) - {maker}:
            break
    assert set(file_servers()) - {maker}, "every fetch was served by the worker that made it"


def test_node_sdk_streams_partial_images(start_gateway, fake_gemini, tmp_path):
    fake_gemini.behaviour = lambda call: Paced(gap=0.05, drafts=2)
    gateway = native(start_gateway, tmp_path)
    events = node_lines("stream.js", {"GATEWAY_URL": gateway.url,
                                      "GATEWAY_TOKEN": TOKENS[0]})
    assert [e["type"] for e in events] == ["image_generation.partial_image"] * 2 + [
        "image_generation.completed"]
    assert [e["index"] for e in events[:2]] == [0, 1]
    assert events[-1]["bytes"] == len(IMAGE) and events[-1]["usage"] > 0
