"""Two gateway instances (two gunicorn masters, two gevent workers each) sharing one
real Redis in front of the loopback fake Gemini: they behave as one gateway.

Assertions count what the fake saw (calls, keys, calls in flight), so they hold whichever
wire format the gateway speaks upstream.
"""

import contextlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Reply
from tests.redis_server import RedisServer

AUTH = {"Authorization": f"Bearer {TOKENS[0]}", "Connection": "close"}
ADMIN = "admin-token-abcdef0123456789"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def two_instances(start_gateway, redis):
    def start(**env):
        settings = {"REDIS_URL": redis.url, "WEB_CONCURRENCY": 2, "ADMIN_TOKEN": ADMIN, **env}
        return start_gateway(**settings), start_gateway(**settings)

    return start


def generate(gateway, timeout=30):
    return requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                         headers=AUTH, timeout=timeout)


def keys_seen(fake) -> list[str]:
    """The key of every call, as the fake read it from whichever header carried it."""
    return [call.key for call in fake.calls]


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_max_concurrent_holds_across_both_instances(two_instances, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=0.3)
    a, b = two_instances(MAX_CONCURRENT=3, QUEUE_TIMEOUT=30)
    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(lambda i: generate((a, b)[i % 2]).status_code, range(48)))
    assert statuses == [200] * 48
    assert len(fake_gemini.calls) == 48
    assert fake_gemini.max_in_flight == 3  # four workers, one cap


def test_a_429_on_one_instance_makes_the_other_avoid_the_key(two_instances, fake_gemini):
    def behaviour(call):
        if KEYS[0] in call.key:
            return Reply(429, gemini.rate_limited("60s"))
        return Reply()

    fake_gemini.behaviour = behaviour
    a, b = two_instances()
    while not any(KEYS[0] in key for key in keys_seen(fake_gemini)):  # until A met the 429
        assert generate(a).status_code == 200
    seen = len(fake_gemini.calls)
    for _ in range(8):  # both workers of B
        assert generate(b).status_code == 200
    assert all(KEYS[0] not in key for key in keys_seen(fake_gemini)[seen:])
    keys = requests.get(b.url + "/admin/keys", headers=ADMIN_AUTH, timeout=5).json()
    assert keys["scope"] == "deployment"
    assert keys["data"][0]["state"] == "cooling"


def test_disable_and_enable_through_one_instance_reach_the_other(two_instances, fake_gemini):
    a, b = two_instances()
    masked = "…" + KEYS[0][-4:]
    assert requests.post(f"{a.url}/admin/keys/{masked}/disable", headers=ADMIN_AUTH,
                         timeout=5).status_code == 200
    for _ in range(6):
        assert generate(b).status_code == 200
    assert all(KEYS[0] not in key for key in keys_seen(fake_gemini))
    assert requests.post(f"{a.url}/admin/keys/{masked}/enable", headers=ADMIN_AUTH,
                         timeout=5).status_code == 200
    for _ in range(6):
        assert generate(b).status_code == 200
    assert any(KEYS[0] in key for key in keys_seen(fake_gemini))


def test_a_killed_worker_gives_its_lease_back_within_the_lease_time(two_instances,
                                                                    fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=60 if len(fake_gemini.calls) == 1 else 0)
    # Lease = REQUEST_DEADLINE + 5 s = 7 s.
    a, b = two_instances(MAX_CONCURRENT=1, REQUEST_DEADLINE=2, UPSTREAM_CONNECT_TIMEOUT=1,
                          QUEUE_TIMEOUT=20)
    threading.Thread(target=lambda: _quietly(lambda: generate(a, timeout=5)),
                     daemon=True).start()
    assert wait_until(lambda: fake_gemini.in_flight == 1, 10)
    for pid in worker_pids(a.process.pid):
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    assert generate(b).status_code == 200
    waited = time.monotonic() - killed_at
    assert 3 < waited < 7 + 2, waited  # the lease outlived the worker, then expired


def test_redis_stopped_and_restarted_mid_run_loses_no_request(two_instances, fake_gemini,
                                                              redis):
    fake_gemini.behaviour = lambda call: Reply(delay=0.05)
    a, b = two_instances(MAX_CONCURRENT=4)
    stop = threading.Event()
    statuses: list[int] = []

    def load(gateway):
        while not stop.is_set():
            statuses.append(generate(gateway).status_code)

    with ThreadPoolExecutor(4) as pool:
        for gateway in (a, b, a, b):
            pool.submit(load, gateway)
        time.sleep(0.5)
        redis.stop()
        time.sleep(1.5)
        degraded = requests.get(a.url + "/readyz", timeout=5).json()
        redis.start()
        time.sleep(1.0)
        stop.set()
    assert degraded["status"] == "degraded"
    assert len(statuses) > 20 and set(statuses) == {200}
    for gateway in (a, b):  # every worker back on Redis by itself
        assert wait_until(lambda g=gateway: all(
            requests.get(g.url + "/readyz", headers={"Connection": "close"},
                         timeout=5).json()["status"] == "ready" for _ in range(4)), 10)
    with redis.client() as raw:
        assert raw.hlen(b"gateway:keys:stats") > 0


def _quietly(call):
    with contextlib.suppress(requests.RequestException):
        call()
