"""S4 (slow upstream, 1000 connections) with and without REDIS_URL: what sharing the state
costs. ``python -m bench.redis_compare [--quick] [--repetitions N]``.

Two figures answer issue 12's targets:
- the gateway under wrk, one run without Redis and one with (order alternating per
  repetition, a fresh gateway each time): req/s and p50, with redis-server on the load core;
- the Redis work one request adds, timed in-process against the same redis-server: the
  calls a request makes (key check, slot lease with its key choice, success, release,
  usage) with Redis minus the same calls on per-process state.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .bodies import gemini_images
from .endpoints import GATEWAY_PATH
from .gateway import Credentials, gateway_service
from .measure import measure
from .processes import LOAD_CORE, LOOPBACK, Service, free_port, pinned, raise_open_files_limit
from .scenarios import SCENARIOS, quick
from .stack import Contender, _upstream_service

RESULTS = Path(__file__).with_name("results")
MICRO_ROUNDS = 3000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_compare")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repetitions", type=int, default=None)
    parser.add_argument("--label", default="redis-S4")
    args = parser.parse_args(argv)
    repetitions = args.repetitions or (1 if args.quick else 3)
    scenario = next(s for s in SCENARIOS if s.id == "S4")
    scenario = quick(scenario) if args.quick else scenario
    raise_open_files_limit()
    credentials = Credentials.generate()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-redis-") as tmp:
        work = Path(tmp)
        with _redis(work) as redis_url:
            for repetition in range(repetitions):
                order = ("plain", "redis") if repetition % 2 == 0 else ("redis", "plain")
                for mode in order:
                    row = _one_run(scenario, mode, redis_url, credentials,
                                   work / f"{mode}-{repetition}")
                    row.update(mode=mode, repetition=repetition)
                    rows.append(row)
                    say(f"S4 rep {repetition + 1}/{repetitions} {mode:5} "
                        f"{row['requests_per_second']:8.1f} req/s  "
                        f"p50 {row['latency_ms']['p50']:8.2f} ms  "
                        f"errors {sum(row['errors'].values())}")
            micro = _micro(redis_url)
    summary = _summary(rows, micro)
    _write(args.label, scenario, rows, summary, credentials)
    return 0


def _one_run(scenario, mode: str, redis_url: str, credentials: Credentials,
             work: Path) -> dict:
    work.mkdir(parents=True)
    body = gemini_images(scenario.body_bytes, scenario.images)
    with contextlib.ExitStack() as cleanup:
        upstream_port = free_port()
        upstream = _upstream_service(scenario, body, upstream_port, work / "upstream")
        cleanup.callback(upstream.stop)
        upstream.start(upstream_port)
        port = free_port()
        gateway = gateway_service(port, upstream_port, credentials, work / "gateway.log")
        if mode == "redis":
            # A prefix per run: no state from the previous run is read back.
            gateway.env.update(REDIS_URL=redis_url, REDIS_PREFIX=f"bench-{work.name}:")
        cleanup.callback(gateway.stop)
        gateway.start(port)
        contender = Contender(f"gateway ({mode})", f"http://{LOOPBACK}:{port}{GATEWAY_PATH}",
                              gateway.worker_pid())
        _check(contender, credentials.client_token, scenario.latency + 30)
        return measure(contender, scenario, credentials.client_token)


def _check(contender: Contender, token: str, timeout: float) -> None:
    connection = http.client.HTTPConnection(LOOPBACK, int(contender.url.split(":")[2]
                                                          .split("/")[0]), timeout=timeout)
    try:
        connection.request("POST", GATEWAY_PATH, body=json.dumps({"prompt": "a lighthouse"}),
                           headers={"Content-Type": "application/json",
                                    "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"{contender.name}: HTTP {response.status}")


@contextlib.contextmanager
def _redis(work: Path):
    port = free_port()
    service = Service("redis", pinned(LOAD_CORE, [
        "redis-server", "--port", str(port), "--bind", LOOPBACK, "--save", "",
        "--appendonly", "no", "--dir", str(work)]), work / "redis.log")
    service.start(port)
    try:
        yield f"redis://{LOOPBACK}:{port}/0"
    finally:
        service.stop()


def _micro(redis_url: str) -> dict:
    """Seconds of the state work of one request, with Redis and with per-process state."""
    from app.auth import TokenChecker
    from app.client_limits import ClientLimits
    from app.key_pool import KeyPool
    from app.keys.redis_states import RedisStates
    from app.redis_link import RedisLink
    from app.upstream.redis_slots import RedisSlots
    from app.upstream.slots import LocalSlots

    keys = ("bench-key-aaaaaaaa0001", "bench-key-bbbbbbbb0002")
    (client,) = TokenChecker(["bench-client-token-0001"]).clients
    link = RedisLink(redis_url, "bench-micro:")
    setups = {
        "plain": (KeyPool(keys), LocalSlots(1000), ClientLimits(0, 0)),
        "redis": (KeyPool(keys, shared=RedisStates(link, keys)),
                  RedisSlots(link, 1000, 305.0), ClientLimits(0, 0, link)),
    }
    timings = {}
    for mode, (pool, slots, limits) in setups.items():
        samples = []
        for _ in range(MICRO_ROUNDS):
            started = time.perf_counter()
            # As UpstreamClient.call does it: with Redis the slot comes with the first key.
            limits.check(client)
            pool.check_available()
            pick = pool.pick_call()
            lease = slots.acquire(1.0, pick=pick)
            key = pool.chosen_with_slot(getattr(lease, "picked", None)) if pick else None
            key = key or pool.acquire()
            pool.record_success(key)
            slots.release(lease)
            limits.record(client, 1, None, key="…0001")
            samples.append(time.perf_counter() - started)
        timings[mode] = {"p50_ms": 1000 * statistics.median(samples),
                         "mean_ms": 1000 * statistics.fmean(samples)}
    link.close()
    return timings


def _summary(rows: list[dict], micro: dict) -> dict:
    def median(mode: str, pick) -> float:
        return statistics.median(pick(r) for r in rows if r["mode"] == mode)

    rps = {m: median(m, lambda r: r["requests_per_second"]) for m in ("plain", "redis")}
    p50 = {m: median(m, lambda r: r["latency_ms"]["p50"]) for m in ("plain", "redis")}
    cpu = {m: median(m, lambda r: r.get("cpu_ms_per_request") or 0.0) for m in ("plain", "redis")}
    return {
        "requests_per_second": rps, "p50_ms": p50, "cpu_ms_per_request": cpu,
        "rps_ratio": rps["redis"] / rps["plain"] if rps["plain"] else None,
        "added_p50_ms": p50["redis"] - p50["plain"],
        "micro": micro,
        "micro_added_p50_ms": micro["redis"]["p50_ms"] - micro["plain"]["p50_ms"],
    }


def _paired(rows: list[dict]) -> list[float]:
    """req/s with Redis over without, for each repetition (the two ran back to back)."""
    ratios = []
    for repetition in sorted({r["repetition"] for r in rows}):
        pair = {r["mode"]: r["requests_per_second"] for r in rows
                if r["repetition"] == repetition}
        if pair.get("plain"):
            ratios.append(pair["redis"] / pair["plain"])
    return ratios


def _write(label: str, scenario, rows: list[dict], summary: dict,
           credentials: Credentials) -> None:
    s = summary
    lines = [
        f"# S4 with and without REDIS_URL ({label})", "",
        f"{scenario.connections} connections, upstream latency {scenario.latency:g} s, "
        f"{scenario.duration:g} s a run, {len(rows) // 2} repetition(s), medians; one "
        "gunicorn worker, MAX_CONCURRENT=1000, redis-server on the load core. On a machine "
        "other jobs share, compare the CPU per request: req/s follows whatever else runs.",
        "",
        "| | req/s | p50 ms | gateway CPU ms/request |", "|---|---|---|---|",
        *(f"| {m} | {s['requests_per_second'][m]:.1f} | {s['p50_ms'][m]:.2f} | "
          f"{s['cpu_ms_per_request'][m]:.3f} |" for m in ("plain", "redis")), "",
        f"- req/s with Redis / without: **{s['rps_ratio']:.3f}** (target ≥ 0.95); within "
        "each repetition: " + ", ".join(f"{r:.2f}" for r in _paired(rows)),
        f"- p50 added under load: **{s['added_p50_ms']:+.2f} ms**",
        f"- state work of one request, in-process, {MICRO_ROUNDS} rounds: "
        f"{s['micro']['plain']['p50_ms']:.3f} ms per-process, "
        f"{s['micro']['redis']['p50_ms']:.3f} ms with Redis: "
        f"**{s['micro_added_p50_ms']:+.3f} ms added** (target ≤ 1 ms)", "",
    ]
    texts = {f"{label}.md": "\n".join(lines),
             f"{label}.json": json.dumps({"rows": rows, "summary": summary}, indent=1) + "\n"}
    for text in texts.values():
        if any(secret in text for secret in (*credentials.gemini_keys, credentials.client_token)):
            raise RuntimeError("a key or token reached the results; nothing written")
    for name, text in texts.items():
        (RESULTS / name).write_text(text)
    sys.stdout.write("\n" + texts[f"{label}.md"])


def say(message: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
