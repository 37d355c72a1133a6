"""`make run` runs `python -m app`: with no keys anywhere it serves the offline demo."""

import base64
import sys

import requests

from tests.integration.gateway_process import GatewayProcess


def test_no_keys_means_demo_mode_answering_real_pngs(tmp_path):
    # Empty values are "set": a developer's .env cannot fill them in (real variables win).
    env = {"GEMINI_API_KEYS": "", "PROXY_AUTH_KEYS": ""}
    gateway = GatewayProcess(env, tmp_path / "demo.log",
                             command=[sys.executable, "-m", "app", "-b", "127.0.0.1:0"])
    gateway.start()
    try:
        response = requests.post(gateway.url + "/v1/images/generations",
                                 json={"prompt": "a lighthouse", "n": 2, "size": "64x48"},
                                 timeout=30)
        assert response.status_code == 200
        images = response.json()["data"]
        assert len(images) == 2
        png = base64.b64decode(images[0]["b64_json"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert png[16:24] == (64).to_bytes(4, "big") + (48).to_bytes(4, "big")
    finally:
        gateway.stop()
    output = gateway.output()
    assert "DEMO MODE" in output
    assert "OPEN to anyone" in output
