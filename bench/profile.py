"""Where the gateway worker spends its CPU: py-spy samples during a load, summarised.

py-spy runs on the load core and pauses the worker for each sample: without the pauses
(``--nonblocking``) a fast-changing gevent stack was often read half old, half new, with
frames under callers that never called them. The profiled runs are separate from the
measured ones, so the pauses never reach a quoted figure. Idle samples (the gevent hub
waiting in epoll) are left out: shares are of busy time.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from .processes import LOAD_CORE, pinned

SAMPLE_RATE = 200
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
# The product's layers, by the directory or file a frame's source is in (py-spy names it
# relative to sys.path, e.g. `app/upstream.py`, `flask/json/provider.py`).
_GATEWAY = ("app/",)
_LAYERS = (
    ("json (parse / serialise)", ("json/",)),
    ("logging", ("logging/",)),
    ("app (gateway code)", _GATEWAY),
    ("requests / urllib3 / http.client (upstream call)",
     ("requests/", "urllib3/", "http/client.py")),
    ("flask / werkzeug", ("flask/", "werkzeug/")),
    ("gunicorn (client I/O)", ("gunicorn/",)),
)
_TRANSPARENT = ("gevent/", "socket.py", "selectors.py", "ssl.py")


def py_spy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def recording(pid: int, seconds: int, out: Path) -> Iterator[None]:
    """py-spy records ``pid`` for ``seconds`` while the body runs; it never outlives it."""
    command = pinned(LOAD_CORE, [
        py_spy() or "py-spy", "record", "--pid", str(pid), "--duration", str(seconds),
        "--rate", str(SAMPLE_RATE), "--threads", "--format", "raw", "--output", str(out),
    ])
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True)
    try:
        yield
        _, errors = recorder.communicate(timeout=seconds + 30)
    except BaseException:
        recorder.kill()
        recorder.communicate(timeout=5)
        raise
    if recorder.returncode != 0:
        raise RuntimeError(f"py-spy failed: {errors.strip()[-400:]}")


def read_collapsed(path: Path, main_thread: int) -> Counter:
    """py-spy's raw format, ``thread (TID);frame;...;leaf count``: the main thread's stacks.

    The worker's other threads are gevent's thread pool (it resolves host names), idle in a
    lock wait that py-spy cannot tell from work; every greenlet runs on the main thread.
    """
    stacks: Counter = Counter()
    thread = f"thread ({main_thread})"
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if frames[0] == thread and len(frames) > 1 and count.isdigit():
            stacks[tuple(frames[1:])] += int(count)
    return stacks


def summarise(stacks: Counter, top: int = 15) -> dict:
    """Shares of busy samples: by layer, by function itself, by each call the gateway makes.

    The last one counts, for every gateway function (``app/``) and every library function
    it calls directly (``jsonify``, ``json.loads``, ``Session.post``...), the samples with
    that call on the stack: what each step of a request costs, callees included.
    """
    total = sum(stacks.values())
    self_time: Counter = Counter()
    gateway_calls: Counter = Counter()
    layers: Counter = Counter()
    for frames, count in stacks.items():
        names = [_short(frame) for frame in frames]
        self_time[names[-1]] += count
        layers[_layer(frames)] += count
        ours = [_in(frame, _GATEWAY) for frame in frames]
        calls = set()
        for depth, is_ours in enumerate(ours):
            if is_ours:
                calls.add(names[depth])
                if depth + 1 < len(frames) and not ours[depth + 1]:
                    calls.add(names[depth + 1])
        for name in calls:
            gateway_calls[name] += count

    def shares(counter: Counter) -> list[list]:
        return [[name, round(count / total, 4)] for name, count in counter.most_common(top)]

    return {"samples": total, "layers": shares(layers), "self": shares(self_time),
            "gateway_calls": shares(gateway_calls)}


def _layer(frames: tuple[str, ...]) -> str:
    """The innermost frame of a named layer; socket and gevent frames count for their caller.

    So a ``sendall`` that gunicorn makes is client I/O, a ``recv_into`` that http.client
    makes is the upstream call, and a stack of nothing but gevent is the hub itself.
    """
    for frame in reversed(frames):
        if _in(frame, _TRANSPARENT):
            continue
        for layer, markers in _LAYERS:
            if _in(frame, markers):
                return layer
    if any(_in(frame, ("gevent/",)) for frame in frames):
        return "gevent hub (scheduling, timers)"
    return "other (interpreter, C code)"


def _in(frame: str, places: tuple[str, ...]) -> bool:
    """Whether the frame's source file is under one of ``places`` (``json/``, ``socket.py``)."""
    match = _FRAME.match(frame)
    path = "/" + (match["file"] if match else frame)
    return any(f"/{place}" in path for place in places)


def _short(frame: str) -> str:
    """``function (file:line)`` as ``function (package/file.py)``: lines merged."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    parts = Path(match["file"]).parts
    return f"{match['function']} ({'/'.join(parts[-2:])})"
