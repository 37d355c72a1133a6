"""`make run` runs `python -m app`: with no keys anywhere it serves the offline demo."""

import base64
import sys

import requests

from tests.integration.gateway_process import GatewayProcess


def test_no_keys_means_demo_mode_answering_real_images_natively(tmp_path):
    # Empty values are "set": a developer's .env cannot fill them in (real variables win).
    env = {"GEMINI_API_KEYS": "", "PROXY_AUTH_KEYS": ""}
    gateway = GatewayProcess(env, tmp_path / "demo.log",
                             command=[sys.executable, "-m", "app", "-b", "127.0.0.1:0"])
    gateway.start()
    try:
        response = requests.post(gateway.url + "/v1/images/generations",
                                 json={"prompt": "a lighthouse", "n": 2, "size": "1536x1024",
                                       "output_format": "png"},
                                 timeout=30)
        assert response.status_code == 200
        images = response.json()["data"]
        assert len(images) == 2
        png = base64.b64decode(images[0]["b64_json"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n")  # transcoded from the demo's JPEG
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (2512, 1680)  # 3:2 at the 2K tier
        assert response.json()["size"] == f"{width}x{height}"
    finally:
        gateway.stop()
    output = gateway.output()
    assert "DEMO MODE" in output
    assert "OPEN to anyone" in output
