"""Fault-injection soak: 3,000 requests from 50 concurrent clients, some leaving early,
through real gunicorn with a gevent worker, against a fake Gemini that mixes every
success and failure it has (fault_mix.py), seeded.

Passes when every request ends with the answer its upstream story deserves, as a
success or a well-formed error (a short body only where a relayed answer broke); the
fake never sees more than MAX_CONCURRENT calls; every slot is free afterwards; no worker
restarted and its RSS stayed flat; only the keys that earned it left rotation; and no
key or token appears anywhere the gateway wrote.
"""

from __future__ import annotations

import random
import re
import string
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.redaction import mask
from tests import contract
from tests.integration.fake_gemini import Reply
from tests.robustness import process_stats, report
from tests.robustness.fault_mix import FaultMix
from tests.robustness.leak_audit import LeakAudit
from tests.robustness.soak_clients import PATH, Outcome, run_client

pytestmark = [pytest.mark.integration, pytest.mark.soak]

SEED = 20261125
REQUESTS = 3000
CLIENTS = 50
MAX_CONCURRENT = 8
RSS_GROWTH_LIMIT = 20_000_000  # bytes, from the first 500 requests to the end
_rng = random.Random(SEED)


def _secret(prefix: str, length: int) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return prefix + "".join(_rng.choice(alphabet) for _ in range(length - len(prefix)))


KEYS = [_secret("AIza", 39) for _ in range(40)]
INVALID = {KEYS[3]: "invalid", KEYS[17]: "invalid", KEYS[29]: "leaked"}
DAILY_QUOTA = {KEYS[8], KEYS[33]}
TOKENS = [_secret("gw-", 32) for _ in range(2)]
ADMIN = _secret("adm-", 32)

SUCCESS_FAULTS = {"success", "success_slow_start", "success_large", "slow_body"}
BAD_GATEWAY_FAULTS = {"reset_while_relaying", "reset_mid_body", "overloaded_503",
                      "internal_500", "empty_500", "dropped", "garbage_200"}
# What the last upstream call for a request says its answer must be.
DESERVED = {200: SUCCESS_FAULTS, 502: BAD_GATEWAY_FAULTS, 504: {"read_timeout"},
            400: {"safety_filtered", "bad_argument_400", None}, 404: {"model_not_found_404"}}


def gateway_env(fake_url: str) -> dict[str, str]:
    return {
        "GEMINI_API_KEYS": ",".join(KEYS), "PROXY_AUTH_KEYS": ",".join(TOKENS),
        "ADMIN_TOKEN": ADMIN, "GEMINI_BASE_URL": fake_url, "UPSTREAM_API": "openai",
        "MAX_CONCURRENT": str(MAX_CONCURRENT), "MAX_RETRIES": "2", "RETRY_DELAY": "20",
        "UPSTREAM_CONNECT_TIMEOUT": "1", "UPSTREAM_READ_TIMEOUT": "1",
        "REQUEST_DEADLINE": "5", "QUEUE_TIMEOUT": "10", "LOG_LEVEL": "info",
        "WEB_CONCURRENCY": "1",
    }


def problems_with(outcome: Outcome, mix: FaultMix, audit: LeakAudit) -> list[str]:
    """Why this request's ending is not the one it deserves (empty when it is)."""
    number = outcome.number
    story = mix.by_prompt.get(f"soak-{number}", [])
    last = story[-1] if story else None
    if outcome.kind == "left":
        return []
    if outcome.kind == "lost":
        return [f"#{number}: no answer at all ({outcome.problem}); upstream: {story}"]
    audit.scan_response(f"response #{number}", outcome.headers, outcome.body)
    if outcome.kind == "short":
        if outcome.status == 200 and last == "reset_while_relaying":
            return []  # headers were out: a body cut short is the only way to tell
        return [f"#{number}: {outcome.status} with a short body; upstream: {story}"]
    problems = contract.contract_violations("POST", PATH, outcome.status,
                                            dict(outcome.headers), outcome.body)
    if b"Traceback" in outcome.body:
        problems.append("a traceback in the body")
    deserved = DESERVED.get(outcome.status)
    if deserved is not None and last not in deserved:
        problems.append(f"{outcome.status} after upstream story {story}")
    if outcome.status not in DESERVED:
        # 429 (every key cooling) and 503 (no slot within QUEUE_TIMEOUT, no usable key)
        # have no cause in this mix: seeing one means keys or slots went missing.
        problems.append(f"status {outcome.status}")
    return [f"#{number}: {problem}" for problem in problems]


