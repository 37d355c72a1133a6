"""Fixtures for the robustness suites: a fake Gemini, real gunicorn gateways that are
always stopped, and the figures printed at the end of the run."""

from __future__ import annotations

import pytest

from tests.integration.fake_gemini import FakeGemini
from tests.integration.gateway_process import GUNICORN, GatewayProcess
from tests.robustness import report


@pytest.fixture
def fake():
    fake = FakeGemini().start()
    yield fake
    fake.stop()


@pytest.fixture
def launch(tmp_path):
    """``launch(env, extra_args=())`` starts real gunicorn -k gevent on a loopback port;
    every gateway started is stopped afterwards, and none may have written a traceback."""
    started: list[GatewayProcess] = []

    def start(env: dict[str, str], extra_args: tuple[str, ...] = ()) -> GatewayProcess:
        command = None
        if extra_args:  # gunicorn's command line wins over gunicorn.conf.py
            command = [*GUNICORN, "-b", "127.0.0.1:0", *extra_args, "app:create_app()"]
        gateway = GatewayProcess({k: str(v) for k, v in env.items()},
                                 tmp_path / f"gateway-{len(started)}.log", command=command)
        started.append(gateway)
        return gateway.start()

    yield start
    for gateway in started:
        gateway.stop()
        assert "Traceback" not in gateway.output(), "the gateway wrote a traceback"


def pytest_terminal_summary(terminalreporter):
    if report.LINES:
        terminalreporter.section("robustness figures")
        for line in report.LINES:
            terminalreporter.write_line(line)
