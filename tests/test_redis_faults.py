"""Redis down, slow or restarted: the gateway keeps answering on per-process state, says
so in /readyz and (rate limited) in the log, and goes back to Redis by itself."""

import logging
import time

import pytest
import responses

from app import redis_link
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL
from tests.redis_server import RedisServer, free_port

AUTH = {"Authorization": "Bearer client-token-one-xyz"}


@pytest.fixture
def upstream():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(IMAGES_URL, json=gemini.images())
        yield mock


@pytest.fixture
def warnings(caplog):
    logging.getLogger("gateway").addHandler(caplog.handler)
    caplog.set_level(logging.WARNING, logger="gateway")
    yield lambda: [r.getMessage() for r in caplog.records if r.name == "gateway.redis"]
    logging.getLogger("gateway").removeHandler(caplog.handler)


@pytest.fixture
def short_pause(monkeypatch):
    monkeypatch.setattr(redis_link, "PAUSE_AFTER_FAILURE", 0.2)


def generate(client):
    return client.post("/v1/images/generations", json={"prompt": "x"}, headers=AUTH)


def test_without_redis_requests_go_on_and_readyz_says_degraded(make_app, upstream, warnings):
    client = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                      CLIENT_RATE_LIMIT=100).test_client()
    assert [generate(client).status_code for _ in range(5)] == [200] * 5
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "degraded"
    assert body["reason"].startswith("Redis unavailable (ConnectionError)")
    assert len(warnings()) == 1  # rate limited: one line, not one per call


def test_a_stalled_redis_costs_a_bounded_time(make_app, upstream, tmp_path):
    server = RedisServer(tmp_path).start()
    try:
        client = make_app(REDIS_URL=server.url).test_client()
        assert generate(client).status_code == 200
        server.process.send_signal(19)  # SIGSTOP: connections open, no answers
        started = time.monotonic()
        assert [generate(client).status_code for _ in range(3)] == [200] * 3
        assert time.monotonic() - started < 1.5  # one timeout (0.25 s), then local state
        server.process.send_signal(18)  # SIGCONT
    finally:
        server.stop()


def test_a_restarted_redis_is_used_again(make_app, upstream, tmp_path, warnings, short_pause):
    server = RedisServer(tmp_path).start()
    try:
        client = make_app(REDIS_URL=server.url).test_client()
        assert client.get("/readyz").get_json()["status"] == "ready"
        server.stop()
        assert [generate(client).status_code for _ in range(3)] == [200] * 3
        assert client.get("/readyz").get_json()["status"] == "degraded"
        server.start()
        time.sleep(0.3)
        assert generate(client).status_code == 200
        assert client.get("/readyz").get_json()["status"] == "ready"
        assert generate(client).status_code == 200
        assert any("answers again" in line for line in warnings())
        with server.client() as raw:
            assert raw.hlen(b"gateway:keys:stats") > 0  # in use again
    finally:
        server.stop()
