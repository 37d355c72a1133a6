"""Operating the gateway: probes, models, admin, metrics, request ids, logs, CORS."""

import json
import logging

import pytest
import responses

from tests import gemini_bodies as gemini
from tests.conftest import BASE, IMAGES_URL, KEYS, TOKENS

MODELS_URL = BASE + "/models"
ADMIN = "admin-token-abcdef0123456789"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
GEMINI_MODELS = {"object": "list", "data": [
    {"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"},
    {"id": "models/gemini-2.5-flash-image", "object": "model", "owned_by": "google"},
    {"id": "models/imagen-4.0-generate-001", "object": "model", "owned_by": "google"},
    {"id": "models/text-embedding-004", "object": "model", "owned_by": "google"},
    {"id": "models/gemini-3-pro-image-preview", "object": "model", "owned_by": "google"},
]}


@pytest.fixture
def access_lines(caplog):
    logging.getLogger("gateway").addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="gateway")
    yield lambda: [r for r in caplog.records if r.name == "gateway.access"]
    logging.getLogger("gateway").removeHandler(caplog.handler)


def assert_openai_error(response, status):
    assert response.status_code == status
    assert set(response.get_json()["error"]) == {"message", "type", "param", "code"}


# ---- probes ----------------------------------------------------------------------------


def test_healthz_needs_no_auth_and_no_upstream(client, upstream):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert len(upstream.calls) == 0


def test_readyz_ready_while_a_key_is_in_rotation_even_cooling(app, client):
    pool = app.extensions["gateway"].pool
    pool.disable(KEYS[0], "invalid")
    pool.cool(KEYS[1], 9e12, "429")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready",
                                   "keys": {"active": 0, "cooling": 1, "out_of_rotation": 1}}


def test_readyz_unready_when_every_key_is_out(app, client):
    for key in KEYS:
        app.extensions["gateway"].pool.disable(key, "invalid")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unready" and "out of rotation" in body["reason"]


# ---- /v1/models --------------------------------------------------------------------------


def test_models_lists_image_models_without_prefix(client, upstream):
    upstream.get(MODELS_URL, json=GEMINI_MODELS)
    response = client.get("/v1/models", headers={"Authorization": f"Bearer {TOKENS[0]}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [
        "gemini-2.5-flash-image", "imagen-4.0-generate-001", "gemini-3-pro-image-preview"]
    for model in body["data"]:
        assert model["object"] == "model" and model["owned_by"] == "google"
        assert isinstance(model["created"], int)
    assert upstream.calls[0].request.headers["Authorization"] == f"Bearer {KEYS[0]}"


def test_models_needs_a_client_token(client, upstream):
    assert_openai_error(client.get("/v1/models"), 401)
    assert len(upstream.calls) == 0


def test_models_are_cached_then_refetched_after_ttl(make_app, upstream, monkeypatch):
    app = make_app(MODELS_CACHE_TTL=600)
    clock = [1000.0]
    monkeypatch.setattr(app.extensions["gateway"].models, "_clock", lambda: clock[0])
    upstream.get(MODELS_URL, json=GEMINI_MODELS)
    auth = {"Authorization": f"Bearer {TOKENS[0]}"}
    client = app.test_client()
    for _ in range(3):
        assert client.get("/v1/models", headers=auth).status_code == 200
    assert len(upstream.calls) == 1
    clock[0] += 601
    client.get("/v1/models", headers=auth)
    assert len(upstream.calls) == 2


def test_models_served_stale_when_upstream_is_down(make_app, upstream, monkeypatch):
    app = make_app(MODELS_CACHE_TTL=1)
    clock = [1000.0]
    monkeypatch.setattr(app.extensions["gateway"].models, "_clock", lambda: clock[0])
    auth = {"Authorization": f"Bearer {TOKENS[0]}"}
    client = app.test_client()
    upstream.get(MODELS_URL, json=GEMINI_MODELS)
    first = client.get("/v1/models", headers=auth).get_json()
    upstream.replace(responses.GET, MODELS_URL, body=gemini.internal(), status=500)
    clock[0] += 5
    response = client.get("/v1/models", headers=auth)
    assert response.status_code == 200 and response.get_json() == first
    assert len(upstream.calls) > 1


def test_models_502_without_any_cache(client, upstream):
    upstream.get(MODELS_URL, body="<html>down</html>", status=502)
    response = client.get("/v1/models", headers={"Authorization": f"Bearer {TOKENS[0]}"})
    assert_openai_error(response, 502)


# ---- /admin ------------------------------------------------------------------------------


def test_admin_is_404_when_no_admin_token(client):
    assert_openai_error(client.get("/admin/keys", headers=ADMIN_AUTH), 404)
    assert_openai_error(client.post("/admin/keys/…0001/enable", headers=ADMIN_AUTH), 404)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-000000000"},
                                     {"Authorization": f"Bearer {TOKENS[0]}"}])
