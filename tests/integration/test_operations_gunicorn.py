"""Operations as deployed: metrics over two workers, graceful SIGTERM, probes."""

import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Reply

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
ADMIN = "admin-token-abcdef0123456789"


def generate(gateway, **kwargs):
    return requests.post(gateway.url + "/v1/images/generations", json={"prompt": "x"},
                         headers={**AUTH, "Connection": "close"}, timeout=30, **kwargs)


def counter(exposition, name, **labels):
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    values = [sample.value
              for family in text_string_to_metric_families(exposition)
              for sample in family.samples
              if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())]
    return sum(values) if values else None


def test_metrics_are_right_whichever_of_two_workers_answers(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=0.05)
    gateway = start_gateway(WEB_CONCURRENCY=2, ADMIN_TOKEN=ADMIN)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: generate(gateway).status_code, range(40)))
    assert statuses == [200] * 40
    time.sleep(0.3)  # the access line and counters are written as each response closes
    pids = set(re.findall(r"\[(\d+)\] gateway\.access", gateway.output()))
    assert len(pids) == 2, "both workers should have served requests"
    for _ in range(6):  # whichever worker answers the scrape, the totals are the same
        page = requests.get(gateway.url + "/metrics", headers={"Connection": "close"},
                            timeout=10).text
        assert counter(page, "gateway_requests_total", route="/v1/images/generations",
                       status="200") == 40
        assert counter(page, "gateway_upstream_attempts_total", outcome="success") == 40
        assert counter(page, "gateway_upstream_in_flight") == 0
        assert all(secret not in page for secret in (*KEYS, *TOKENS))
        # The dashboard's numbers come from the same merged samples.
        stats = requests.get(gateway.url + "/admin/stats", timeout=10, headers={
            "Authorization": f"Bearer {ADMIN}", "Connection": "close"}).json()
        assert stats["images"] == 40
        assert {"route": "/v1/images/generations", "method": "POST", "status": "200",
                "count": 40} in stats["requests"]
        (latency,) = [h for h in stats["latency"] if h["route"] == "/v1/images/generations"]
        assert latency["count"] == 40 and latency["buckets"][-1] == ["+Inf", 40]


def test_sigterm_lets_an_in_flight_generation_finish(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=2.0)
    gateway = start_gateway()
    result = {}
    client = threading.Thread(target=lambda: result.update(response=generate(gateway)))
    client.start()
    deadline = time.monotonic() + 10
    while fake_gemini.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_gemini.in_flight == 1
    gateway.signal(signal.SIGTERM)
    client.join(timeout=20)
    response = result["response"]
    assert response.status_code == 200
    assert response.json()["data"][0]["b64_json"] == gemini.PNG_B64
    assert gateway.wait(timeout=20) == 0


def test_readyz_and_admin_follow_the_worker_keys(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(400, gemini.invalid_key())
    gateway = start_gateway(ADMIN_TOKEN=ADMIN)
    assert requests.get(gateway.url + "/readyz", timeout=5).status_code == 200
    response = generate(gateway)
    assert response.status_code == 503
    ready = requests.get(gateway.url + "/readyz", timeout=5)
    assert ready.status_code == 503 and ready.json()["status"] == "unready"
    keys = requests.get(gateway.url + "/admin/keys", timeout=5,
                        headers={"Authorization": f"Bearer {ADMIN}"}).json()["data"]
    assert [k["state"] for k in keys] == ["out_of_rotation"] * 2
    enabled = requests.post(gateway.url + f"/admin/keys/{keys[0]['key']}/enable", timeout=5,
                            headers={"Authorization": f"Bearer {ADMIN}"})
    assert enabled.status_code == 200
    assert requests.get(gateway.url + "/readyz", timeout=5).status_code == 200


def test_models_through_gunicorn(start_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(body='{"object": "list", "data": [{"id": '
                                               '"models/gemini-2.5-flash-image"}]}')
    gateway = start_gateway()
    response = requests.get(gateway.url + "/v1/models", headers=AUTH, timeout=10)
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["data"]] == ["gemini-2.5-flash-image"]
    assert fake_gemini.calls[0].path == "/v1beta/openai/models"
