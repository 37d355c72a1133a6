"""What the figures were measured on: machine, software versions, commit, load."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def describe() -> dict:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": _output(["git", "rev-parse", "--short", "HEAD"]),
        "uncommitted_changes": bool(_output(["git", "status", "--porcelain", "--", "app",
                                             "gunicorn.conf.py", "bench", "pyproject.toml"])),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "nginx": _output(["nginx", "-v"]).removeprefix("nginx version: "),
        "wrk": _output(["wrk", "--version"]).split(" [")[0],
        "load_average_at_start": os.getloadavg(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    # nginx -v and wrk --version speak on stderr; wrk exits 1 after printing it.
    text = done.stdout.strip() or done.stderr.strip()
    return text.splitlines()[0] if text else ""
