"""One measurement: a contender under wrk, with its proxy's CPU time and memory."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

from .bodies import native_final_images
from .procstat import RssSampler, cpu_seconds, memory_kib, reset_peak
from .scenarios import Scenario
from .stack import Contender, Stack
from .wrk import LoadResult, run_wrk

MB = 1e6  # RSS is reported in MB (10^6 bytes), like the targets and MB/s


def check_answer(contender: Contender, stack: Stack, token: str) -> None:
    """One request by hand: a 200 carrying the upstream's images, or the run is meaningless."""
    url = urlsplit(contender.url)
    connection = http.client.HTTPConnection(url.hostname, url.port,
                                            timeout=stack.scenario.upstream_seconds + 30)
    try:
        body = json.dumps({"prompt": "a lighthouse", "n": stack.scenario.images})
        connection.request("POST", url.path, body=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{contender.name}: HTTP {response.status}: {answer[:300]!r}")
    if stack.scenario.native and contender.name != "gateway":
        if answer != stack.body:  # direct and nginx relay the native answer as it is
            raise RuntimeError(f"{contender.name}: the answer differs from the upstream's")
        return
    if stack.scenario.native:
        # n calls, each answering the same final image; the thought draft is dropped.
        sent = native_final_images(stack.body) * stack.scenario.images
    else:
        sent = [item["b64_json"] for item in json.loads(stack.body)["data"]]
    got = [item.get("b64_json") for item in json.loads(answer).get("data", [])]
    if got != sent:
        raise RuntimeError(f"{contender.name}: the images differ from the upstream's")


def measure(contender: Contender, scenario: Scenario, token: str) -> dict:
    """Warm up, then load ``contender`` for the scenario's duration; one row of results."""
    if scenario.warmup and not scenario.slow:
        # A slow scenario is not warmed up: leftover requests would still be in flight.
        _load(contender, scenario, token, duration=scenario.warmup)

    pid = contender.proxy_pid
    if pid is None:
        load = _load(contender, scenario, token)
        row = _load_row(load)
    else:
        rss_before = memory_kib(pid)["VmRSS"]
        peak_reset = reset_peak(pid)
        cpu_before = cpu_seconds(pid)
        with RssSampler(pid) as sampler:
            load = _load(contender, scenario, token)
        user, system = (after - before for after, before in zip(cpu_seconds(pid), cpu_before,
                                                                   strict=True))
        memory = memory_kib(pid)
        row = _load_row(load)
        peak_kib = memory["VmHWM"] if peak_reset else sampler.peak_kib
        answer_mb = load.bytes / load.requests / MB if load.requests else None
        rss_per_in_flight = (peak_kib - rss_before) * 1024 / MB / scenario.connections
        row.update(
            # Over completed requests: with a slow upstream, work done for requests still in
            # flight when wrk stops is counted too, so there it is an upper bound.
            cpu_ms_per_request=_per_request(user + system, load),
            cpu_user_ms_per_request=_per_request(user, load),
            cpu_system_ms_per_request=_per_request(system, load),
            cpu_share=(user + system) / load.seconds if load.seconds else None,
            rss_before_mb=rss_before * 1024 / MB,
            peak_rss_mb=peak_kib * 1024 / MB,
            sampled_peak_rss_mb=sampler.peak_kib * 1024 / MB,
            # What each outstanding request costs while the proxy holds it, in MB and in
            # multiples of the answer the client got (bytes read by wrk ÷ requests).
            rss_per_in_flight_mb=rss_per_in_flight,
            answer_mb=answer_mb,
            rss_per_in_flight_answers=rss_per_in_flight / answer_mb if answer_mb else None,
        )
    if scenario.slow:
        # Let the requests wrk abandoned at its end finish before anything else is measured.
        time.sleep(scenario.upstream_seconds + 1)
    return row


def _load(contender: Contender, scenario: Scenario, token: str,
          duration: float | None = None) -> LoadResult:
    return run_wrk(contender.url, token=token, **load_options(
        scenario, scenario.duration if duration is None else duration))


def load_options(scenario: Scenario, duration: float) -> dict:
    """wrk's settings for the scenario: with a slow upstream, first requests staggered."""
    return {"connections": scenario.connections, "duration": duration,
            "images": scenario.images,
            "stagger_ms": int(scenario.upstream_seconds * 1000),
            "timeout_s": max(10.0, 5 * scenario.upstream_seconds)}


def _per_request(cpu_seconds_used: float, load: LoadResult) -> float | None:
    return 1000 * cpu_seconds_used / load.requests if load.requests else None


def _load_row(load: LoadResult) -> dict:
    return {
        "requests": load.requests,
        "seconds": round(load.seconds, 3),
        "requests_per_second": load.requests_per_second,
        "megabytes_per_second": load.megabytes_per_second,
        "errors": load.errors,
        "latency_ms": load.latency_ms,
    }
