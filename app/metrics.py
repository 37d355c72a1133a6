"""Prometheus metrics, correct across gunicorn workers.

With several workers each process writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py sets and empties it in the master) and
``/metrics`` merges them, whichever worker answers. Without it (tests, one process) the
app's own registry is exposed.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from .key_pool import KeyPool, KeyState
from .upstream import UpstreamObserver

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# In multiprocess mode prometheus_client asks the kernel for the pid at every update of a
# sample, to notice a fork: a system call each time, 5 % of a small generation's CPU in a
# worker (N1 profile). The pid changes only at a fork, so it is kept and refreshed in
# every child. Set before any metric exists: the value class is read when one is made.
_pid = os.getpid()


def _refresh_pid() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_refresh_pid)
if values.ValueClass is not values.MutexValue:  # PROMETHEUS_MULTIPROC_DIR was set
    values.ValueClass = values.MultiProcessValue(lambda: _pid)
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Image generation takes seconds to minutes: the library's default buckets stop at 10 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 7.5, 10, 15, 20, 30,
                   45, 60, 90, 120, 180, 240, 300, 450, 600)
QUEUE_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)
# A label value a client chooses would make a new series that lives for the process:
# any other method is counted as OTHER.
METHOD_LABELS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics(UpstreamObserver):
    def __init__(self, pool: KeyPool) -> None:
        self.pool = pool
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "gateway_requests", "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"], registry=r)
        self.request_seconds = Histogram(
            "gateway_request_duration_seconds", "Time from request to the last byte sent.",
            ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_attempts = Counter(
            "gateway_upstream_attempts", "Upstream attempts by masked key and outcome.",
            ["key", "outcome"], registry=r)
        self.upstream_seconds = Histogram(
            "gateway_upstream_duration_seconds", "Time of one upstream attempt, by outcome.",
            ["outcome"], buckets=LATENCY_BUCKETS, registry=r)
        self.upstream_in_flight = Gauge(
            "gateway_upstream_in_flight", "Upstream calls in flight now (all workers).",
            registry=r, multiprocess_mode="livesum")
        self.queue_wait_seconds = Histogram(
            "gateway_queue_wait_seconds", "Time spent waiting for a concurrency slot.",
            buckets=QUEUE_BUCKETS, registry=r)
        self.key_state = Gauge(
            "gateway_key_state", "1 for the state each key is in, as the reporting worker "
            "sees it.", ["key", "state"], registry=r, multiprocess_mode="liveall")
        # Clients are labelled by masked token: as many values as PROXY_AUTH_KEYS holds.
        self.client_requests = Counter(
            "gateway_client_requests", "Answered image requests by client (masked token).",
            ["client"], registry=r)
        self.client_images = Counter(
            "gateway_client_images", "Images delivered by client (masked token).",
            ["client"], registry=r)
        self.client_tokens = Counter(
            "gateway_client_tokens", "Gemini tokens by client (masked token) and kind.",
            ["client", "kind"], registry=r)
        self.client_refused_total = Counter(
            "gateway_client_refused", "Requests refused by a client limit, by reason.",
            ["client", "reason"], registry=r)
        self.refresh_key_states()

    # ClientLimits' observer
    def client_usage(self, label: str, images: int, usage: dict | None) -> None:
        self.client_requests.labels(label).inc()
        self.client_images.labels(label).inc(images)
        for kind in ("input_tokens", "output_tokens"):
            value = (usage or {}).get(kind)
            if isinstance(value, int) and value > 0:
                self.client_tokens.labels(label, kind.removesuffix("_tokens")).inc(value)

    def client_refused(self, label: str, reason: str) -> None:
        self.client_refused_total.labels(label, reason).inc()

    # UpstreamObserver
    def attempt(self, masked_key: str, outcome: str, seconds: float) -> None:
        self.upstream_attempts.labels(masked_key, outcome).inc()
        if outcome != "retried":
            self.upstream_seconds.labels(outcome).observe(seconds)
        if outcome in ("rate_limited", "key_rejected"):
            self.refresh_key_states()

    def in_flight(self, delta: int) -> None:
        self.upstream_in_flight.inc(delta)

    def queue_wait(self, seconds: float) -> None:
        self.queue_wait_seconds.observe(seconds)

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in METHOD_LABELS else "OTHER"
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route).observe(seconds)

    def refresh_key_states(self) -> None:
        for view in self.pool.snapshot():
            for state in KeyState:
                self.key_state.labels(view["key"], state.value).set(
                    1 if view["state"] == state.value else 0)

    def merged_registry(self) -> CollectorRegistry:
        """Every worker's samples when several share PROMETHEUS_MULTIPROC_DIR, else ours."""
        directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
        if directory and os.path.isdir(directory):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=directory)
            return registry
        return self.registry

    def render(self) -> bytes:
        self.refresh_key_states()
        return generate_latest(self.merged_registry())