def test_soak_of_faults_slow_bodies_and_early_disconnects(fake, launch):
    mix = FaultMix(SEED, INVALID, DAILY_QUOTA)
    fake.behaviour = mix
    gateway = launch(gateway_env(fake.base_url))
    (worker,) = process_stats.booted_workers(gateway.output())
    audit = LeakAudit([*KEYS, *TOKENS, ADMIN])

    memory: dict[str, int] = {}
    finished = Counter()
    lock = threading.Lock()

    def client(number: int) -> Outcome:
        outcome = run_client(gateway.port, number, SEED, TOKENS[number % 2])
        with lock:
            finished["all"] += 1
            if finished["all"] == 500:
                memory["after_500"] = process_stats.memory_kib(worker)["VmRSS"] * 1024
        return outcome

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        outcomes = list(pool.map(client, range(REQUESTS)))
    seconds = time.monotonic() - started

    problems = [p for outcome in outcomes for p in problems_with(outcome, mix, audit)]
    assert problems == [], f"{len(problems)} requests ended wrongly, e.g.: {problems[:8]}"
    assert fake.max_in_flight == MAX_CONCURRENT, "the cap was exceeded, or never reached"

    # Every slot is free again: MAX_CONCURRENT requests at once are all served at once.
    _wait_until(lambda: fake.in_flight == 0, seconds=10)
    fake.behaviour = lambda call: Reply(delay=0.5)
    fake.reset_max_in_flight()
    burst, burst_seconds = _burst(gateway, TOKENS[0], MAX_CONCURRENT)
    assert [response.status_code for response in burst] == [200] * MAX_CONCURRENT
    assert fake.max_in_flight == MAX_CONCURRENT
    assert burst_seconds < 0.95, "some of the burst waited for a slot"

    memory["end"] = process_stats.memory_kib(worker)["VmRSS"] * 1024
    growth = memory["end"] - memory["after_500"]
    assert growth <= RSS_GROWTH_LIMIT

    output = gateway.output()
    assert process_stats.booted_workers(output) == [worker], "a worker was restarted"
    taken_out = set(re.findall(r"key (…\S{4}) taken out of rotation", output))
    assert taken_out == {mask(key) for key in INVALID}

    keys_page = requests.get(gateway.url + "/admin/keys", timeout=10,
                             headers={"Authorization": f"Bearer {ADMIN}"})
    metrics_page = requests.get(gateway.url + "/metrics", timeout=10)
    states = {view["key"]: view["state"] for view in keys_page.json()["data"]}
    assert {k for k, state in states.items() if state == "out_of_rotation"} == \
        {mask(key) for key in INVALID}
    assert all(states[mask(key)] == "cooling" for key in DAILY_QUOTA)
    for name, page in (("/admin/keys", keys_page), ("/metrics", metrics_page)):
        audit.scan_response(name, page.headers, page.content)
    for response in burst:
        audit.scan_response("burst", response.headers, response.content)
    gateway.stop()
    audit.scan("server output", gateway.output())
    assert audit.findings == []

    kinds = Counter(o.kind for o in outcomes)
    statuses = Counter(o.status for o in outcomes if o.kind == "answered")
    report.record(
        f"soak: {REQUESTS} requests, {CLIENTS} clients, {seconds:.0f} s; "
        f"answered {kinds['answered']} ("
        + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        + f"), short {kinds['short']} (reset while relaying), left early {kinds['left']}, "
        f"lost {kinds['lost']}")
    report.record(
        f"soak: {len(fake.calls)} upstream calls, max in flight {MAX_CONCURRENT}/"
        f"{MAX_CONCURRENT}; burst of {MAX_CONCURRENT} served in {burst_seconds:.2f} s; "
        f"worker RSS {memory['after_500'] / 1e6:.1f} -> {memory['end'] / 1e6:.1f} MB "
        f"({growth / 1e6:+.1f} MB); workers booted 1, restarts 0; out of rotation: "
        + ", ".join(sorted(taken_out)))
    report.record(f"soak leak audit: {audit.summary()}")
    report.record("soak upstream faults: " + ", ".join(
        f"{name} {count}" for name, count in mix.faults.most_common()))


def _burst(gateway, token: str, size: int):
    barrier = threading.Barrier(size)

    def one(_):
        barrier.wait(timeout=10)
        return requests.post(gateway.url + PATH, json={"prompt": "burst"}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"})

    started = time.monotonic()
    with ThreadPoolExecutor(size) as pool:
        responses = list(pool.map(one, range(size)))
    return responses, time.monotonic() - started


def _wait_until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the fake still has calls in flight"
        time.sleep(0.05)
