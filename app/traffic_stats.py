"""The gateway's own Prometheus samples as a small JSON document, for the dashboard.

Totals and cumulative histogram buckets only: rates and percentiles need two readings, so
the page derives them from the difference between polls. Every label here is bounded (route
rules, methods, statuses, masked keys, outcomes), so the document stays small; per-client
series are summed, and /admin/usage has them one by one.
"""

from __future__ import annotations

import math
from collections import defaultdict

from prometheus_client import CollectorRegistry

REQUESTS = "gateway_requests_total"
LATENCY = "gateway_request_duration_seconds"
UPSTREAM = "gateway_upstream_attempts_total"
# Per client (masked token, or "anonymous" on an open gateway): summed here, they are the
# gateway's totals.
IMAGES = "gateway_client_images_total"
TOKENS = "gateway_client_tokens_total"


def traffic_stats(registry: CollectorRegistry) -> dict:
    requests: dict[tuple[str, str, str], float] = defaultdict(float)
    upstream: dict[tuple[str, str], float] = defaultdict(float)
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, float] = defaultdict(float)
    sums: dict[str, float] = defaultdict(float)
    images = 0.0
    tokens = {"input": 0.0, "output": 0.0}
    # Summed, not assigned: the multiprocess collector may report a series once per worker.
    for family in registry.collect():
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == REQUESTS:
                requests[labels["route"], labels["method"], labels["status"]] += value
            elif name == LATENCY + "_bucket":
                buckets[labels["route"]][float(labels["le"])] += value
            elif name == LATENCY + "_count":
                counts[labels["route"]] += value
            elif name == LATENCY + "_sum":
                sums[labels["route"]] += value
            elif name == UPSTREAM:
                upstream[labels["key"], labels["outcome"]] += value
            elif name == IMAGES:
                images += value
            elif name == TOKENS and labels.get("kind") in tokens:
                tokens[labels["kind"]] += value
    return {
        "object": "gateway.stats",
        "requests": [{"route": route, "method": method, "status": status, "count": int(count)}
                     for (route, method, status), count in sorted(requests.items())],
        "latency": [{"route": route,
                     "buckets": [[_bound(le), int(count)] for le, count in sorted(by_le.items())],
                     "count": int(counts[route]), "sum": round(sums[route], 6)}
                    for route, by_le in sorted(buckets.items())],
        "upstream": [{"key": key, "outcome": outcome, "count": int(count)}
                     for (key, outcome), count in sorted(upstream.items())],
        "images": int(images),
        "tokens": {kind: int(count) for kind, count in tokens.items()},
    }


def _bound(le: float) -> float | str:
    """A bucket's upper bound; JSON has no infinity, so the last one is ``"+Inf"``."""
    return "+Inf" if math.isinf(le) else le
