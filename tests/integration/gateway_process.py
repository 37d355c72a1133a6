"""Real gunicorn with gevent workers, started in a subprocess on an ephemeral port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
_PROJECT_VARIABLES = re.compile(
    r"^(GEMINI_|PROXY_AUTH|PORT$|MAX_|RETRY_|UPSTREAM_|REQUEST_|QUEUE_|DEFAULT_MODEL|LOG_|DEMO"
    r"|WEB_CONCURRENCY|FORWARDED_ALLOW_IPS|CORS_|ADMIN_|METRICS_|MODELS_|PROMETHEUS_MULTIPROC_DIR"
    r"|HOST$|ALLOW_OPEN$|REDIS_|CLIENT_|KEY_REPROBE|PLAYGROUND$|IMAGE_|PUBLIC_BASE_URL|STREAM_)"
)


def clean_environ(env: dict[str, str]) -> dict[str, str]:
    """The machine's environment less the project's variables, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if not _PROJECT_VARIABLES.match(k)}
    base.update(env)
    return base


class GatewayProcess:
    def __init__(self, env: dict[str, str], log_path: Path, *,
                 command: list[str] | None = None, bind: str = "127.0.0.1:0") -> None:
        self.env = clean_environ(env)
        self.log_path = log_path
        self.command = command or [*GUNICORN, "-b", bind, "app:create_app()"]
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 30) -> GatewayProcess:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{self.output()}")
            found = _LISTENING.search(self.output())
            if found and self.port is None:
                self.port = int(found.group(1))
            if self.port is not None and self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gateway did not start within {timeout} s:\n{self.output()}")

    def _answers(self) -> bool:
        try:
            requests.get(self.url + "/__ready_probe__", timeout=1)
        except requests.RequestException:
            return False
        return True

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 20) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode


def run_to_exit(env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess:
    """Run gunicorn expecting it to stop by itself (a configuration error)."""
    return subprocess.run(
        [*GUNICORN, "-b", "127.0.0.1:0", "app:create_app()"], cwd=ROOT,
        env=clean_environ(env), capture_output=True, text=True, timeout=timeout,
        stdin=subprocess.DEVNULL, check=False,
    )
