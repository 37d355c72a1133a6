"""A 502's access line says what failed and how many attempts were made (issue 11)."""

import re
import socket

import pytest
import requests

from tests.conftest import TOKENS
from tests.integration.fake_gemini import Drop

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the probe is: connects are refused


def access_line(gateway) -> str:
    gateway.stop()
    (line,) = [line for line in gateway.output().splitlines()
               if " gateway.access " in line and "/v1/images/generations" in line]
    return line


def post(gateway):
    return requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                         headers=AUTH, timeout=30)


@pytest.mark.parametrize(("base_url", "cause", "attempts"), [
    (lambda fake: f"http://127.0.0.1:{closed_port()}/v1beta/openai", "connection refused", 3),
    # A failed handshake is not retried (urllib3 counts it as "other", not a connect error).
    (lambda fake: fake.base_url.replace("http://", "https://"), "TLS error", 1),
], ids=["refused", "tls"])
def test_a_connection_failure_names_its_cause_and_counts_every_attempt(
        start_gateway, fake_gemini, base_url, cause, attempts):
    gateway = start_gateway(GEMINI_BASE_URL=base_url(fake_gemini), MAX_RETRIES=2)
    response = post(gateway)
    assert response.status_code == 502
    assert cause in response.json()["error"]["message"]
    line = access_line(gateway)
    assert " 502 " in line and f"attempts={attempts} " in line and cause in line


def test_a_reset_names_its_cause(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Drop(reset=True)
    gateway = start_gateway(MAX_RETRIES=0)
    assert post(gateway).status_code == 502
    line = access_line(gateway)
    assert re.search(r"attempts=1 .*connection reset", line), line


def test_probes_are_logged_at_debug_only(start_gateway):
    gateway = start_gateway(LOG_LEVEL="info", METRICS_AUTH="false")
    for path in ("/healthz", "/readyz", "/metrics"):
        assert requests.get(gateway.url + path, timeout=10).status_code == 200
    assert requests.get(gateway.url + "/v1/models", timeout=10).status_code == 401
    gateway.stop()
    access = [line for line in gateway.output().splitlines()
              if " gateway.access " in line and "__ready_probe__" not in line]
    assert len(access) == 1 and "/v1/models 401" in access[0]
