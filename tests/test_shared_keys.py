"""Key states shared through a real Redis: what one worker learns, every worker knows."""

import time

import pytest
import responses

from app.errors import NoUsableKey, RateLimited
from app.key_pool import KeyPool, KeyState
from app.keys.redis_states import RedisStates
from app.redis_link import RedisLink
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, KEYS

ADMIN = "admin-token-abcdef0123456789"
SECRETS = ("AIzaTestSharedKeyAaaa0001", "AIzaTestSharedKeyBbbb0002", "AIzaTestSharedKeyCccc0003")


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def worker(redis_server, redis_prefix, clock):
    """A key pool as one worker builds it; call again for another worker or instance."""
    links = []

    def build(keys=SECRETS):
        links.append(RedisLink(redis_server.url, redis_prefix))
        return KeyPool(keys, clock=clock, shared=RedisStates(links[-1], keys))

    yield build
    for link in links:
        link.close()


def test_a_429_in_one_worker_cools_the_key_for_another(worker, clock):
    first, second = worker(), worker()
    first.cool(SECRETS[1], clock.now + 30, "RESOURCE_EXHAUSTED: quota")
    assert second.state_of(SECRETS[1]) is KeyState.COOLING
    assert SECRETS[1] not in {second.acquire() for _ in range(6)}
    clock.now += 31
    assert SECRETS[1] in {second.acquire() for _ in range(3)}


def test_disable_and_enable_reach_every_worker(worker):
    first, second = worker(), worker()
    first.disable(SECRETS[0], "API_KEY_INVALID: API key not valid")
    assert second.state_of(SECRETS[0]) is KeyState.OUT_OF_ROTATION
    assert second.enable("…0001")
    assert first.state_of(SECRETS[0]) is KeyState.ACTIVE


def test_rotation_is_one_round_robin_across_workers(worker):
    first, second = worker(), worker()
    picks = [(first if i % 2 else second).acquire() for i in range(6)]
    assert picks == list(SECRETS) * 2


def test_cooling_and_out_of_rotation_errors_come_from_the_shared_view(worker, clock):
    first, second = worker(), worker()
    for key in SECRETS[:2]:
        first.disable(key, "API_KEY_INVALID")
    first.cool(SECRETS[2], clock.now + 12.5, "429")
    with pytest.raises(RateLimited) as raised:
        second.acquire()
    assert raised.value.retry_after == pytest.approx(12.5)
    second.disable(SECRETS[2], "API_KEY_INVALID")
    with pytest.raises(NoUsableKey):
        first.check_available()


def test_counts_add_up_across_workers_and_no_key_reaches_redis(worker, redis_server):
    first, second = worker(), worker()
    first.acquire()
    second.acquire()
    first.record_success(SECRETS[0])
    second.record_failure(SECRETS[1], "upstream_5xx", "HTTP 503")
    second.disable(SECRETS[2], f"CONSUMER_SUSPENDED: Consumer 'api_key:{SECRETS[2]}' suspended")
    # Counts reach Redis with the writer's next flush, a few ms later.
    deadline = time.monotonic() + 2
    while True:
        views = {view["key"]: view for view in first.snapshot()}
        if views["…0002"]["failures"] or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    assert views["…0001"]["requests"] == 1 and views["…0001"]["successes"] == 1
    assert views["…0002"]["failures"] == {"upstream_5xx": 1}
    assert views["…0003"]["reason"] == "CONSUMER_SUSPENDED: Consumer 'api_key:…0003' suspended"
    with redis_server.client() as raw:
        stored = repr({key: raw.dump(key) for key in raw.scan_iter()})
    assert not any(secret in stored for secret in SECRETS)


def test_two_apps_share_admin_actions_and_key_choice(make_app, redis_server, redis_prefix):
    shared = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": redis_prefix, "ADMIN_TOKEN": ADMIN}
    a, b = make_app(**shared).test_client(), make_app(**shared).test_client()
    admin = {"Authorization": f"Bearer {ADMIN}"}
    disabled = a.post("/admin/keys/…0001/disable", headers=admin)
    assert disabled.status_code == 200 and disabled.get_json()["state"] == "out_of_rotation"
    listed = b.get("/admin/keys", headers=admin).get_json()
    assert listed["scope"] == "deployment"
    assert [k["state"] for k in listed["data"]] == ["out_of_rotation", "active"]
    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, json=gemini.images())
        for _ in range(3):
            assert b.post("/v1/images/generations", json={"prompt": "x"},
                          headers={"Authorization": "Bearer client-token-one-xyz"}
                          ).status_code == 200
        used = {c.request.headers["Authorization"].removeprefix("Bearer ") for c in upstream.calls}
    assert used == {KEYS[1]}
    assert b.post("/admin/keys/0001/enable", headers=admin).get_json()["state"] == "active"
    assert a.get("/admin/keys", headers=admin).get_json()["data"][0]["state"] == "active"
    assert b.post("/admin/keys/zzzz/disable", headers=admin).status_code == 404


def test_a_request_takes_its_slot_and_first_key_in_one_redis_call(make_app, redis_server,
                                                                  redis_prefix):
    import redis

    shared = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": redis_prefix}
    a, b = make_app(**shared).test_client(), make_app(**shared).test_client()
    plain = redis.Redis.from_url(redis_server.url)

    def script_calls() -> int:
        stats = plain.info("commandstats")
        return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0)
                   for name in ("evalsha", "eval"))

    def generate(client) -> None:
        assert client.post("/v1/images/generations", json={"prompt": "x"},
                           headers={"Authorization": "Bearer client-token-one-xyz"}
                           ).status_code == 200

    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, json=gemini.images())
        generate(a)
        generate(b)  # each app's first request also checks that a key is usable at all
        before = script_calls()
        for client in (a, b, a, b):
            generate(client)
        calls = script_calls() - before
        used = [c.request.headers["Authorization"].removeprefix("Bearer ")
                for c in upstream.calls]
    plain.close()
    assert calls == 4  # one a request: the slot and the key together
    assert used == [KEYS[0], KEYS[1]] * 3  # one rotation for both apps


def test_counts_between_two_flushes_reach_redis_added_up(redis_server, redis_prefix,
                                                           monkeypatch):
    import redis

    from app import redis_link
    from app.keys.redis_states import key_id

    monkeypatch.setattr(redis_link, "FLUSH_INTERVAL", 60.0)  # only the explicit flush sends
    link = RedisLink(redis_server.url, redis_prefix)
    states = RedisStates(link, SECRETS)
    plain = redis.Redis.from_url(redis_server.url)

    def calls(command: str) -> int:
        return plain.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)

    stats, key = redis_prefix + "keys:stats", key_id(SECRETS[0])
    before = calls("hincrby"), calls("hset")
    for second in range(50):
        states.record_success(0, 1000.0 + second)
    assert plain.hget(stats, f"{key}:successes") is None  # queued, not sent
    link.flush()
    sent = calls("hincrby") - before[0], calls("hset") - before[1]
    assert plain.hget(stats, f"{key}:successes") == b"50"
    assert plain.hget(stats, f"{key}:last_success_at") == b"1049.0"  # the last one noted
    assert sent == (1, 1)  # one command for fifty requests
    plain.close()
    link.close()
