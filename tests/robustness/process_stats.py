"""What a gunicorn gateway's log and /proc say about its workers."""

from __future__ import annotations

import re
from pathlib import Path

_BOOTING = re.compile(r"Booting worker with pid: (\d+)")


def booted_workers(log_text: str) -> list[int]:
    """Every worker the master started, in order; more than WEB_CONCURRENCY means a restart."""
    return [int(pid) for pid in _BOOTING.findall(log_text)]


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields
