"""Metrics in multiprocess mode keep the pid instead of asking for it at every update:
a forked worker must still write its samples to its own file."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_FORKING = """
import os, sys
from prometheus_client import Counter, CollectorRegistry
import app.metrics  # noqa: F401 (sets the value class)
parent = os.getpid()
counter = Counter("forked", "x", registry=CollectorRegistry())
counter.inc()
child = os.fork()
if child == 0:
    Counter("forked_child", "x", registry=CollectorRegistry()).inc(5)
    os._exit(0)
os.waitpid(child, 0)
counter.inc()
print(parent, child)
"""


def test_a_forked_worker_writes_its_samples_to_its_own_file(tmp_path):
    from prometheus_client import CollectorRegistry, multiprocess

    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", _FORKING], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60, check=True)
    parent, child = done.stdout.split()
    files = sorted(path.name for path in tmp_path.glob("*.db"))
    assert files == sorted([f"counter_{parent}.db", f"counter_{child}.db"])
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("forked_total") == 2
    assert registry.get_sample_value("forked_child_total") == 5
