import pytest

from app.errors import NoUsableKey, RateLimited
from app.key_pool import KeyPool, KeyState


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def pool_of(clock, *keys):
    return KeyPool(keys or ("key-aaaaaaaa1", "key-bbbbbbbb2", "key-cccccccc3"), clock=clock)


def test_round_robin_over_every_key(clock):
    pool = pool_of(clock)
    assert [pool.acquire() for _ in range(6)] == ["key-aaaaaaaa1", "key-bbbbbbbb2",
                                                   "key-cccccccc3"] * 2


def test_cooling_key_is_skipped_until_its_time_then_returns(clock):
    pool = pool_of(clock)
    pool.cool("key-bbbbbbbb2", clock.now + 30, "429")
    assert pool.state_of("key-bbbbbbbb2") is KeyState.COOLING
    assert [pool.acquire() for _ in range(4)] == ["key-aaaaaaaa1", "key-cccccccc3"] * 2
    clock.now += 30.001
    assert pool.state_of("key-bbbbbbbb2") is KeyState.ACTIVE
    assert "key-bbbbbbbb2" in {pool.acquire() for _ in range(3)}


def test_disabled_key_never_returns_until_enabled(clock):
    pool = pool_of(clock)
    pool.disable("key-aaaaaaaa1", "API_KEY_INVALID: API key not valid")
    clock.now += 10 * 86400
    assert "key-aaaaaaaa1" not in {pool.acquire() for _ in range(9)}
    assert pool.enable("…aaa1")
    assert "key-aaaaaaaa1" in {pool.acquire() for _ in range(3)}
    assert not pool.enable("…zzzz")


def test_exclude_skips_keys_already_tried(clock):
    pool = pool_of(clock)
    assert pool.acquire(exclude={"key-aaaaaaaa1", "key-bbbbbbbb2"}) == "key-cccccccc3"


def test_all_cooling_gives_retry_after_until_the_first_key_returns(clock):
    pool = pool_of(clock)
    pool.cool("key-aaaaaaaa1", clock.now + 50, "429")
    pool.cool("key-bbbbbbbb2", clock.now + 12.5, "429")
    pool.cool("key-cccccccc3", clock.now + 70, "429")
    with pytest.raises(RateLimited) as caught:
        pool.acquire()
    assert caught.value.retry_after == pytest.approx(12.5)
    assert caught.value.headers() == {"Retry-After": "13", "retry-after-ms": "12500"}


def test_mixed_disabled_and_cooling_is_a_rate_limit_not_an_outage(clock):
    pool = pool_of(clock)
    pool.disable("key-aaaaaaaa1", "leaked")
    pool.disable("key-bbbbbbbb2", "leaked")
    pool.cool("key-cccccccc3", clock.now + 5, "429")
    with pytest.raises(RateLimited):
        pool.acquire()
    with pytest.raises(RateLimited):
        pool.check_available()


def test_every_key_out_of_rotation_is_no_usable_key(clock):
    pool = pool_of(clock)
    for key in ("key-aaaaaaaa1", "key-bbbbbbbb2", "key-cccccccc3"):
        pool.disable(key, "invalid")
    with pytest.raises(NoUsableKey):
        pool.acquire()


def test_check_available_takes_no_turn(clock):
    pool = pool_of(clock)
    pool.check_available()
    assert pool.acquire() == "key-aaaaaaaa1"


def test_a_longer_cooldown_is_not_shortened(clock):
    pool = pool_of(clock)
    pool.cool("key-aaaaaaaa1", clock.now + 100, "per-day")
    pool.cool("key-aaaaaaaa1", clock.now + 5, "per-minute")
    clock.now += 50
    assert pool.state_of("key-aaaaaaaa1") is KeyState.COOLING


def test_snapshot_is_masked_and_counts(clock):
    pool = pool_of(clock, "AIzaVerySecretKey9876")
    pool.acquire()
    pool.record_success("AIzaVerySecretKey9876")
    pool.record_failure("AIzaVerySecretKey9876", "upstream_5xx", "HTTP 503")
    (view,) = pool.snapshot()
    assert view["key"] == "…9876"
    assert "AIzaVerySecretKey9876" not in repr(pool.snapshot()) + repr(pool)
    assert (view["requests"], view["successes"], view["failures"]) == (1, 1, {"upstream_5xx": 1})
