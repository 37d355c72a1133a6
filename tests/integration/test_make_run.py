"""`make run` on a fresh machine: a virtual environment with the runtime dependencies
only (no test tools to lean on), in demo mode, answering the README's request."""

import os
import signal
import socket
import subprocess
import time

import requests

from tests.integration.gateway_process import ROOT, clean_environ


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run_serves_the_demo_from_a_runtime_only_venv(tmp_path):
    port = free_port()
    env = clean_environ({"GEMINI_API_KEYS": "", "PROXY_AUTH_KEYS": "", "PORT": str(port)})
    with (tmp_path / "make-run.log").open("wb") as log:
        process = subprocess.Popen(["make", "run", f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # creates the venv and installs: allow for it
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        # The seed README's example: an Imagen id that its alias sends to DEFAULT_MODEL.
        response = requests.post(f"http://127.0.0.1:{port}/v1/images/generations",
                                 json={"prompt": "a lighthouse at dusk", "size": "512x512",
                                       "model": "imagen-4.0-generate-preview-06-06"},
                                 timeout=30)
        assert response.status_code == 200
        assert response.json()["data"][0]["b64_json"].startswith("/9j/")  # a JPEG
        assert response.json()["size"] == "1024x1024"  # 1:1 at Gemini's 1K tier
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    output = (tmp_path / "make-run.log").read_text()
    assert f"starting on http://0.0.0.0:{port}" in output
    assert "DEMO MODE" in output
    assert "Traceback" not in output
