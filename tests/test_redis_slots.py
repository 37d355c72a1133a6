"""RedisSlots against a real Redis: one cap for every process, leases that expire, a
queue in arrival order, waits bounded by the caller's timeout."""

import threading
import time

import pytest

from app.keys.redis_states import key_id
from app.redis_link import RedisLink
from app.upstream.redis_slots import LocalLease, RedisSlots
from tests.conftest import KEYS


@pytest.fixture
def slots(redis_server, redis_prefix):
    """RedisSlots as one worker builds them; call again for another worker."""
    links = []

    def build(limit=2, lease_seconds=30.0):
        links.append(RedisLink(redis_server.url, redis_prefix))
        return RedisSlots(links[-1], limit, lease_seconds)

    yield build
    for link in links:
        link.close()


def test_the_cap_holds_across_workers(slots):
    first, second = slots(), slots()
    a, b = first.acquire(1), second.acquire(1)
    assert a is not None and b is not None
    started = time.monotonic()
    assert first.acquire(0.2) is None and second.acquire(0.0) is None
    assert 0.18 <= time.monotonic() - started < 1.0  # bounded by the timeout given
    second.release(a)
    assert first.acquire(0.5) is not None
    assert first.in_use() == 2


def test_a_dead_holders_lease_expires(slots):
    first, second = slots(limit=1, lease_seconds=0.5), slots(limit=1, lease_seconds=0.5)
    assert first.acquire(1) is not None  # and never released: its worker was killed
    started = time.monotonic()
    assert second.acquire(3) is not None
    assert 0.3 < time.monotonic() - started < 1.5


def test_waiters_are_served_in_arrival_order(slots):
    holder = slots(limit=1)
    lease = holder.acquire(1)
    order: list[int] = []

    def wait(number: int) -> None:
        worker = slots(limit=1)
        got = worker.acquire(10)
        order.append(number)
        time.sleep(0.05)
        worker.release(got)

    threads = []
    for number in range(5):
        thread = threading.Thread(target=wait, args=(number,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each one queued before the next arrives
    holder.release(lease)
    for thread in threads:
        thread.join(15)
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_that_gives_up_leaves_the_queue(slots):
    holder, quitter, patient = slots(limit=1), slots(limit=1), slots(limit=1)
    lease = holder.acquire(1)
    assert quitter.acquire(0.1) is None
    holder.release(lease)
    assert patient.acquire(0.5) is not None  # not stuck behind the one who left


def test_without_redis_slots_come_from_this_process(slots):
    dead = RedisSlots(RedisLink("redis://127.0.0.1:1/0", "x:"), 1, 30.0)
    lease = dead.acquire(0.5)
    assert isinstance(lease, LocalLease)
    assert dead.acquire(0.1) is None  # the per-process cap still holds
    dead.release(lease)
    assert dead.acquire(0.1) is not None
    dead.link.close()


def test_what_a_worker_queued_for_redis_goes_out_when_it_exits(make_app, redis_server,
                                                              redis_prefix, monkeypatch,
                                                              tmp_path):
    import runpy
    from pathlib import Path
    from types import SimpleNamespace

    import dotenv
    import redis

    from app import redis_link

    monkeypatch.setattr(redis_link, "FLUSH_INTERVAL", 60.0)  # no flush before the exit
    app = make_app(REDIS_URL=redis_server.url, REDIS_PREFIX=redis_prefix)
    gateway = app.extensions["gateway"]
    key = KEYS[0]
    gateway.pool.record_success(key)  # a counter: it waits for the next flush
    stats, field = redis_prefix + "keys:stats", f"{key_id(key)}:successes"
    plain = redis.Redis.from_url(redis_server.url)
    assert plain.hget(stats, field) is None  # queued, not sent

    monkeypatch.setattr(dotenv, "load_dotenv", lambda *args, **kwargs: False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("GEMINI_API_KEYS", "k")
    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    conf["worker_exit"](None, SimpleNamespace(wsgi=app))
    assert plain.hget(stats, field) == b"1"
    plain.close()


def test_a_slot_given_back_wakes_this_workers_oldest_waiter_at_once(slots, monkeypatch):
    from app.upstream import redis_slots

    monkeypatch.setattr(redis_slots, "POLL_MIN", 1.0)  # a waiter left alone polls each second
    monkeypatch.setattr(redis_slots, "POLL_MAX", 1.0)
    worker = slots(limit=1)
    lease = worker.acquire(1)
    got: list[float] = []

    def wait() -> None:
        started = time.monotonic()
        if worker.acquire(5) is not None:
            got.append(time.monotonic() - started)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.1)  # queued, and pausing
    worker.release(lease)
    thread.join(5)
    assert got and got[0] < 0.5  # the release woke it: it did not wait out its pause


def test_the_link_reads_redis_answers_with_the_c_parser(redis_server, redis_prefix):
    # pyproject asks for redis[hiredis]: the benchmark's Redis figures rely on it.
    link = RedisLink(redis_server.url, redis_prefix)
    link.ping()
    connection = link.client.connection_pool.get_connection()
    try:
        assert type(connection._parser).__name__ == "_HiredisParser"
    finally:
        link.client.connection_pool.release(connection)
        link.close()
