"""The scenarios: S1–S5 (issue 5, the compat pass-through) and N1–N6 (issue 8, native
``generateContent``), and how long each measurement runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    body_bytes: int  # the upstream's 200 body (native: of each of the n calls)
    images: int  # `n` asked for, and images in the answer
    connections: int
    duration: float  # seconds of each measurement
    latency: float = 0.0  # seconds; 0 = nginx serves the body, else the slow fake Gemini
    warmup: float = 1.0  # seconds of load before measuring (zero-latency scenarios only)
    native: bool = False  # the gateway calls :generateContent (UPSTREAM_API=gemini)
    trickle: float = 0.0  # seconds the slow fake Gemini spreads each body over, after latency

    @property
    def slow(self) -> bool:
        return self.latency > 0 or self.trickle > 0

    @property
    def upstream_seconds(self) -> float:
        """How long the upstream takes over one answer, first byte to last."""
        return self.latency + self.trickle

    @property
    def upstream(self) -> str:
        if not self.slow:
            return "nginx static, 0 s"
        trickled = f" + {self.trickle:g} s trickle" if self.trickle else ""
        return f"fake Gemini, {self.latency:g} s{trickled}"

    @property
    def api(self) -> str:
        return "native generateContent" if self.native else "compat pass-through"


SCENARIOS = (
    Scenario("S1", "overhead", 64 * KIB, 1, connections=1, duration=10),
    Scenario("S2", "small throughput", 64 * KIB, 1, connections=32, duration=10),
    Scenario("S3", "large bodies", 2 * MIB, 1, connections=16, duration=10),
    Scenario("S4", "slow upstream", 16 * KIB, 1, connections=1000, duration=16, latency=2.0),
    Scenario("S5", "heavy in-flight", 8 * MIB, 4, connections=100, duration=12, latency=2.0),
    # Native: each of the n calls answers body_bytes; the gateway drops the thought parts
    # and streams the final images from their spools as OpenAI JSON.
    Scenario("N1", "native overhead", 64 * KIB, 1, connections=1, duration=10, native=True),
    Scenario("N3", "native large answers", 2 * MIB, 1, connections=16, duration=10,
             native=True),
    # Trickled: every answer is still arriving while the others are, so 100 (N5) and
    # 25 × 4 (N6) upstream bodies are being spooled at once, not queued behind a core.
    Scenario("N5", "native 100 in flight", 8 * MIB, 1, connections=100, duration=15,
             latency=1.0, trickle=2.0, native=True),
    Scenario("N6", "native n=4 in flight", 2 * MIB, 4, connections=25, duration=15,
             latency=1.0, trickle=2.0, native=True),
)
GROUPS = {"S": "compat pass-through", "N": "native generateContent"}


def quick(scenario: Scenario) -> Scenario:
    """Short enough to check that everything works, too short to quote."""
    return replace(scenario, duration=6 if scenario.slow else 3, warmup=0.5)


def select(ids: str | None, *, quick_mode: bool) -> tuple[Scenario, ...]:
    """``S1,N3`` picks scenarios; ``S`` or ``N`` alone stands for all of its group."""
    chosen = SCENARIOS
    if ids:
        wanted = set()
        for part in (p.strip().upper() for p in ids.split(",") if p.strip()):
            group = [s.id for s in SCENARIOS if s.id.startswith(part)] if part in GROUPS else []
            wanted.update(group or [part])
        unknown = wanted - {s.id for s in SCENARIOS}
        if unknown:
            raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        chosen = tuple(s for s in SCENARIOS if s.id in wanted)
    return tuple(quick(s) for s in chosen) if quick_mode else chosen
