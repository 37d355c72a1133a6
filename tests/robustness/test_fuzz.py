"""Fuzzing from openapi.yaml with schemathesis, against real gunicorn with a gevent worker
and a healthy fake Gemini behind it.

Every documented operation gets requests that fit the spec (positive) and, where the
spec constrains something, requests that break it (negative), each with the right
token, with none and with a wrong one. Pass: no 5xx (Gemini is healthy, so any 5xx is
the gateway's), no traceback, every answer as the spec documents it (schemathesis's
own response checks and tests/contract.py), well-formed requests with the right token
accepted, the rest refused with a 4xx. Then undocumented methods and paths, and a leak
audit of every response and of the server's output.
"""

from __future__ import annotations

import base64
import io
import json
import string
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from PIL import Image
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import contract
from tests import gemini_bodies as gemini
from tests.integration.fake_gemini import Call, Reply
from tests.robustness import report
from tests.robustness.leak_audit import LeakAudit

pytestmark = [pytest.mark.integration, pytest.mark.soak]

# No long runs of one character: fuzzed names (all zeros, say) must not look like a piece.
KEYS = ("fake-FuzzKeyAlpha7Q2mX9pL4vR8sT1wK3n", "fake-FuzzKeyBravo5H8dJ2cF6gB9zN4xM7q")
TOKEN = "gw-fuzz-token-0123456789abcdef"
ADMIN = "adm-fuzz-token-0123456789abcdef"
WRONG = "gw-wrong-token-0123456789abcdef"
GEMINI_MODELS = {"object": "list", "data": [
    {"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"},
    {"id": "models/gemini-2.5-flash-image", "object": "model", "owned_by": "google"},
    {"id": "models/imagen-4.0-generate-001", "object": "model", "owned_by": "google"}]}
# Examples per (operation, mode, token); the request endpoint is where input matters most.
EXAMPLES = {"POST /v1/images/generations": 200, "POST /admin/keys/{key}/enable": 60,
            "POST /v1/images/edits": 100}
# Act on a key the path names: a well-formed name may still name no key (404).
KEY_ACTIONS = {"POST /admin/keys/{key}/enable", "POST /admin/keys/{key}/disable"}
# Well-formed lookups of a name that may not exist: 404 is a documented answer.
LOOKUPS = KEY_ACTIONS | {"GET /v1/models/{model}"}
# Fuzzed against a second gateway on the native backend, where edits are checked and built
# (with UPSTREAM_API=openai they are forwarded unread).
NATIVE_OPERATIONS = {"POST /v1/images/edits", "POST /v1/images/variations"}
DEFAULT_EXAMPLES = 60
MINIMUM_REQUESTS = 1000
OPEN_OPERATIONS = {"GET /healthz", "GET /readyz", "GET /", "GET /admin"}
# No token needed; no image was made in this run, so every name is unknown: 404.
FILE_OPERATIONS = {"GET /v1/images/files/{name}"}
GENERATIONS = "POST /v1/images/generations"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
UNDOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def healthy_gemini(call: Call):
    if call.native and call.path.endswith(":generateContent"):
        return Reply()  # a native image answer
    if call.path.endswith("/models"):
        return Reply(body=json.dumps(GEMINI_MODELS))
    n = (call.body or {}).get("n")
    return Reply(body=json.dumps(gemini.images(n if isinstance(n, int) and 1 <= n <= 4 else 1)))


def token_for(label: str, kind: str) -> str | None:
    if kind == "none":
        return None
    if kind == "wrong":
        return WRONG
    return ADMIN if "/admin/" in label or label == "GET /metrics" else TOKEN