def test_admin_refuses_missing_or_wrong_token(make_app, headers):
    client = make_app(ADMIN_TOKEN=ADMIN).test_client()
    assert_openai_error(client.get("/admin/keys", headers=headers), 401)
    assert_openai_error(client.post("/admin/keys/…0001/enable", headers=headers), 401)


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {TOKENS[0]}"}])
def test_admin_401_names_admin_token_not_the_gateway_key(make_app, headers):
    client = make_app(ADMIN_TOKEN=ADMIN, METRICS_AUTH="true").test_client()
    for response in (client.get("/admin/keys", headers=headers),
                     client.get("/metrics", headers=headers)):
        message = response.get_json()["error"]["message"]
        assert response.status_code == 401
        assert "ADMIN_TOKEN" in message and "gateway key" not in message


def test_admin_keys_shows_masked_states_and_counts(make_app, upstream):
    app = make_app(ADMIN_TOKEN=ADMIN)
    client = app.test_client()
    upstream.post(IMAGES_URL, body=gemini.invalid_key(), status=400)
    upstream.post(IMAGES_URL, json=gemini.images())
    client.post("/v1/images/generations", json={"prompt": "x"},
                headers={"Authorization": f"Bearer {TOKENS[0]}"})
    app.extensions["gateway"].pool.cool(KEYS[1], 4_102_444_800, "429 for a while")
    response = client.get("/admin/keys", headers=ADMIN_AUTH)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert all(key not in text for key in KEYS)
    first, second = response.get_json()["data"]
    assert first["key"] == "…0001" and first["state"] == "out_of_rotation"
    assert "API_KEY_INVALID" in first["reason"]
    assert first["failures"] == {"key_rejected": 1} and first["requests"] == 1
    assert second["key"] == "…0002" and second["state"] == "cooling"
    assert second["cooling_until"] == "2100-01-01T00:00:00Z"
    assert second["successes"] == 1 and second["last_success_at"].endswith("Z")


def test_admin_enable_puts_a_key_back(make_app, upstream):
    app = make_app(ADMIN_TOKEN=ADMIN)
    pool = app.extensions["gateway"].pool
    pool.disable(KEYS[0], "billing")
    client = app.test_client()
    response = client.post("/admin/keys/%E2%80%A60001/enable", headers=ADMIN_AUTH)
    assert response.status_code == 200 and response.get_json()["state"] == "active"
    assert client.post("/admin/keys/0002/enable", headers=ADMIN_AUTH).status_code == 200
    assert_openai_error(client.post("/admin/keys/zzzz/enable", headers=ADMIN_AUTH), 404)
    upstream.post(IMAGES_URL, json=gemini.images())
    client.post("/v1/images/generations", json={"prompt": "x"},
                headers={"Authorization": f"Bearer {TOKENS[0]}"})
    assert upstream.calls[0].request.headers["Authorization"] == f"Bearer {KEYS[0]}"


# ---- /metrics ----------------------------------------------------------------------------


