"""The results as Markdown: targets first, then every contender's figures, then profiles."""

from __future__ import annotations

from .report import METRICS, fmt
from .scenarios import Scenario

_DIGITS = {"errors": 0, "cpu_ms": 3, "cpu_sys_ms": 3, "rss_in_flight": 3,
           "rss_in_flight_x": 3}


def render(results: dict, scenarios: tuple[Scenario, ...]) -> str:
    machine = results["machine"]
    lines = [
        f"# Benchmark results: {results['label']}",
        "",
        f"{machine['date']}, commit `{machine['commit']}`"
        + (" (with uncommitted changes)" if machine["uncommitted_changes"] else "")
        + f"; {machine['cpus']} × {machine['cpu_model']}, Linux {machine['kernel']}, "
        f"Python {machine['python']}, nginx {machine['nginx']}, {machine['wrk']}. "
        f"Load average {_load(machine['load_average_at_start'])} at the start, "
        f"{_load(results['load_average_at_end'])} at the end.",
        "",
        f"{results['repetitions']} repetition(s), contenders interleaved in each; "
        "figures are `median (min–max)`. Proxy under test pinned to core "
        f"{results['cores']['proxy']}, wrk and the upstream to core {results['cores']['load']}."
        + (" **Quick mode: too short to quote.**" if results["quick"] else ""),
        "",
        "## Targets (issue 5: S, compat pass-through; issue 8: N, native generateContent)",
        "",
        "| scenario | figure | gateway | target | met |",
        "|---|---|---|---|---|",
    ]
    for row in results["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]] if row["goal"] != "—" else ""
        lines.append(f"| {row['scenario']} | {row['figure']} | {fmt(row['value'])} | "
                     f"{row['goal']} | {met} |")
    lines += [
        "", "## Every contender", "",
        "*proxy CPU ms/req*: utime + stime of the proxy's worker process over the requests "
        "wrk completed (with a slow upstream an upper bound: work on requests still in flight "
        "at the end counts, they do not). *proxy core busy*: CPU seconds per second. *proxy "
        "peak RSS*: VmHWM of the worker, reset before the run. *RSS per in-flight*: (peak − "
        "RSS before the run) ÷ connections; *÷ answer*: that over the bytes of one answer as "
        "the client got it (wrk's bytes ÷ requests). Native (N) scenarios: direct and nginx "
        "fetch one upstream answer per request as it is; the gateway makes n calls and "
        "answers OpenAI JSON built from them.",
        "",
    ]
    for scenario in scenarios:
        figures = results["summary"].get(scenario.id)
        if figures is None:
            continue
        body = (f"{scenario.images} call(s) × {scenario.body_bytes // 1024:,} KiB"
                if scenario.native else
                f"{scenario.body_bytes // 1024:,} KiB body (n={scenario.images})")
        lines += [
            f"### {scenario.id} {scenario.title}: {scenario.api}, {scenario.upstream} "
            f"upstream, {body}, {scenario.connections:,} connection(s), {scenario.duration:g} s",
            "",
            "| contender | " + " | ".join(heading for _, heading, _ in METRICS) + " |",
            "|---|" + "---|" * len(METRICS),
        ]
        for name, metrics in figures["contenders"].items():
            cells = [fmt(metrics[key], _DIGITS.get(key, 2)) for key, _, _ in METRICS]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        paired = {name: value for name, value in figures["paired"].items() if value}
        if paired:
            lines += ["", "Within each repetition: " + "; ".join(
                f"{name.replace('_', ' ')} {fmt(value)}" for name, value in paired.items())
                + "."]
        lines.append("")
    lines += _memory_stages(results.get("memory_stages", {}))
    for scenario_id, profile in results.get("profiles", {}).items():
        lines += _profile(scenario_id, profile)
    return "\n".join(lines).rstrip() + "\n"


def _profile(scenario_id: str, profile: dict) -> list[str]:
    if "error" in profile:
        return [f"## Profile {scenario_id}", "", f"Not recorded: {profile['error']}", ""]
    lines = [
        f"## Profile {scenario_id}: gateway worker, py-spy, {profile['samples']} busy samples "
        f"({profile['busy_share']:.0%} of the time busy)",
        "",
        f"Collapsed stacks: `{profile['file']}` (open in speedscope.app or flamegraph.pl).",
        "",
        "| layer (innermost) | share | | function itself (self) | share | "
        "| gateway call, with callees | share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = max(len(profile["layers"]), len(profile["self"]), len(profile["gateway_calls"]))
    for i in range(min(rows, 12)):
        cells = []
        for column in ("layers", "self", "gateway_calls"):
            entries = profile[column]
            name, share = entries[i] if i < len(entries) else ("", None)
            cells += [f"`{name}`" if name and column != "layers" else name,
                      f"{share:.1%}" if share is not None else ""]
        lines.append("| " + " | | ".join(" | ".join(cells[j:j + 2]) for j in (0, 2, 4)) + " |")
    return [*lines, ""]


def _memory_stages(stages: dict) -> list[str]:
    if not stages:
        return []
    lines = [
        "## Memory of one answer, stage by stage (tracemalloc, in-process)",
        "",
        "In multiples of what Gemini sent for one request (native: n bodies): the peak during "
        "each stage, and what is still held when it ends.",
        "",
        "| body | stage | peak | held after |",
        "|---|---|---|---|",
    ]
    for scenario_id, traced in stages.items():
        if "error" in traced:
            lines.append(f"| {scenario_id} | not measured: {traced['error']} | | |")
            continue
        calls = traced.get("calls", 1)
        body = (f"{scenario_id}: {traced['body_bytes'] / 1e6:.1f} MB, n={traced['images']}"
                + (f" ({calls} calls)" if calls > 1 else ""))
        for stage in traced["stages"]:
            lines.append(f"| {body} | {stage['stage']} | {stage['peak']:.2f}× | "
                         f"{stage['held_after']:.2f}× |")
            body = ""
    return [*lines, ""]


def _load(average: tuple[float, ...]) -> str:
    return " / ".join(f"{value:.2f}" for value in average)
