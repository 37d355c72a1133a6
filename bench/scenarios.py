"""The five scenarios of issue 5, and how long each measurement runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    body_bytes: int  # the upstream's 200 body
    images: int  # `n` asked for, and images in the body
    connections: int
    duration: float  # seconds of each measurement
    latency: float = 0.0  # seconds; 0 = nginx serves the body, else the slow fake Gemini
    warmup: float = 1.0  # seconds of load before measuring (zero-latency scenarios only)

    @property
    def slow(self) -> bool:
        return self.latency > 0

    @property
    def upstream(self) -> str:
        return f"fake Gemini, {self.latency:g} s" if self.slow else "nginx static, 0 s"


SCENARIOS = (
    Scenario("S1", "overhead", 64 * KIB, 1, connections=1, duration=10),
    Scenario("S2", "small throughput", 64 * KIB, 1, connections=32, duration=10),
    Scenario("S3", "large bodies", 2 * MIB, 1, connections=16, duration=10),
    Scenario("S4", "slow upstream", 16 * KIB, 1, connections=1000, duration=16, latency=2.0),
    Scenario("S5", "heavy in-flight", 8 * MIB, 4, connections=100, duration=12, latency=2.0),
)


def quick(scenario: Scenario) -> Scenario:
    """Short enough to check that everything works, too short to quote."""
    return replace(scenario, duration=6 if scenario.slow else 3, warmup=0.5)


def select(ids: str | None, *, quick_mode: bool) -> tuple[Scenario, ...]:
    chosen = SCENARIOS
    if ids:
        wanted = {part.strip().upper() for part in ids.split(",") if part.strip()}
        unknown = wanted - {s.id for s in SCENARIOS}
        if unknown:
            raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        chosen = tuple(s for s in SCENARIOS if s.id in wanted)
    return tuple(quick(s) for s in chosen) if quick_mode else chosen