def samples(exposition: str) -> dict:
    """{(sample name, frozenset of label pairs): value} from a Prometheus text page."""
    from prometheus_client.parser import text_string_to_metric_families

    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def test_metrics_count_requests_attempts_and_keys(client, upstream):
    upstream.post(IMAGES_URL, body=gemini.rate_limited("30s"), status=429)
    upstream.post(IMAGES_URL, json=gemini.images())
    client.post("/v1/images/generations", json={"prompt": "x"},
                headers={"Authorization": f"Bearer {TOKENS[0]}"})
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    got = samples(text)

    def value(name, **labels):
        return got.get((name, frozenset(labels.items())))

    assert value("gateway_requests_total", route="/v1/images/generations", method="POST",
                 status="200") == 1
    assert value("gateway_requests_total", route="/healthz", method="GET", status="200") == 1
    assert value("gateway_upstream_attempts_total", key="…0001", outcome="rate_limited") == 1
    assert value("gateway_upstream_attempts_total", key="…0002", outcome="success") == 1
    assert value("gateway_key_state", key="…0001", state="cooling") == 1
    assert value("gateway_key_state", key="…0002", state="active") == 1
    assert value("gateway_upstream_in_flight") == 0
    assert value("gateway_queue_wait_seconds_count") == 1
    assert value("gateway_request_duration_seconds_bucket", route="/v1/images/generations",
                 le="300.0") == 1
    assert value("gateway_upstream_duration_seconds_bucket", outcome="success", le="300.0") == 1
    assert all(secret not in text for secret in (*KEYS, *TOKENS))


def test_metric_labels_come_from_fixed_sets_whatever_the_method(client):
    for method in ("THBVIEOJNL", "QRSTUVWXYZ", "M-SEARCH"):
        client.open("/healthz", method=method)
    client.open("/no/such/path/" + "x" * 50, method="PURGE")
    got = samples(client.get("/metrics").get_data(as_text=True))
    methods = {dict(labels)["method"] for (name, labels) in got
               if name == "gateway_requests_total"}
    assert methods == {"OTHER"}
    assert sum(value for (name, _), value in got.items()
               if name == "gateway_requests_total") == 4
    routes = {dict(labels)["route"] for (name, labels) in got if name == "gateway_requests_total"}
    assert routes == {"unmatched"}  # a 405 matched no rule either


def test_metrics_open_by_default_and_behind_admin_token_when_asked(make_app):
    assert make_app().test_client().get("/metrics").status_code == 200
    client = make_app(ADMIN_TOKEN=ADMIN, METRICS_AUTH="true").test_client()
    assert_openai_error(client.get("/metrics"), 401)
    assert client.get("/metrics", headers=ADMIN_AUTH).status_code == 200


# ---- request ids and logs ------------------------------------------------------------


@pytest.mark.parametrize("given", ["abc-123", "A.b_c-9", "x" * 128])
def test_acceptable_request_id_is_echoed(client, given):
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == \
        given


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "semi;colon", "ünïcode"])
def test_other_request_ids_are_replaced(client, given):
    returned = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert returned != given and len(returned) == 32


def test_request_id_on_error_responses_and_in_every_log_line(client, upstream, access_lines,
                                                             caplog):
    upstream.post(IMAGES_URL, body=gemini.invalid_key(), status=400)
    upstream.post(IMAGES_URL, json=gemini.images())
    response = client.post("/v1/images/generations", json={"prompt": "x"},
                           headers={"Authorization": f"Bearer {TOKENS[0]}",
                                    "X-Request-ID": "req-42"})
    assert response.headers["X-Request-ID"] == "req-42"
    assert client.get("/nowhere", headers={"X-Request-ID": "req-43"}).headers[
        "X-Request-ID"] == "req-43"
    about_42 = [r for r in caplog.records if r.getMessage().find("rotation") >= 0]
    assert about_42 and all(r.request_id == "req-42" for r in about_42)
    assert [r.request_id for r in access_lines()] == ["req-42", "req-43"]


def test_access_line_fields(client, upstream, access_lines):
    upstream.post(IMAGES_URL, body=gemini.overloaded(), status=503)
    upstream.post(IMAGES_URL, json=gemini.images(2))
    client.post("/v1/images/generations", json={"prompt": "secret plans", "n": 2},
                headers={"Authorization": f"Bearer {TOKENS[0]}"})
    (line,) = access_lines()
    fields = line.access
    assert fields["method"] == "POST" and fields["path"] == "/v1/images/generations"
    assert fields["status"] == 200 and fields["images"] == 2 and fields["key"] == "…0001"
    assert fields["latency_ms"] >= 0
    assert "prompt" not in fields and "secret plans" not in line.getMessage()


