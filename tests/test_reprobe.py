"""Keys out of rotation for reasons that heal come back after a cheap re-probe."""

import pytest
import requests
import responses

from app.config import Settings
from app.key_pool import KeyPool, KeyState
from app.keys.reprobe import Reprober
from tests.conftest import BASE, KEYS

MODEL_URL = "https://gemini.test/v1beta/models/gemini-nano-banana-2.1"
SERVICE_DISABLED = ("SERVICE_DISABLED: Generative Language API has not been used in project "
                    "123 before or it is disabled.")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def reprober(pool, clock=None, spawned=None, interval="600"):
    settings = Settings.from_environ({"GEMINI_API_KEYS": ",".join(KEYS),
                                      "GEMINI_BASE_URL": BASE, "KEY_REPROBE_INTERVAL": interval})
    return Reprober(pool, requests.Session(), settings, monotonic=clock or Clock(),
                    spawn=(spawned.append if spawned is not None else lambda target: target()))


def test_the_probe_goes_to_the_native_root_even_from_the_seed_url():
    assert reprober(KeyPool(KEYS)).url == MODEL_URL  # BASE ends in /openai


def test_a_healed_key_returns_and_a_still_refused_one_stays(upstream):
    pool = KeyPool(KEYS)
    pool.disable(KEYS[0], SERVICE_DISABLED)
    pool.disable(KEYS[1], "BILLING_DISABLED: billing account closed")
    upstream.get(MODEL_URL, match=[responses.matchers.header_matcher(
        {"x-goog-api-key": KEYS[0]})], json={"name": "models/gemini-nano-banana-2.1"})
    upstream.get(MODEL_URL, match=[responses.matchers.header_matcher(
        {"x-goog-api-key": KEYS[1]})], status=403, json={"error": {"code": 403}})
    assert reprober(pool).run_once() == ["…0001"]
    assert pool.state_of(KEYS[0]) is KeyState.ACTIVE
    assert pool.state_of(KEYS[1]) is KeyState.OUT_OF_ROTATION
    for call in upstream.calls:
        assert "key=" not in call.request.url and "Authorization" not in call.request.headers


@pytest.mark.parametrize("reason", [
    "API_KEY_INVALID: API key not valid. Please pass a valid API key.",
    "HTTP 403: Your API key was reported as leaked. Please use another API key.",
    "CONSUMER_SUSPENDED: Consumer 'api_key:…0001' has been suspended.",
    "disabled by an admin",
])
def test_keys_that_cannot_heal_are_never_probed(upstream, reason):
    pool = KeyPool(KEYS)
    pool.disable(KEYS[0], reason)
    assert reprober(pool).run_once() == []
    assert len(upstream.calls) == 0
    assert pool.state_of(KEYS[0]) is KeyState.OUT_OF_ROTATION


def test_a_round_starts_in_the_background_once_per_interval():
    clock, spawned = Clock(), []
    pool = KeyPool(KEYS)
    probe = reprober(pool, clock, spawned, interval="600")
    probe.poke()
    assert spawned == []  # not due yet
    clock.now += 600
    probe.poke()
    probe.poke()
    assert len(spawned) == 1
    spawned[0]()  # the round ends (nothing to probe)
    clock.now += 599
    probe.poke()
    assert len(spawned) == 1
    clock.now += 1
    probe.poke()
    assert len(spawned) == 2


def test_zero_interval_turns_re_probing_off():
    clock, spawned = Clock(), []
    probe = reprober(KeyPool(KEYS), clock, spawned, interval="0")
    clock.now += 10**6
    probe.poke()
    assert spawned == []
