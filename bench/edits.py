"""Scenario E1 (issue 9): 8 concurrent edits, each 4 input images of 5 MB.

``python -m bench.edits [--quick]``. Real gunicorn (one gevent worker, the native backend)
in front of a loopback fake ``generateContent`` that reads the whole upstream body, waits
``LATENCY`` seconds (so all edits are in flight together) and answers a small image. The
worker's peak RSS growth over its idle RSS, per in-flight edit, must stay within
2 x the edit's upload; CPU seconds per edit are reported.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from .gateway import ROOT, Credentials, gateway_environ
from .processes import LOOPBACK, PROXY_CORE, Service, free_port, pinned
from .procstat import RssSampler, cpu_seconds, memory_kib, reset_peak

MB = 1000 * 1000
EDITS = 8
IMAGES = 4
IMAGE_BYTES = 5 * MB
LATENCY = 2.0
TARGET = 2.0  # peak RSS growth per in-flight edit, in uploads
RESULTS = ROOT / "bench" / "results"


@dataclass
class Result:
    edits: int
    images_per_edit: int
    upload_mb: float  # one edit's multipart body
    idle_rss_mb: float
    peak_rss_mb: float
    growth_per_edit_mb: float
    growth_per_edit_uploads: float  # the target: at most TARGET
    cpu_seconds_per_edit: float
    upstream_body_mb: float  # what the fake received per call
    seconds: float
    rounds: int

    @property
    def passed(self) -> bool:
        return self.growth_per_edit_uploads <= TARGET


class FakeNative:
    """Reads each generateContent body whole (counting it), sleeps, answers one JPEG."""

    def __init__(self, latency: float) -> None:
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (30, 90, 200)).save(out, "JPEG")
        answer = {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": "image/jpeg",
                            "data": base64.b64encode(out.getvalue()).decode()}}]},
            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1120,
                              "totalTokenCount": 1130}}
        self.answer = json.dumps(answer).encode()
        self.latency = latency
        self.received: list[int] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                left = int(self.headers.get("Content-Length", 0))
                while left:
                    left -= len(self.rfile.read(min(left, 1 << 20)))
                fake.received.append(int(self.headers.get("Content-Length", 0)))
                time.sleep(fake.latency)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(fake.answer)))
                self.end_headers()
                self.wfile.write(fake.answer)

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def root(self) -> str:
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/v1beta"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def edit_body(images: int, image_bytes: int) -> tuple[bytes, str]:
    """A multipart edit as the SDK sends it: incompressible PNG-typed images."""
    data = MultiDict([("prompt", "put a lighthouse on the hill"), ("model", "gemini-3-pro-image")])
    for index in range(images):
        content = b"\x89PNG\r\n\x1a\n" + os.urandom(image_bytes - 8)
        data.add("image[]", FileStorage(io.BytesIO(content), f"{index}.png", "image/png"))
    boundary, body = encode_multipart(data)
    return body, f"multipart/form-data; boundary={boundary}"


def run(rounds: int, work: Path) -> Result:
    fake = FakeNative(LATENCY)
    credentials = Credentials.generate()
    port = free_port()
    env = gateway_environ(0, credentials)
    env.update(UPSTREAM_API="gemini", GEMINI_BASE_URL=fake.root)
    gateway = Service("gateway", pinned(PROXY_CORE, [
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
        "-b", f"{LOOPBACK}:{port}", "app:create_app()"]), work / "gateway-e1.log", env=env,
        cwd=ROOT)
    body, content_type = edit_body(IMAGES, IMAGE_BYTES)
    headers = {"Authorization": f"Bearer {credentials.client_token}",
               "Content-Type": content_type}
    url = f"http://{LOOPBACK}:{port}/v1/images/edits"

    def one(_index: int) -> int:
        response = requests.post(url, data=body, headers=headers, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"edit answered {response.status_code}: {response.text[:300]}")
        return response.status_code

    gateway.start(port)
    try:
        worker = gateway.worker_pid()
        small, small_type = edit_body(1, 64 * 1024)
        for _ in range(2):  # warm: imports, pools, the first spooled files
            requests.post(url, data=small, timeout=60,
                          headers={**headers, "Content-Type": small_type}).raise_for_status()
        idle_kib = memory_kib(worker)["VmRSS"]
        reset_peak(worker)
        user, system = cpu_seconds(worker)
        started = time.monotonic()
        with RssSampler(worker, 0.05) as sampler, ThreadPoolExecutor(EDITS) as pool:
            for _ in range(rounds):
                list(pool.map(one, range(EDITS)))
        seconds = time.monotonic() - started
        user_after, system_after = cpu_seconds(worker)
        peak_kib = max(memory_kib(worker)["VmHWM"], sampler.peak_kib)
    finally:
        gateway.stop()
        fake.stop()
    growth_mb = (peak_kib - idle_kib) * 1024 / MB / EDITS
    upload_mb = len(body) / MB
    return Result(
        edits=EDITS, images_per_edit=IMAGES, upload_mb=round(upload_mb, 1),
        idle_rss_mb=round(idle_kib * 1024 / MB, 1), peak_rss_mb=round(peak_kib * 1024 / MB, 1),
        growth_per_edit_mb=round(growth_mb, 2),
        growth_per_edit_uploads=round(growth_mb / upload_mb, 3),
        cpu_seconds_per_edit=round((user_after + system_after - user - system)
                                   / (EDITS * rounds), 3),
        upstream_body_mb=round(max(fake.received) / MB, 1), seconds=round(seconds, 1),
        rounds=rounds)


def report(result: Result) -> str:
    verdict = "meets" if result.passed else "MISSES"
    return "\n".join([
        "## E1: 8 concurrent edits, 4 input images of 5 MB each",
        "",
        "| measure | value |",
        "|---|---|",
        f"| upload per edit | {result.upload_mb} MB |",
        f"| upstream body per call (base64 JSON) | {result.upstream_body_mb} MB |",
        f"| worker RSS idle / peak | {result.idle_rss_mb} / {result.peak_rss_mb} MB |",
        f"| peak RSS growth per in-flight edit | {result.growth_per_edit_mb} MB = "
        f"{result.growth_per_edit_uploads} x its upload (target <= {TARGET:g}: {verdict}) |",
        f"| CPU per edit (gateway worker) | {result.cpu_seconds_per_edit} s |",
        f"| rounds of {result.edits} edits, wall time | {result.rounds}, {result.seconds} s |",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edits", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round instead of three")
    parser.add_argument("--label", default="latest-edits")
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-edits-") as work:
        result = run(1 if args.quick else 3, Path(work))
    text = report(result)
    print(text)
    (RESULTS / f"{args.label}.md").write_text(text)
    (RESULTS / f"{args.label}.json").write_text(
        json.dumps({**asdict(result), "passed": result.passed}, indent=2) + "\n")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
