"""Medians with min–max of the runs, ratios within each repetition, the issue's targets.

Ratios are taken between contenders of the same repetition (minutes apart at most) and
only then summarised: on a shared, noisy machine that is what stays comparable.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

METRICS = (
    # key, heading, how to read it from a row
    ("rps", "req/s", lambda row: row["requests_per_second"]),
    ("mbps", "MB/s", lambda row: row["megabytes_per_second"]),
    ("p50", "p50 ms", lambda row: row["latency_ms"]["p50"]),
    ("p99", "p99 ms", lambda row: row["latency_ms"]["p99"]),
    ("errors", "errors", lambda row: sum(row["errors"].values())),
    ("cpu_ms", "proxy CPU ms/req", lambda row: row.get("cpu_ms_per_request")),
    ("cpu_sys_ms", "of which system", lambda row: row.get("cpu_system_ms_per_request")),
    ("cpu_share", "proxy core busy", lambda row: row.get("cpu_share")),
    ("peak_rss", "proxy peak RSS MB", lambda row: row.get("peak_rss_mb")),
    ("rss_in_flight", "RSS MB per in-flight", lambda row: row.get("rss_per_in_flight_mb")),
    ("rss_in_flight_x", "RSS per in-flight ÷ answer",
     lambda row: row.get("rss_per_in_flight_answers")),
)

# Figures computed inside one repetition from two contenders' rows.
PAIRED = {
    "gateway_added_p50_ms": lambda c: c["gateway"]["latency_ms"]["p50"]
    - c["direct"]["latency_ms"]["p50"],
    "gateway_added_p99_ms": lambda c: c["gateway"]["latency_ms"]["p99"]
    - c["direct"]["latency_ms"]["p99"],
    "nginx_added_p50_ms": lambda c: c["nginx"]["latency_ms"]["p50"]
    - c["direct"]["latency_ms"]["p50"],
    "nginx_added_p99_ms": lambda c: c["nginx"]["latency_ms"]["p99"]
    - c["direct"]["latency_ms"]["p99"],
    "gateway_vs_nginx_rps": lambda c: _ratio(c, "gateway", "nginx", "requests_per_second"),
    "gateway_vs_nginx_mbps": lambda c: _ratio(c, "gateway", "nginx", "megabytes_per_second"),
    "gateway_vs_direct_rps": lambda c: _ratio(c, "gateway", "direct", "requests_per_second"),
    "nginx_vs_direct_rps": lambda c: _ratio(c, "nginx", "direct", "requests_per_second"),
}


@dataclass(frozen=True)
class Target:
    scenario: str
    figure: str
    source: str  # a PAIRED name, or "contender.metric"
    goal: str
    met: Callable[[float], bool]


TARGETS = (
    Target("S1", "added p50 vs direct (ms)", "gateway_added_p50_ms", "≤ 0.8", lambda v: v <= 0.8),
    Target("S1", "added p99 vs direct (ms)", "gateway_added_p99_ms", "—", lambda v: True),
    Target("S2", "req/s ÷ nginx", "gateway_vs_nginx_rps", "≥ 0.04", lambda v: v >= 0.04),
    Target("S3", "MB/s ÷ nginx", "gateway_vs_nginx_mbps", "≥ 0.40", lambda v: v >= 0.40),
    Target("S3", "gateway CPU ms per 2 MB response", "gateway.cpu_ms", "≤ 3",
           lambda v: v <= 3),
    Target("S4", "req/s ÷ direct (1,000 connections)", "gateway_vs_direct_rps", "≥ 0.97",
           lambda v: v >= 0.97),
    Target("S4", "p99 (ms)", "gateway.p99", "≤ 2200", lambda v: v <= 2200),
    Target("S4", "peak RSS (MB)", "gateway.peak_rss", "≤ 200", lambda v: v <= 200),
    Target("S5", "peak RSS (MB), 100 in flight × 8 MB", "gateway.peak_rss", "≤ 300",
           lambda v: v <= 300),
    Target("S5", "RSS per in-flight response (MB)", "gateway.rss_in_flight", "—",
           lambda v: True),
    # Issue 8: the native generateContent path.
    Target("N1", "added p50 vs direct (ms)", "gateway_added_p50_ms", "≤ 1.5", lambda v: v <= 1.5),
    Target("N1", "added p99 vs direct (ms)", "gateway_added_p99_ms", "—", lambda v: True),
    Target("N3", "answers/s ÷ nginx relaying the same bytes", "gateway_vs_nginx_rps", "≥ 0.30",
           lambda v: v >= 0.30),
    Target("N3", "gateway CPU ms per 2 MB answer", "gateway.cpu_ms", "≤ 4", lambda v: v <= 4),
    Target("N5", "peak RSS (MB), 100 in flight × 8 MB", "gateway.peak_rss", "≤ 300",
           lambda v: v <= 300),
    Target("N5", "answers/s ÷ direct", "gateway_vs_direct_rps", "—", lambda v: True),
    Target("N6", "RSS per in-flight request ÷ its answer bytes (n=4 × 2 MB)",
           "gateway.rss_in_flight_x", "≤ 2", lambda v: v <= 2),
    Target("N6", "RSS per in-flight request (MB)", "gateway.rss_in_flight", "—",
           lambda v: True),
)


def spread(values: list[float | None]) -> dict | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return {"median": statistics.median(present), "min": min(present), "max": max(present),
            "n": len(present)}


def summarise(rows: list[dict]) -> dict:
    """{scenario: {"contenders": {name: {metric: spread}}, "paired": {name: spread}}}."""
    summary: dict = {}
    for scenario in dict.fromkeys(row["scenario"] for row in rows):
        mine = [row for row in rows if row["scenario"] == scenario]
        contenders = {}
        for name in dict.fromkeys(row["contender"] for row in mine):
            theirs = [row for row in mine if row["contender"] == name]
            contenders[name] = {key: spread([read(row) for row in theirs])
                                for key, _, read in METRICS}
        by_rep: dict[int, dict] = {}
        for row in mine:
            by_rep.setdefault(row["repetition"], {})[row["contender"]] = row
        complete = [c for c in by_rep.values() if {"direct", "nginx", "gateway"} <= set(c)]
        paired = {name: spread([compute(c) for c in complete]) for name, compute in
                  PAIRED.items()}
        summary[scenario] = {"contenders": contenders, "paired": paired}
    return summary


def target_rows(summary: dict) -> list[dict]:
    results = []
    for target in TARGETS:
        figures = summary.get(target.scenario)
        if figures is None:
            continue
        if "." in target.source:
            contender, metric = target.source.split(".")
            value = figures["contenders"].get(contender, {}).get(metric)
        else:
            value = figures["paired"].get(target.source)
        results.append({
            "scenario": target.scenario, "figure": target.figure, "goal": target.goal,
            "value": value, "met": None if value is None else target.met(value["median"]),
        })
    return results


def fmt(value: dict | None, digits: int = 2) -> str:
    """``median (min–max)``; a single run shows its value alone."""
    if value is None:
        return "—"
    median = _number(value["median"], digits)
    if value["n"] == 1 or value["min"] == value["max"]:
        return median
    return f"{median} ({_number(value['min'], digits)}–{_number(value['max'], digits)})"


def _number(value: float, digits: int) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ratio(contenders: dict, top: str, bottom: str, field: str) -> float | None:
    denominator = contenders[bottom][field]
    return contenders[top][field] / denominator if denominator else None
