"""Figures the robustness suites print at the end of the pytest run (terminal summary),
whether or not output capture is on."""

from __future__ import annotations

LINES: list[str] = []


def record(line: str) -> None:
    LINES.append(line)