def test_prompts_logged_only_when_asked(make_app, upstream, access_lines):
    upstream.post(IMAGES_URL, json=gemini.images())
    make_app(LOG_PROMPTS="true").test_client().post(
        "/v1/images/generations", json={"prompt": "a calm sea"},
        headers={"Authorization": f"Bearer {TOKENS[0]}"})
    (line,) = access_lines()
    assert line.access["prompt"] == "a calm sea" and "a calm sea" in line.getMessage()


def test_json_log_lines(make_app, upstream, capsys):
    upstream.post(IMAGES_URL, json=gemini.images())
    make_app(LOG_FORMAT="json").test_client().post(
        "/v1/images/generations", json={"prompt": "x"},
        headers={"Authorization": f"Bearer {TOKENS[0]}", "X-Request-ID": "json-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    (access,) = [line for line in lines if line["logger"] == "gateway.access"]
    assert access["request_id"] == "json-1" and access["status"] == 200
    assert access["attempts"] == 1 and access["images"] == 1 and access["key"] == "…0001"
    assert {"time", "level", "message", "latency_ms", "method", "path"} <= set(access)


# ---- CORS ----------------------------------------------------------------------------


def test_preflight_answered_without_auth(make_app, upstream):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()
    response = client.options("/v1/images/generations", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    allowed = response.headers["Access-Control-Allow-Headers"]
    assert all(h in allowed for h in ("Authorization", "Content-Type", "X-Request-ID"))
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert len(upstream.calls) == 0


# What a browser asks before the openai JS SDK's first call (dangerouslyAllowBrowser):
# the SDK's headers, lowercased and sorted, as Chrome and Firefox send them.
OPENAI_JS_PREFLIGHT = ("authorization,content-type,x-stainless-arch,x-stainless-lang,"
                       "x-stainless-os,x-stainless-package-version,x-stainless-retry-count,"
                       "x-stainless-runtime,x-stainless-runtime-version,x-stainless-timeout")


@pytest.mark.parametrize("requested", [
    OPENAI_JS_PREFLIGHT,
    OPENAI_JS_PREFLIGHT + ",openai-organization,openai-project,x-stainless-helper-method",
    "accept,authorization,content-type,x-request-id",
])
def test_preflight_allows_every_header_the_openai_sdks_send(make_app, requested):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()
    response = client.options("/v1/images/generations", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": requested})
    assert response.status_code == 204
    # The browser's check: every requested name is in the allowed list, case-insensitive.
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"]
               .split(",")}
    assert set(requested.split(",")) <= allowed
    assert "Access-Control-Request-Headers" in response.headers["Vary"]


def test_preflight_allows_no_header_outside_the_list(make_app):
    client = make_app(CORS_ORIGINS="*").test_client()
    response = client.options("/v1/images/generations", headers={
        "Origin": "https://a.b", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-evil,cookie,x-stainless-\u00e9"})
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-evil" not in allowed and "cookie" not in allowed and "\u00e9" not in allowed


def test_cors_headers_on_errors_too(make_app):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()
    response = client.post("/v1/images/generations", json={"prompt": "x"},
                           headers={"Origin": "https://app.example.com"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "X-Request-ID" in exposed and "Retry-After" in exposed


def test_unlisted_origin_gets_no_cors_headers(make_app):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_wildcard_and_off(make_app):
    star = make_app(CORS_ORIGINS="*").test_client().get("/healthz", headers={"Origin": "https://a.b"})
    assert star.headers["Access-Control-Allow-Origin"] == "*"
    off = make_app().test_client().get("/healthz", headers={"Origin": "https://a.b"})
    assert "Access-Control-Allow-Origin" not in off.headers


def test_flask_logger_is_masked_too(app, caplog):
    # Flask logs a traceback through its own logger when an error handler itself fails.
    app.logger.addHandler(caplog.handler)
    try:
        app.logger.error("an error handler failed near %s", KEYS[0])
    finally:
        app.logger.removeHandler(caplog.handler)
    assert KEYS[0] not in caplog.text and "…0001" in caplog.text
