"""Hypothesis settings for the property tests.

Derandomized by default, so `make test` (and CI) explores the same cases every run and a
failure reproduces. HYPOTHESIS_EXPLORE=1 draws fresh cases, many more of them, to look
for new ones: `HYPOTHESIS_EXPLORE=1 .venv/bin/pytest tests/properties`.
"""

import os

from hypothesis import HealthCheck, settings

EXPLORE = os.environ.get("HYPOTHESIS_EXPLORE") == "1"

settings.register_profile(
    "gateway-properties",
    derandomize=not EXPLORE,
    max_examples=5000 if EXPLORE else 300,
    deadline=None,  # a busy CI machine is no reason to fail
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("gateway-properties")


def pytest_terminal_summary(terminalreporter):
    from tests.properties.counting import CASES

    if CASES:
        terminalreporter.section("property tests")
        terminalreporter.write_line(
            f"hypothesis ran {sum(CASES.values())} cases through {len(CASES)} property tests "
            f"(parsers: settings, the image request and size, retryDelay, Gemini errors)")
