"""openapi.yaml is valid, complete, and true: every route the app serves is documented,
every documented route is served, and a real response for every row of the README's
failure table (and every operations endpoint) is what the spec says it is."""

import json
import threading

import pytest
import requests
import responses
from openapi_spec_validator import validate

from app import create_app
from tests import contract
from tests import gemini_bodies as gemini
from tests.conftest import BASE, IMAGES_URL, KEYS, TOKENS, ClosingClient, gateway_env

MODELS_URL = BASE + "/models"
ADMIN = "admin-token-contract-0123456789"
AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
GEMINI_MODELS = {"object": "list", "data": [
    {"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"},
    {"id": "models/gemini-2.5-flash-image", "object": "model", "owned_by": "google"}]}


def test_the_spec_is_valid_openapi():
    validate(contract.yaml.safe_load(contract.SPEC_PATH.read_text()))


def test_every_served_route_is_documented_and_every_documented_one_served():
    app = create_app(gateway_env(ADMIN_TOKEN=ADMIN))
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        template = rule.rule.replace("<", "{").replace(">", "}").replace("{masked}", "{key}")
        served |= {(method, template) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == set(contract.operations())


def client_for(**env):
    app = create_app(gateway_env(ADMIN_TOKEN=ADMIN, **env))
    app.test_client_class = ClosingClient
    return app.test_client()


def generate(client, body=None, headers=AUTH, **kwargs):
    return client.post("/v1/images/generations", json=body or {"prompt": "a red fox"},
                       headers=headers, **kwargs)


def invalid_both_keys(upstream):
    upstream.post(IMAGES_URL, status=400, body=gemini.invalid_key())


# Each scenario: (id, env, upstream setup, request, expected status, expected error code).
SCENARIOS = [
    ("success", {}, lambda u: u.post(IMAGES_URL, json=gemini.images(2)),
     lambda c: generate(c, {"prompt": "x", "n": 2, "size": "1024x1024"}), 200, None),
    ("invalid json", {}, None,
     lambda c: c.post("/v1/images/generations", data=b"{nope", headers=AUTH), 400, None),
    ("bad n", {}, None, lambda c: generate(c, {"prompt": "x", "n": 11}), 400, "invalid_value"),
    ("url format", {}, None, lambda c: generate(c, {"prompt": "x", "response_format": "url"}),
     400, "unsupported_value"),
    ("safety filter", {}, lambda u: u.post(IMAGES_URL, json={"created": 1, "data": []}),
     generate, 400, "content_policy_violation"),
    ("gemini refuses", {}, lambda u: u.post(IMAGES_URL, status=400, body=gemini.error(
        400, "FAILED_PRECONDITION", "Image generation is not available in your country.")),
     generate, 400, "failed_precondition"),
    ("gemini forbids", {}, lambda u: u.post(IMAGES_URL, status=403, body=gemini.error(
        403, "PERMISSION_DENIED", "The caller does not have permission to use this tuned model.")),
     generate, 403, "permission_denied"),
    ("missing token", {}, None, lambda c: generate(c, headers={}), 401, "invalid_api_key"),
    ("wrong token", {}, None, lambda c: generate(c, headers={"Authorization": "Bearer no"}),
     401, "invalid_api_key"),
    ("unknown path", {}, None, lambda c: c.get("/v1/nowhere"), 404, "not_found"),
    ("wrong method", {}, None, lambda c: c.get("/v1/images/generations"), 405,
     "method_not_allowed"),
    ("model not found", {}, lambda u: u.post(IMAGES_URL, status=404, body=gemini.error(
        404, "NOT_FOUND", "models/imagen-3.0 is not found")), generate, 404, "model_not_found"),
    ("body too large", {"MAX_BODY_BYTES": 1024}, None,
     lambda c: generate(c, {"prompt": "x" * 2000}), 413, "request_too_large"),
    ("all keys rate limited", {}, lambda u: u.post(IMAGES_URL, status=429,
                                                   body=gemini.rate_limited("7s")),
     generate, 429, "rate_limit_exceeded"),
    ("no usable key", {}, invalid_both_keys, generate, 503, "no_usable_key"),
    ("gemini 5xx", {"MAX_RETRIES": 0}, lambda u: u.post(IMAGES_URL, status=503,
                                                        body=gemini.overloaded()),
     generate, 502, "bad_gateway"),
    ("garbage body", {}, lambda u: u.post(IMAGES_URL, body="<html>oops</html>"), generate,
     502, "bad_gateway"),
    ("upstream too large", {"MAX_UPSTREAM_BYTES": 1024},
     lambda u: u.post(IMAGES_URL, body="x" * 4096), generate, 502,
     "upstream_response_too_large"),
    ("dropped connection", {}, lambda u: u.post(
        IMAGES_URL, body=requests.exceptions.ConnectionError("Connection aborted")),
     generate, 502, "bad_gateway"),
    ("read timeout", {}, lambda u: u.post(IMAGES_URL, body=requests.exceptions.ReadTimeout()),
     generate, 504, "upstream_timeout"),
    ("models", {}, lambda u: u.get(MODELS_URL, json=GEMINI_MODELS),
     lambda c: c.get("/v1/models", headers=AUTH), 200, None),
    ("models without token", {}, None, lambda c: c.get("/v1/models"), 401, "invalid_api_key"),
    ("models upstream down", {}, lambda u: u.get(MODELS_URL, status=500, body=""),
     lambda c: c.get("/v1/models", headers=AUTH), 502, "bad_gateway"),
    ("healthz", {}, None, lambda c: c.get("/healthz"), 200, None),
    ("readyz", {}, None, lambda c: c.get("/readyz"), 200, None),
    ("metrics", {}, None, lambda c: c.get("/metrics"), 200, None),
    ("metrics with auth", {"METRICS_AUTH": "true"}, None, lambda c: c.get("/metrics"), 401,
     "invalid_api_key"),
    ("admin keys", {}, None, lambda c: c.get("/admin/keys", headers=ADMIN_AUTH), 200, None),
    ("admin keys without token", {}, None, lambda c: c.get("/admin/keys"), 401,
     "invalid_api_key"),
    ("enable key", {}, None,
     lambda c: c.post(f"/admin/keys/…{KEYS[0][-4:]}/enable", headers=ADMIN_AUTH), 200, None),
    ("enable unknown key", {}, None,
     lambda c: c.post("/admin/keys/zzzz/enable", headers=ADMIN_AUTH), 404, "key_not_found"),
    ("admin stats", {}, lambda u: u.post(IMAGES_URL, json=gemini.images(2)),
     lambda c: generate(c) and c.get("/admin/stats", headers=ADMIN_AUTH), 200, None),
    ("admin stats without token", {}, None, lambda c: c.get("/admin/stats"), 401,
     "invalid_api_key"),
    ("playground page", {}, None, lambda c: c.get("/"), 200, None),
    ("playground off", {"PLAYGROUND": "false"}, None, lambda c: c.get("/"), 404, "not_found"),
    ("dashboard page", {}, None, lambda c: c.get("/admin"), 200, None),
]


@pytest.mark.parametrize(("env", "setup", "send", "status", "code"),
                         [scenario[1:] for scenario in SCENARIOS],
                         ids=[scenario[0] for scenario in SCENARIOS])
def test_real_responses_are_what_the_spec_documents(upstream, env, setup, send, status, code):
    if setup is not None:
        setup(upstream)
    response = send(client_for(**env))
    assert response.status_code == status, response.get_data(as_text=True)
    if code is not None:
        assert response.get_json()["error"]["code"] == code
    assert contract.contract_violations(response.request.method, response.request.path,
                                        response.status_code, response.headers,
                                        response.get_data()) == []


def test_server_busy_is_documented_with_retry_after(upstream):
    """A request that finds every slot taken: the one slot is held by a request whose
    upstream answer waits for a second request, sent from another thread (in this one it
    would share the first request's app context and its ``g``)."""
    client = client_for(MAX_CONCURRENT=1, QUEUE_TIMEOUT=0)
    nested = []

    def answer_while_holding_the_slot(request):
        second = threading.Thread(target=lambda: nested.append(generate(client)))
        second.start()
        second.join(timeout=10)
        return 200, {}, json.dumps(gemini.images())

    upstream.add_callback(responses.POST, IMAGES_URL, callback=answer_while_holding_the_slot)
    assert generate(client).status_code == 200
    (busy,) = nested
    assert busy.status_code == 503 and busy.get_json()["error"]["code"] == "server_busy"
    assert busy.headers["Retry-After"] == "5"
    assert contract.contract_violations("POST", "/v1/images/generations", 503, busy.headers,
                                        busy.get_data()) == []


def test_readyz_unready_is_documented(upstream):
    client = client_for()
    invalid_both_keys(upstream)
    generate(client)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert contract.contract_violations("GET", "/readyz", 503, response.headers,
                                        response.get_data()) == []


def test_admin_surface_is_a_documented_404_without_admin_token():
    app = create_app(gateway_env())
    response = app.test_client().get("/admin/keys", headers=ADMIN_AUTH)
    assert response.status_code == 404
    assert contract.contract_violations("GET", "/admin/keys", 404, response.headers,
                                        response.get_data()) == []


def test_the_oracle_catches_a_response_that_breaks_the_contract():
    """The checks above cannot pass vacuously: a wrong shape, a missing header and an
    undocumented status are each reported."""
    ok = {"X-Request-ID": "abc", "Content-Type": "application/json"}
    bare_error = json.dumps({"error": "nope"}).encode()
    assert contract.contract_violations("POST", "/v1/images/generations", 502, ok, bare_error)
    assert contract.contract_violations(
        "POST", "/v1/images/generations", 429, ok,
        json.dumps({"error": {"message": "m", "type": "rate_limit_error", "param": None,
                              "code": "rate_limit_exceeded"}}).encode())
    assert contract.contract_violations("GET", "/healthz", 500, ok, b"{}")
