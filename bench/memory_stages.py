"""What one large answer costs the gateway in memory, stage by stage (tracemalloc).

The gateway runs in this process, its upstream replaced by a transport adapter that
hands back a prepared body (allocated before tracing starts, like bytes still in the
kernel). Figures are in multiples of what Gemini sent for the request (native: n bodies):
how many copies of the answer a request holds at once.
"""

from __future__ import annotations

import io
import secrets
import tracemalloc

from requests import Response
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

from .scenarios import Scenario
from .stack import upstream_body

BASE_URL = "http://memory-stages.invalid/v1beta"
COMPAT_BASE_URL = BASE_URL + "/openai"


class PreparedBodyAdapter(BaseAdapter):
    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def send(self, request, **_kwargs) -> Response:
        raw = HTTPResponse(body=io.BytesIO(self.body), status=200, preload_content=False,
                           headers={"Content-Type": "application/json",
                                    "Content-Length": str(len(self.body))})
        response = Response()
        response.status_code = 200
        response.headers.update(raw.headers)
        response.raw = raw
        response.request = request
        return response

    def close(self) -> None:
        pass


def measure_stages(scenario: Scenario) -> dict:
    """Native scenarios make ``images`` calls of one body each; compat ones one call."""
    from app import create_app

    body = upstream_body(scenario)
    images = scenario.images
    calls = images if scenario.native else 1
    base_url = BASE_URL if scenario.native else COMPAT_BASE_URL
    token = secrets.token_urlsafe(16)  # in-process only: nothing leaves this process
    app = create_app({"GEMINI_API_KEYS": f"memory-stages-{secrets.token_hex(8)}",
                      "PROXY_AUTH_KEYS": token, "GEMINI_BASE_URL": base_url,
                      "UPSTREAM_API": "gemini" if scenario.native else "openai"})
    app.extensions["gateway"].upstream.session.mount(base_url, PreparedBodyAdapter(body))
    client = app.test_client()
    request = {"json": {"prompt": "a lighthouse", "n": images},
               "headers": {"Authorization": f"Bearer {token}"}}
    client.post("/v1/images/generations", **request)  # warm: imports, caches, pools

    stages: list[dict] = []
    upstream_bytes = len(body) * calls  # what Gemini sent for one client request

    def stage(name: str) -> None:
        current, peak = tracemalloc.get_traced_memory()
        stages.append({"stage": name, "peak": peak / upstream_bytes,
                       "held_after": current / upstream_bytes})
        tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        # Unbuffered: the client takes the answer chunk by chunk and keeps none of it, as
        # a socket would, so what is traced is what the gateway holds.
        response = client.post("/v1/images/generations", buffered=False, **request)
        stage("call Gemini, read the answer (native: into its spools), answer the head")
        sent = 0
        for chunk in response.response:
            sent += len(chunk)
        response.close()
        stage("relay the body to the client, chunk by chunk")
        whole_peak = max(s["peak"] for s in stages) * upstream_bytes
    finally:
        tracemalloc.stop()
    # Compat answers pass through byte for byte; native ones lose their JSON around the images.
    expected = len(body) if not scenario.native else response.content_length
    if response.status_code != 200 or not sent or sent != expected:
        raise RuntimeError(f"memory stages: the gateway answered {response.status_code}, "
                           f"{sent} of {expected} bytes")
    return {"body_bytes": upstream_bytes, "images": images, "calls": calls,
            "answer_bytes": sent, "stages": stages, "request_peak": whole_peak / upstream_bytes}
