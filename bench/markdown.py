"""The results as Markdown: targets first, then every contender's figures, then profiles."""

from __future__ import annotations

from .report import METRICS, fmt
from .scenarios import Scenario


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
        "## Targets (issue 5)",
        "",
        "| scenario | figure | gateway | target | met |",
        "|---|---|---|---|---|",
    ]
    for row in results["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[row["met"]] if row["goal"] != "—" else ""
        lines.append(f"| {row['scenario']} | {row['figure']} | {fmt(row['value'])} | "
                     f"{row['goal']} | {met} |")
    lines += ["", "## Every contender", ""]
    for scenario in scenarios:
        figures = results["summary"].get(scenario.id)
        if figures is None:
            continue
        lines += [
            f"### {scenario.id} {scenario.title}: {scenario.upstream} upstream, "
            f"{scenario.body_bytes // 1024:,} KiB body (n={scenario.images}), "
            f"{scenario.connections:,} connection(s), {scenario.duration:g} s",
            "",
            "| contender | " + " | ".join(heading for _, heading, _ in METRICS) + " |",
            "|---|" + "---|" * len(METRICS),
        ]
        for name, metrics in figures["contenders"].items():
            cells = [fmt(metrics[key], 3 if key in ("cpu_ms", "cpu_sys_ms", "rss_in_flight") else 2)
                     for key, _, _ in METRICS]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        paired = {name: value for name, value in figures["paired"].items() if value}
        if paired:
            lines += ["", "Within each repetition: " + "; ".join(
                f"{name.replace('_', ' ')} {fmt(value)}" for name, value in paired.items())
                + "."]
        lines.append("")
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
        "| function with callees | share |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = max(len(profile["layers"]), len(profile["self"]), len(profile["inclusive"]))
    for i in range(min(rows, 12)):
        cells = []
        for column in ("layers", "self", "inclusive"):
            entries = profile[column]
            name, share = entries[i] if i < len(entries) else ("", None)
            cells += [f"`{name}`" if name and column != "layers" else name,
                      f"{share:.1%}" if share is not None else ""]
        lines.append("| " + " | | ".join(" | ".join(cells[j:j + 2]) for j in (0, 2, 4)) + " |")
    return [*lines, ""]


def _load(average: tuple[float, ...]) -> str:
    return " / ".join(f"{value:.2f}" for value in average)
