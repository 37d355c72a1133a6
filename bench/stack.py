"""Everything one scenario needs running: its upstream, and the two proxies in front of it.

    wrk ──► direct:  upstream                         (load core)
    wrk ──► nginx:   nginx proxy_pass  ──► upstream   (proxy core)
    wrk ──► gateway: gunicorn + gevent ──► upstream   (proxy core)

Compat scenarios (S) ask every contender for the OpenAI-shaped body. Native ones (N): direct
and nginx fetch the ``generateContent`` answer as it is; the gateway turns ``n`` of them into
one OpenAI answer.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.config import DEFAULT_MODEL

from .bodies import gemini_images, native_answer
from .endpoints import GATEWAY_PATH, NATIVE_UPSTREAM_PATH, UPSTREAM_PATH
from .gateway import MAX_CONCURRENT, Credentials, gateway_service
from .nginx import nginx_command, proxy_conf, static_upstream_conf
from .processes import LOAD_CORE, LOOPBACK, PROXY_CORE, Service, free_port, pinned
from .scenarios import Scenario

CONTENDERS = ("direct", "nginx", "gateway")


@dataclass(frozen=True)
class Contender:
    name: str
    url: str
    proxy_pid: int | None  # the process doing the proxy's work (a worker), if any
    proxy_core_pids: tuple[int, ...] = ()  # every process pinned to the proxy core


@dataclass(frozen=True)
class Stack:
    scenario: Scenario
    body: bytes
    contenders: dict[str, Contender]
    gateway: Service


@contextlib.contextmanager
def running_stack(scenario: Scenario, work_dir: Path,
                  credentials: Credentials) -> Iterator[Stack]:
    """Start the scenario's processes; stop every one of them on the way out, whatever happens."""
    body = upstream_body(scenario)
    upstream_path = NATIVE_UPSTREAM_PATH if scenario.native else UPSTREAM_PATH
    with contextlib.ExitStack() as cleanup:
        upstream_port = free_port()
        upstream = _upstream_service(scenario, body, upstream_port, work_dir / "upstream")
        cleanup.callback(upstream.stop)
        upstream.start(upstream_port)

        proxy_port = free_port()
        proxy_dir = work_dir / "nginx-proxy"
        conf = proxy_conf(proxy_dir, proxy_port, upstream_port, keepalive=MAX_CONCURRENT)
        proxy = Service("nginx proxy", pinned(PROXY_CORE, nginx_command(conf)),
                        proxy_dir / "stdout.log")
        cleanup.callback(proxy.stop)
        proxy.start(proxy_port)

        gateway_port = free_port()
        gateway = gateway_service(gateway_port, upstream_port, credentials,
                                  work_dir / "gateway.log", native=scenario.native)
        cleanup.callback(gateway.stop)
        gateway.start(gateway_port)

        base = f"http://{LOOPBACK}:"
        contenders = {
            "direct": Contender("direct", f"{base}{upstream_port}{upstream_path}", None),
            "nginx": Contender("nginx", f"{base}{proxy_port}{upstream_path}",
                               proxy.worker_pid(), (proxy.pid, proxy.worker_pid())),
            "gateway": Contender("gateway", f"{base}{gateway_port}{GATEWAY_PATH}",
                                 gateway.worker_pid(), (gateway.pid, gateway.worker_pid())),
        }
        yield Stack(scenario, body, contenders, gateway)


def upstream_body(scenario: Scenario) -> bytes:
    """What the upstream answers each call: OpenAI-shaped (compat) or generateContent."""
    if scenario.native:
        return native_answer(scenario.body_bytes, DEFAULT_MODEL)
    return gemini_images(scenario.body_bytes, scenario.images)


def _upstream_service(scenario: Scenario, body: bytes, port: int, run_dir: Path) -> Service:
    run_dir.mkdir(parents=True, exist_ok=True)
    if not scenario.slow:
        conf = static_upstream_conf(run_dir, port, body, native=scenario.native)
        return Service("nginx upstream", pinned(LOAD_CORE, nginx_command(conf)),
                       run_dir / "stdout.log")
    body_file = run_dir / "body.json"
    body_file.write_bytes(body)
    command = [sys.executable, "-m", "bench.fake_gemini", "--port", str(port),
               "--latency", f"{scenario.latency:g}", "--trickle", f"{scenario.trickle:g}",
               "--body", str(body_file)]
    return Service("fake Gemini", pinned(LOAD_CORE, command), run_dir / "stdout.log",
                   cwd=Path(__file__).resolve().parents[1])
