"""The soak's fake Gemini: a seeded mix of every way Gemini answers, and fails to.

Each upstream call draws its fault from a generator seeded by the client request's
prompt (``soak-<n>``) and the call's number for that prompt, so the mix is the same
run after run however threads interleave. It records what each request's calls got,
so the soak can tell a short body it must accept (a reset while relaying a large
answer) from one it must not.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, defaultdict

from tests import gemini_bodies as gemini
from tests.integration.fake_gemini import Action, Call, Drop, Reply, Stall, Trickle

# Large enough that the gateway relays it (its first read fills 256 KiB), as real 2K images are.
LARGE_ANSWER = json.dumps({"created": 1_790_000_000, "data": [
    {"b64_json": "QUJD" * 100_000}, {"b64_json": "REVG" * 100_000}]}).encode()
SMALL_ANSWER = json.dumps(gemini.images(2)).encode()
# Weights in per mille of the calls made with a regular key.
WEIGHTS = {
    "success": 520, "success_slow_start": 60, "success_large": 40, "reset_while_relaying": 20,
    "reset_mid_body": 20, "rate_limited": 60, "rate_limited_in_message": 20,
    "rate_limited_no_delay": 10, "overloaded_503": 70, "internal_500": 40, "dropped": 30,
    "slow_body": 20, "read_timeout": 20, "garbage_200": 20, "safety_filtered": 10,
    "bad_argument_400": 10, "model_not_found_404": 5, "empty_500": 5,
}
# Each 429 without any delay cools a key for the default minute: a few, or the soak
# would run out of keys and degenerate into 429s.
NO_DELAY_BUDGET = 6


class FaultMix:
    def __init__(self, seed: int, invalid_keys: dict[str, str], daily_quota_keys: set[str]):
        self.seed = seed
        self.invalid_keys = invalid_keys  # key -> "invalid" or "leaked"
        self.daily_quota_keys = daily_quota_keys
        self.faults: Counter[str] = Counter()
        self.by_prompt: dict[str, list[str]] = defaultdict(list)
        self._no_delay_left = NO_DELAY_BUDGET
        self._lock = threading.Lock()
        self._names = list(WEIGHTS)
        self._weights = list(WEIGHTS.values())

    def __call__(self, call: Call) -> Action:
        prompt = str((call.body or {}).get("prompt", ""))
        with self._lock:
            attempt = len(self.by_prompt[prompt])
            fault = self._fault_for(call.key, random.Random(f"{self.seed}/{prompt}/{attempt}"))
            self.by_prompt[prompt].append(fault)
            self.faults[fault] += 1
        return self._action(fault, random.Random(f"{self.seed}/{prompt}/{attempt}/action"))

    def _fault_for(self, key: str, rng: random.Random) -> str:
        if key in self.invalid_keys:
            return f"key_{self.invalid_keys[key]}"
        if key in self.daily_quota_keys:
            return "daily_quota"
        fault = rng.choices(self._names, self._weights)[0]
        if fault == "rate_limited_no_delay":
            if self._no_delay_left == 0:
                return "success"
            self._no_delay_left -= 1
        return fault

    @staticmethod
    def _action(fault: str, rng: random.Random) -> Action:
        quick = rng.uniform(0, 0.02)
        match fault:
            case "success":
                return Reply(body=json.dumps(gemini.images(rng.randint(1, 2))), delay=quick)
            case "success_slow_start":
                return Reply(body=SMALL_ANSWER, delay=rng.uniform(0.1, 0.4))
            case "success_large":
                return Reply(body=LARGE_ANSWER, delay=quick)
            case "reset_while_relaying":
                cut = rng.randint(300_000, len(LARGE_ANSWER) - 1000)
                return Drop(reset=True, after_bytes=cut, body=LARGE_ANSWER)
            case "reset_mid_body":
                return Drop(reset=True, after_bytes=rng.randint(1, len(SMALL_ANSWER) - 1),
                            body=SMALL_ANSWER)
            case "rate_limited":
                return Reply(429, gemini.rate_limited("0.2s", array=rng.random() < 0.5))
            case "rate_limited_in_message":
                return Reply(429, gemini.error(429, "RESOURCE_EXHAUSTED",
                                               "Quota exceeded. Please retry in 0.3s."))
            case "rate_limited_no_delay":
                return Reply(429, gemini.rate_limited(None))
            case "daily_quota":
                return Reply(429, gemini.rate_limited("20s", daily=True))
            case "key_invalid":
                return Reply(400, gemini.invalid_key(array=rng.random() < 0.5))
            case "key_leaked":
                return Reply(403, gemini.leaked_key())
            case "overloaded_503":
                return Reply(503, gemini.overloaded(), delay=quick)
            case "internal_500":
                return Reply(500, gemini.internal())
            case "empty_500":
                return Reply(500, b"", content_type="text/html")
            case "dropped":
                return Drop(reset=rng.random() < 0.5)
            case "slow_body":
                return Trickle(SMALL_ANSWER, interval=0.3 / len(SMALL_ANSWER))
            case "read_timeout":
                return Stall(limit=10)
            case "garbage_200":
                return Reply(body="<html><body>502 Bad Gateway</body></html>",
                             content_type="text/html")
            case "safety_filtered":
                return Reply(body=json.dumps({"created": 1_790_000_000, "data": []}))
            case "bad_argument_400":
                return Reply(400, gemini.error(400, "INVALID_ARGUMENT",
                                               "Request contains an invalid argument."))
            case "model_not_found_404":
                return Reply(404, gemini.error(404, "NOT_FOUND", "models/x is not found"))
        raise AssertionError(f"no action for {fault}")