class FuzzRun:
    """Sends schemathesis's cases to one gateway, checks each answer, counts them."""

    def __init__(self, base_url: str, audit: LeakAudit, native_url: str) -> None:
        self.base_url = base_url
        self.native_url = native_url
        self.audit = audit
        self.session = requests.Session()
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()

    def checker(self, label: str, mode: GenerationMode, kind: str):
        name = f"{label} {mode.value} token={kind}"

        def check(case) -> None:
            # The token is ours to choose, not schemathesis's: replace the one it generated
            # (in case.headers, which schemathesis reads to know what it is sending).
            headers = {key: value for key, value in (case.headers or {}).items()
                       if key.lower() != "authorization"}
            token = token_for(label, kind)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            case.headers = headers
            if mode == GenerationMode.POSITIVE:
                with_real_images(case)
            base_url = self.native_url if label in NATIVE_OPERATIONS else self.base_url
            response = case.call(base_url=base_url, session=self.session, timeout=30)
            self.counts[name] += 1
            self.statuses[response.status_code] += 1
            headers = CaseInsensitiveDict(
                {key: ", ".join(values) for key, values in response.headers.items()})
            self.audit.scan_response(name, headers, response.content)
            case.validate_response(response, checks=CHECKS)
            assert_as_documented(case, response, headers, label, mode, kind)

        return name, check


