"""The whole run: repetitions × scenarios × contenders (interleaved), profiles, results."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import profile
from .gateway import Credentials
from .machine import describe
from .markdown import render
from .measure import check_answer, load_options, measure
from .memory_stages import measure_stages
from .processes import LOAD_CORE, PROXY_CORE, can_pin, raise_open_files_limit
from .report import summarise, target_rows
from .scenarios import Scenario, select
from .stack import CONTENDERS, running_stack
from .wrk import run_wrk

RESULTS = Path(__file__).with_name("results")
PROFILED = ("S2", "S3", "S4", "S5", "N1", "N3", "N5", "N6")
MEMORY_TRACED = ("S3", "S5", "N3", "N5", "N6")


@dataclass(frozen=True)
class Options:
    repetitions: int
    quick: bool
    only: str | None
    label: str
    profile: bool
    budget_s: float  # no new measurement starts after this many seconds


# A scenario that fails this way is recorded and the run goes on with the next one.
_MEASUREMENT_ERRORS = (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError)


class OutOfTime(Exception):
    pass


def run(options: Options) -> int:
    _stop_cleanly_on_sigterm()
    missing = [tool for tool in ("nginx", "wrk") if shutil.which(tool) is None]
    if missing:
        say(f"missing: {', '.join(missing)} (make bench installs them)")
        return 2
    if not can_pin():
        say("warning: taskset or a second core is missing; nothing is pinned")
    say(f"open files limit: {raise_open_files_limit()}")
    scenarios = select(options.only, quick_mode=options.quick)
    credentials = Credentials.generate()
    deadline = time.monotonic() + options.budget_s
    results: dict = {"label": options.label, "machine": describe(), "quick": options.quick,
                     "repetitions": options.repetitions,
                     "cores": {"proxy": PROXY_CORE, "load": LOAD_CORE},
                     "scenarios": [asdict(s) for s in scenarios], "failures": []}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        work = Path(tmp)
        # nginx workers run as another user unless root; they read the bodies from here.
        os.chmod(work, 0o755)  # noqa: S103
        try:
            for repetition in range(options.repetitions):
                for scenario in scenarios:
                    _repetition(scenario, repetition, options, work, credentials, deadline,
                                rows, results["failures"])
            results["memory_stages"] = _memory_stages(scenarios)
            if options.profile:
                results["profiles"] = {
                    s.id: _profile(s, options, work, credentials, deadline)
                    for s in scenarios if s.id in PROFILED}
        except OutOfTime:
            say("time budget spent: writing what was measured")
            results["failures"].append("time budget spent before the end")
    results["load_average_at_end"] = os.getloadavg()
    results["runs"] = rows
    results["summary"] = summarise(rows)
    results["targets"] = target_rows(results["summary"])
    _write(results, scenarios, options.label, credentials)
    return 1 if results["failures"] else 0


def _repetition(scenario: Scenario, repetition: int, options: Options, work: Path,
                credentials: Credentials, deadline: float, rows: list[dict],
                failures: list[str]) -> None:
    _check_time(deadline)
    # Each contender goes first in turn, so no one always follows the same neighbour.
    order = CONTENDERS[repetition % 3:] + CONTENDERS[:repetition % 3]
    try:
        with running_stack(scenario, work / f"{scenario.id}-{repetition}", credentials) as stack:
            for name in order:
                _check_time(deadline)
                contender = stack.contenders[name]
                check_answer(contender, stack, credentials.client_token)
                row = measure(contender, scenario, credentials.client_token)
                row.update(scenario=scenario.id, repetition=repetition, contender=name)
                rows.append(row)
                say(f"{scenario.id} rep {repetition + 1}/{options.repetitions} {name:8}"
                    f"{_headline(row)}")
    except _MEASUREMENT_ERRORS as error:
        failures.append(f"{scenario.id} rep {repetition + 1}: {error}")
        say(f"{scenario.id} rep {repetition + 1} FAILED: {error}")


def _profile(scenario: Scenario, options: Options, work: Path, credentials: Credentials,
             deadline: float) -> dict:
    """A separate gateway-only run under py-spy, so profiling never touches the figures."""
    _check_time(deadline)
    if profile.py_spy() is None:
        return {"error": "py-spy is not installed (pip install -e '.[bench]')"}
    out = RESULTS / f"{options.label}-profile-{scenario.id}.collapsed"
    seconds = int(scenario.duration)
    try:
        with running_stack(scenario, work / f"{scenario.id}-profile", credentials) as stack:
            gateway = stack.contenders["gateway"]
            check_answer(gateway, stack, credentials.client_token)
            with profile.recording(gateway.proxy_pid, seconds, out):
                time.sleep(0.5)  # py-spy attaches before the load starts
                run_wrk(gateway.url, token=credentials.client_token,
                        **load_options(scenario, seconds))
    except _MEASUREMENT_ERRORS as error:
        say(f"{scenario.id} profile FAILED: {error}")
        return {"error": str(error)}
    summary = profile.summarise(profile.read_collapsed(out, main_thread=gateway.proxy_pid))
    summary["busy_share"] = summary["samples"] / (seconds * profile.SAMPLE_RATE)
    summary["file"] = out.name
    say(f"{scenario.id} profile: {summary['samples']} samples; top layers "
        + ", ".join(f"{name} {share:.0%}" for name, share in summary["layers"][:4]))
    return summary


def _memory_stages(scenarios: tuple[Scenario, ...]) -> dict:
    """One large answer traced in-process: the copies behind the memory figures."""
    stages = {}
    for scenario in scenarios:
        if scenario.id in MEMORY_TRACED:
            try:
                stages[scenario.id] = measure_stages(scenario)
            except RuntimeError as error:
                stages[scenario.id] = {"error": str(error)}
                continue
            say(f"{scenario.id} memory: one answer peaks at "
                f"{stages[scenario.id]['request_peak']:.1f}x its body size")
    return stages


def _headline(row: dict) -> str:
    text = (f"{row['requests_per_second']:9.1f} req/s {row['megabytes_per_second']:8.1f} MB/s"
            f"  p50 {row['latency_ms']['p50']:8.2f} ms  p99 {row['latency_ms']['p99']:8.2f} ms")
    errors = sum(row["errors"].values())
    if errors:
        text += f"  errors {errors}"
    if row.get("cpu_ms_per_request") is not None:
        text += (f"  cpu {row['cpu_ms_per_request']:.3f} ms/req"
                 f"  peak RSS {row['peak_rss_mb']:.0f} MB")
    return text


def _write(results: dict, scenarios: tuple[Scenario, ...], label: str,
           credentials: Credentials) -> None:
    texts = {f"{label}.json": json.dumps(results, indent=1) + "\n",
             f"{label}.md": render(results, scenarios)}
    # Results get committed: make sure no made-up key or token found its way in.
    secrets = (*credentials.gemini_keys, credentials.client_token)
    if any(secret in text for text in texts.values() for secret in secrets):
        raise RuntimeError("a key or token reached the results; nothing written")
    RESULTS.mkdir(exist_ok=True)
    for name, text in texts.items():
        (RESULTS / name).write_text(text)
    json_path, markdown_path = RESULTS / f"{label}.json", RESULTS / f"{label}.md"
    say(f"wrote {markdown_path.relative_to(RESULTS.parent.parent)} and {json_path.name}")
    sys.stdout.write("\n" + markdown_path.read_text())


def _check_time(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise OutOfTime


def _stop_cleanly_on_sigterm() -> None:
    # SystemExit unwinds through every ExitStack, so each started process is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def say(message: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()
