"""The first Ctrl-C of `make run` stops the gateway cleanly (issue 11)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.integration.gateway_process import ROOT, clean_environ
from tests.integration.test_make_run import free_port

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("attempt", range(3))  # a race: one run can miss it
def test_ctrl_c_stops_master_and_worker_without_a_traceback(tmp_path, attempt):
    port = free_port()
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        # `make run` execs this; a terminal's Ctrl-C signals the whole process group.
        process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT,
                                   env=clean_environ({"PORT": str(port)}), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    output = log_path.read_text()
    assert "Shutting down: Master" in output
    assert "Traceback" not in output and "failed with SystemExit" not in output, output
