"""Load from wrk: one run, its figures read from the JSON line that post.lua prints."""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .processes import LOAD_CORE, pinned

SCRIPT = Path(__file__).with_name("post.lua")
_MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    bytes: int
    errors: dict[str, int]
    latency_ms: dict[str, float]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def megabytes_per_second(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def run_wrk(url: str, *, connections: int, duration: float, token: str, images: int,
            stagger_ms: int = 0, timeout_s: float = 10) -> LoadResult:
    """``connections`` keep-alive clients POSTing to ``url`` for ``duration`` seconds."""
    seconds = max(1, math.ceil(duration))
    command = pinned(LOAD_CORE, [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s:g}s",
        "-s", str(SCRIPT), url,
    ])
    # The token goes through the environment: never on a command line others can read.
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_N=str(images),
               BENCH_STAGGER_MS=str(stagger_ms), BENCH_CONNECTIONS=str(connections))
    finished = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + timeout_s + 30,
        stdin=subprocess.DEVNULL, check=False,
    )
    for line in finished.stdout.splitlines():
        if line.startswith(_MARKER):
            return _parse(json.loads(line[len(_MARKER):]))
    raise RuntimeError(
        f"wrk printed no result (exit {finished.returncode}): {finished.stderr.strip()[-500:]}"
    )


def _parse(raw: dict) -> LoadResult:
    return LoadResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        bytes=raw["bytes"],
        errors=raw["errors"],
        latency_ms={name: value / 1000 for name, value in raw["latency_us"].items()},
    )
