"""A worker keeps freed heap for the next answer instead of faulting it in again."""

import runpy
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dotenv
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Answers of 2 MB, read in 256 KiB pieces, freed once sent: page faults per answer after
# the first few, in a fresh interpreter.
_ANSWERS = """
import resource, sys
from app.malloc_tuning import keep_freed_memory
tuned = sys.argv[1] == "tuned" and keep_freed_memory()
def answer():
    pieces = [b"x" * (256 * 1024) for _ in range(8)]
    del pieces
for _ in range(5):
    answer()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    answer()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(int(tuned), faults / 40)
"""


def answers(mode: str) -> tuple[bool, float]:
    done = subprocess.run([sys.executable, "-c", _ANSWERS, mode], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, check=True)
    tuned, faults = done.stdout.split()
    return tuned == "1", float(faults)


def test_freed_answers_are_reused_without_page_faults():
    tuned, faults = answers("tuned")
    if not tuned:
        pytest.skip("no glibc mallopt here: the allocator's defaults stay")
    assert faults < 8  # a 2 MB answer is 512 pages: all of them were faulted in before


def test_every_gunicorn_worker_applies_it(monkeypatch, tmp_path):
    import app.malloc_tuning

    applied = []
    monkeypatch.setattr(app.malloc_tuning, "keep_freed_memory", lambda: applied.append(1))
    monkeypatch.setattr(dotenv, "load_dotenv", lambda *args, **kwargs: False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("GEMINI_API_KEYS", "k")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    sigint = signal.getsignal(signal.SIGINT)  # the hook also ignores SIGINT in the worker
    try:
        conf["post_worker_init"](SimpleNamespace())
    finally:
        signal.signal(signal.SIGINT, sigint)
    assert applied == [1]