def test_fuzz_the_gateway_from_its_contract(fake, launch):
    fake.behaviour = healthy_gemini
    gateway = launch({
        "GEMINI_API_KEYS": ",".join(KEYS), "PROXY_AUTH_KEYS": TOKEN, "ADMIN_TOKEN": ADMIN,
        "METRICS_AUTH": "true", "CORS_ORIGINS": "https://app.example",
        "GEMINI_BASE_URL": fake.base_url, "UPSTREAM_API": "openai", "RETRY_DELAY": "0",
        "LOG_LEVEL": "info",
    })
    native = launch({
        "GEMINI_API_KEYS": ",".join(KEYS), "PROXY_AUTH_KEYS": TOKEN, "ADMIN_TOKEN": ADMIN,
        "GEMINI_BASE_URL": fake.native_root, "UPSTREAM_API": "gemini", "RETRY_DELAY": "0",
        "LOG_LEVEL": "info",
    })
    schema = schemathesis.openapi.from_path(contract.SPEC_PATH)
    audit = LeakAudit([*KEYS, TOKEN, ADMIN])
    fuzz = FuzzRun(gateway.url, audit, native.url)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        modes = [GenerationMode.POSITIVE]
        if operation.body or operation.path_parameters:
            modes.append(GenerationMode.NEGATIVE)  # there is something to break
        for mode in modes:
            for kind in ("valid", "none", "wrong"):
                examples = EXAMPLES.get(label, DEFAULT_EXAMPLES)
                examples = examples if kind == "valid" else max(10, examples // 5)
                name, check = fuzz.checker(label, mode, kind)
                run = settings(max_examples=examples, derandomize=True, database=None,
                               deadline=None, suppress_health_check=list(HealthCheck))(
                    given(case=operation.as_strategy(generation_mode=mode))(check))
                try:
                    run()
                except (Exception, BaseExceptionGroup) as failure:  # reported together below
                    failures.append(f"{name}: {type(failure).__name__}: {failure}"[:2000])

    handmade = probe_undocumented(gateway.url, audit)
    metrics_page = requests.get(gateway.url + "/metrics", timeout=10,
                                headers={"Authorization": f"Bearer {ADMIN}"})
    audit.scan_response("/metrics", metrics_page.headers, metrics_page.content)
    for server in (gateway, native):
        server.stop()
        audit.scan("server output", server.output())

    total = sum(fuzz.counts.values())
    report.record(f"fuzz: {total} generated requests (+{handmade} hand-made: undocumented "
                  f"methods and paths); statuses " + ", ".join(
                      f"{status}: {count}" for status, count in sorted(fuzz.statuses.items())))
    for name, count in sorted(fuzz.counts.items()):
        report.record(f"  fuzz {name}: {count}")
    report.record(f"fuzz leak audit: {audit.summary()}")
    assert failures == [], "\n\n".join(failures)
    assert total >= MINIMUM_REQUESTS
    assert audit.findings == []


def with_real_images(case) -> None:
    """A well-formed edit needs real pictures, which a schema cannot ask for (``format:
    binary`` is any bytes): positive cases get a PNG and a mask that fits it."""
    if not isinstance(case.body, dict):
        return
    if case.media_type == "application/json":
        if "images" in case.body:
            case.body["images"] = [{"image_url": PICTURE_URL}]
        if case.body.get("mask") is not None:
            case.body["mask"] = {"image_url": MASK_URL}
        return
    if "image" in case.body:
        case.body["image"] = PICTURE
    if "mask" in case.body:
        case.body["mask"] = MASK


def _png(mode: str, colour: tuple) -> bytes:
    image = Image.new(mode, (32, 32), colour)
    if mode == "RGBA":
        image.paste((0, 0, 0, 0), (8, 8, 24, 24))  # the editable hole
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PICTURE = _png("RGB", (200, 40, 40))
MASK = _png("RGBA", (0, 0, 0, 255))
PICTURE_URL = "data:image/png;base64," + base64.b64encode(PICTURE).decode()
MASK_URL = "data:image/png;base64," + base64.b64encode(MASK).decode()


def assert_as_documented(case, response, headers: CaseInsensitiveDict, label: str, mode,
                         kind: str) -> None:
    text = response.text
    assert "Traceback" not in text and "Traceback" not in str(headers)
    assert response.status_code < 500, f"{response.status_code}: {text[:300]}"
    path = response.request.path_url.split("?")[0]
    problems = contract.contract_violations(case.method, path, response.status_code, headers,
                                            response.content)
    assert problems == []
    if label in OPEN_OPERATIONS:
        assert response.status_code == 200
    elif label in FILE_OPERATIONS:
        assert response.status_code == 404
    elif label == GENERATIONS and mode == GenerationMode.POSITIVE and kind == "valid" \
            and needs_native(case.body):
        # This run is the compat pass-through (UPSTREAM_API=openai): it relays Gemini's
        # base64 answer and refuses url answers and streams (unsupported_value, unless
        # another parameter was wrong first).
        assert response.status_code == 400
    elif kind != "valid":
        assert response.status_code == 401, "a request without the right token got through"
        assert headers["WWW-Authenticate"] == "Bearer"
    elif mode == GenerationMode.POSITIVE and label not in LOOKUPS:
        assert response.status_code == 200, f"well-formed, refused: {text[:300]}"
    elif mode == GenerationMode.POSITIVE:
        assert response.status_code in (200, 404)  # 404: no key or model of that name
    elif breaks_more_than_the_token(case):
        assert 400 <= response.status_code < 500, f"malformed, accepted: {case.body!r:.200}"


def needs_native(body) -> bool:
    return isinstance(body, dict) and (body.get("stream") is True
                                       or body.get("response_format") == "url"
                                       or (body.get("response_format") is None
                                           and body.get("model") in ("dall-e-2", "dall-e-3")))


def breaks_more_than_the_token(case) -> bool:
    """Whether a negative case broke something other than the Authorization header, which
    this suite replaces with the token it means to test."""
    data = case.meta.phase.data
    broken = {mutation.parameter for mutation in getattr(data, "mutations", ())}
    return bool(broken - {"Authorization"}) or not broken


def probe_undocumented(base_url: str, audit: LeakAudit) -> int:
    """Methods a path does not serve get 405 with Allow; unknown paths get 404: both in
    OpenAI's error shape, as documented."""
    sent = 0
    for template, item in contract.spec()["paths"].items():
        path = template.replace("{key}", "wxyz")
        for method in UNDOCUMENTED_METHODS:
            if method.lower() in item:
                continue
            response = requests.request(method, base_url + path, timeout=10)
            sent += 1
            audit.scan_response(f"{method} {path}", response.headers, response.content)
            assert response.status_code == 405, (method, path, response.status_code)
            assert contract.contract_violations(method, path, 405, response.headers,
                                                response.content) == []
    for path in ("/index.html", "/v1", "/v1/images", "/v1/images/edit", "/admin/",
                 "/" + string.ascii_letters, "/v1/models/x/y", "/%2e%2e/etc/passwd"):
        response = requests.get(base_url + path, timeout=10)
        sent += 1
        assert response.status_code == 404, (path, response.status_code)
        assert contract.contract_violations("GET", path, 404, response.headers,
                                            response.content) == []
    return sent
