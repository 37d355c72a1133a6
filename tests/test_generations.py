"""POST /v1/images/generations against a `responses` fake of Gemini: every row of the
failure table, auth, validation and parameter filtering."""

import json
import logging

import pytest
import requests

from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, KEYS, TOKENS


def post(client, auth, body=None, **kwargs):
    return client.post("/v1/images/generations", json=body or {"prompt": "a red fox"},
                       headers=auth, **kwargs)


def keys_seen(upstream):
    return [call.request.headers["Authorization"].removeprefix("Bearer ")
            for call in upstream.calls]


def assert_openai_error(response, status, *, code=None, error_type=None):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    if error_type is not None:
        assert body["error"]["type"] == error_type
    return body["error"]


def test_success_returns_openai_shape_and_forwards_only_known_fields(client, auth, upstream):
    upstream.post(IMAGES_URL, json=gemini.images(2))
    response = post(client, auth, {"prompt": "a red fox", "n": 2, "size": "1024x1024",
                                   "model": "gemini-3-pro-image-preview", "seed": 7,
                                   "user": "u1", "quality": "hd", "style": "vivid"})
    assert response.status_code == 200
    assert response.get_json() == {"created": 1_790_000_000,
                                   "data": [{"b64_json": gemini.PNG_B64}] * 2}
    sent = json.loads(upstream.calls[0].request.body)
    assert sent == {"model": "gemini-3-pro-image-preview", "prompt": "a red fox", "n": 2,
                    "size": "1024x1024", "response_format": "b64_json"}


def test_default_model_and_auto_size(client, auth, upstream):
    upstream.post(IMAGES_URL, json=gemini.images())
    post(client, auth, {"prompt": "x", "size": "auto", "response_format": "b64_json"})
    sent = json.loads(upstream.calls[0].request.body)
    assert sent == {"model": "gemini-nano-banana-2.1", "prompt": "x", "n": 1,
                    "response_format": "b64_json"}


@pytest.fixture
def gateway_log(caplog):
    """caplog on the gateway's logger, which does not propagate. Removed afterwards: pytest
    reuses one capture handler, and left on the logger it would sit before the redacting
    handler of the next test's app and see records before their secrets are masked."""
    logger = logging.getLogger("gateway")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def test_dropped_parameters_are_logged_by_name_at_debug(make_app, auth, upstream, gateway_log):
    client = make_app(LOG_LEVEL="debug").test_client()
    caplog = gateway_log
    upstream.post(IMAGES_URL, json=gemini.images())
    post(client, auth, {"prompt": "x", "seed": 123456789, "user": "private-user"})
    text = caplog.text
    assert "seed" in text and "user" in text
    assert "123456789" not in text and "private-user" not in text


def test_key_goes_in_a_header_never_in_the_url(client, auth, upstream):
    upstream.post(IMAGES_URL, json=gemini.images())
    post(client, auth)
    request = upstream.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {KEYS[0]}"
    assert all(key not in request.url for key in KEYS)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": f"Basic {TOKENS[0]}"}])
def test_missing_or_wrong_token_is_401_without_upstream_call(client, upstream, headers):
    response = client.post("/v1/images/generations", json={"prompt": "x"}, headers=headers)
    assert_openai_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert len(upstream.calls) == 0


def test_every_configured_token_works(client, upstream):
    upstream.post(IMAGES_URL, json=gemini.images())
    for token in TOKENS:
        response = post(client, {"Authorization": f"bearer {token}"})
        assert response.status_code == 200


def test_open_gateway_needs_no_token(make_app, upstream):
    upstream.post(IMAGES_URL, json=gemini.images())
    client = make_app(PROXY_AUTH_KEYS="").test_client()
    assert client.post("/v1/images/generations", json={"prompt": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"), ({"prompt": ""}, "prompt"), ({"prompt": "  "}, "prompt"),
        ({"prompt": 5}, "prompt"), ({"prompt": "x", "n": 0}, "n"), ({"prompt": "x", "n": 11}, "n"),
        ({"prompt": "x", "n": "2"}, "n"), ({"prompt": "x", "n": 1.5}, "n"),
        ({"prompt": "x", "n": True}, "n"), ({"prompt": "x", "size": "big"}, "size"),
        ({"prompt": "x", "size": "0x10"}, "size"), ({"prompt": "x", "size": "-5x5"}, "size"),
        ({"prompt": "x", "size": 1024}, "size"), ({"prompt": "x", "response_format": "png"},
                                                   "response_format"),
        ({"prompt": "x", "response_format": "url"}, "response_format"),
        ({"prompt": "x", "model": ""}, "model"), ({"prompt": "x", "model": ["m"]}, "model"),
        ([], None), ("text", None), (None, None),
    ],
)
def test_bad_input_is_400_naming_the_param(client, auth, upstream, body, param):
    response = client.post("/v1/images/generations", data=json.dumps(body),
                           content_type="application/json", headers=auth)
    error = assert_openai_error(response, 400, error_type="invalid_request_error")
    assert error["param"] == param
    assert len(upstream.calls) == 0


def test_url_format_says_it_cannot_be_served(client, auth):
    error = assert_openai_error(post(client, auth, {"prompt": "x", "response_format": "url"}), 400)
    assert "b64_json" in error["message"] and "not supported" in error["message"]


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff\xfe", b"[" * 100_000, b"NaNx"])
def test_invalid_json_is_400(client, auth, raw):
    response = client.post("/v1/images/generations", data=raw,
                           content_type="application/json", headers=auth)
    assert_openai_error(response, 400)


def test_body_over_the_limit_is_413(make_app, auth):
    client = make_app(MAX_BODY_BYTES=2048).test_client()
    response = post(client, auth, {"prompt": "x" * 5000})
    assert_openai_error(response, 413, code="request_too_large")


def test_wrong_method_and_unknown_path_are_json(client, auth):
    assert_openai_error(client.get("/v1/images/generations", headers=auth), 405)
    assert "POST" in client.get("/v1/images/generations").headers["Allow"]
    assert_openai_error(client.get("/v1/nothing-here"), 404)


# ---- the failure table -------------------------------------------------------------


@pytest.mark.parametrize("array", [True, False])
def test_429_cools_the_key_and_fails_over_at_once(client, auth, upstream, array):
    upstream.post(IMAGES_URL, body=gemini.rate_limited("53s", array=array), status=429)
    upstream.post(IMAGES_URL, json=gemini.images())
    response = post(client, auth)
    assert response.status_code == 200
    assert keys_seen(upstream) == [KEYS[0], KEYS[1]]
    # The cooling key is skipped by the next requests.
    post(client, auth)
    post(client, auth)
    assert keys_seen(upstream)[2:] == [KEYS[1], KEYS[1]]


def test_all_keys_cooling_answers_429_with_retry_after_at_once(client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.rate_limited("45.837906927s"), status=429)
    upstream.post(IMAGES_URL, body=gemini.rate_limited("12s"), status=429)
    response = post(client, auth)
    assert_openai_error(response, 429, code="rate_limit_exceeded", error_type="rate_limit_error")
    assert response.headers["Retry-After"] == "12"
    assert len(upstream.calls) == 2
    # No further upstream call while both cool.
    again = post(client, auth)
    assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 12
    assert len(upstream.calls) == 2


def test_429_without_retry_delay_cools_for_a_minute(client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.rate_limited(None), status=429)
    upstream.post(IMAGES_URL, body=gemini.rate_limited(None), status=429)
    response = post(client, auth)
    assert response.status_code == 429
    assert 59 <= int(response.headers["Retry-After"]) <= 60


def test_daily_quota_cools_until_midnight_pacific(app, client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.rate_limited("20s", daily=True), status=429)
    upstream.post(IMAGES_URL, json=gemini.images())
    assert post(client, auth).status_code == 200
    pool = app.extensions["gateway"].pool
    (first, _) = pool.snapshot()
    from app.gemini.cooldown import next_daily_reset

    assert first["state"] == "cooling"
    import time

    assert first["cooling_until"] == pytest.approx(next_daily_reset(time.time()), abs=2)


@pytest.mark.parametrize("body", [gemini.invalid_key(), gemini.invalid_key(array=False),
                                  gemini.leaked_key()])
def test_key_fault_takes_the_key_out_of_rotation(app, client, auth, upstream, body):
    status = 403 if "leaked" in body else 400
    upstream.post(IMAGES_URL, body=body, status=status)
    upstream.post(IMAGES_URL, json=gemini.images())
    assert post(client, auth).status_code == 200
    for _ in range(3):
        post(client, auth)
    assert keys_seen(upstream) == [KEYS[0]] + [KEYS[1]] * 4
    state = app.extensions["gateway"].pool.snapshot()[0]
    assert state["state"] == "out_of_rotation" and state["reason"]


def test_every_key_out_of_rotation_is_503(client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.invalid_key(), status=400)
    response = post(client, auth)
    error = assert_openai_error(response, 503, code="no_usable_key")
    assert "no usable" in error["message"].lower()
    assert len(upstream.calls) == 2
    assert_openai_error(post(client, auth), 503)
    assert len(upstream.calls) == 2


def test_one_key_cooling_one_out_is_429(client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.rate_limited("30s"), status=429)
    upstream.post(IMAGES_URL, body=gemini.invalid_key(), status=400)
    response = post(client, auth)
    assert_openai_error(response, 429)
    assert response.headers["Retry-After"] in ("29", "30")


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, gemini.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
         "Request contains an invalid argument."),
        (400, gemini.error(400, "INVALID_ARGUMENT",
                           "Imagen API is only accessible to billed users at this time."),
         "billed users"),
        (400, gemini.error(400, "FAILED_PRECONDITION",
                           "Image generation is not available in your country."), "country"),
    ],
)
def test_request_faults_are_relayed_without_penalty_or_retry(app, client, auth, upstream,
                                                              status, body, message):
    upstream.post(IMAGES_URL, body=body, status=status)
    response = post(client, auth)
    error = assert_openai_error(response, status, error_type="invalid_request_error")
    assert message in error["message"]
    assert len(upstream.calls) == 1
    assert {k["state"] for k in app.extensions["gateway"].pool.snapshot()} == {"active"}


def test_unknown_model_is_404_model_not_found(client, auth, upstream):
    upstream.post(IMAGES_URL, status=404, body=gemini.error(
        404, "NOT_FOUND", "models/imagen-4.0-generate-preview-06-06 is not found"))
    response = post(client, auth, {"prompt": "x", "model": "imagen-4.0-generate-preview-06-06"})
    assert_openai_error(response, 404, code="model_not_found")
    assert len(upstream.calls) == 1


@pytest.mark.parametrize("body", [gemini.overloaded(), gemini.internal()])
def test_5xx_is_retried_on_the_same_key_then_502(client, auth, upstream, body):
    status = 503 if "overloaded" in body else 500
    upstream.post(IMAGES_URL, body=body, status=status)
    response = post(client, auth)
    assert_openai_error(response, 502, error_type="upstream_error")
    assert keys_seen(upstream) == [KEYS[0]] * 4  # first attempt + MAX_RETRIES (3)


def test_5xx_then_success_on_the_same_key(client, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.overloaded(), status=503)
    upstream.post(IMAGES_URL, body=gemini.overloaded(), status=503)
    upstream.post(IMAGES_URL, json=gemini.images())
    assert post(client, auth).status_code == 200
    assert keys_seen(upstream) == [KEYS[0]] * 3


def test_max_retries_zero_means_one_attempt(make_app, auth, upstream):
    upstream.post(IMAGES_URL, body=gemini.overloaded(), status=503)
    assert post(make_app(MAX_RETRIES=0).test_client(), auth).status_code == 502
    assert len(upstream.calls) == 1


@pytest.mark.parametrize("body", ["<html><body>502 Bad Gateway</body></html>", "", "[]",
                                  '{"data": "nope"}', "not json at all"])
def test_garbage_200_is_502(client, auth, upstream, body):
    upstream.post(IMAGES_URL, body=body, status=200)
    assert_openai_error(post(client, auth), 502)


@pytest.mark.parametrize("status", [502, 500])
def test_non_json_5xx_is_502(client, auth, upstream, status):
    upstream.post(IMAGES_URL, body="<html>upstream broke</html>", status=status,
                  content_type="text/html")
    assert_openai_error(post(client, auth), 502)


def test_empty_4xx_body_is_relayed_as_a_clean_error(client, auth, upstream):
    upstream.post(IMAGES_URL, body="", status=400)
    error = assert_openai_error(post(client, auth), 400)
    assert "HTTP 400" in error["message"]


def test_dropped_connection_is_502_without_retry(client, auth, upstream):
    upstream.post(IMAGES_URL, body=requests.exceptions.ConnectionError("Connection aborted."))
    assert_openai_error(post(client, auth), 502)
    assert len(upstream.calls) == 1


def test_read_timeout_is_504_without_retry(client, auth, upstream):
    upstream.post(IMAGES_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    assert_openai_error(post(client, auth), 504, code="upstream_timeout")
    assert len(upstream.calls) == 1


def test_zero_images_is_content_policy_violation(app, client, auth, upstream):
    upstream.post(IMAGES_URL, json={"created": 1, "data": []})
    assert_openai_error(post(client, auth), 400, code="content_policy_violation")
    assert app.extensions["gateway"].pool.snapshot()[0]["state"] == "active"


def test_fewer_images_than_asked_are_returned(client, auth, upstream):
    upstream.post(IMAGES_URL, json=gemini.images(1))
    response = post(client, auth, {"prompt": "x", "n": 3})
    assert response.status_code == 200 and len(response.get_json()["data"]) == 1


def test_upstream_body_over_the_limit_is_502(make_app, auth, upstream):
    upstream.post(IMAGES_URL, body="x" * 5000, status=200)
    response = post(make_app(MAX_UPSTREAM_BYTES=2048).test_client(), auth)
    assert_openai_error(response, 502, code="upstream_response_too_large")


def test_queue_full_is_503_with_retry_after(make_app, auth, upstream):
    app = make_app(MAX_CONCURRENT=1, QUEUE_TIMEOUT=0)
    slots = app.extensions["gateway"].upstream.slots
    lease = slots.acquire(0)  # another request holds the only slot
    try:
        response = post(app.test_client(), auth)
    finally:
        slots.release(lease)
    assert_openai_error(response, 503, code="server_busy")
    assert int(response.headers["Retry-After"]) >= 1
    assert len(upstream.calls) == 0


def test_keys_and_tokens_never_reach_a_response_or_the_logs(client, auth, upstream,
                                                            gateway_log):
    caplog = gateway_log
    upstream.post(IMAGES_URL, status=400, body=gemini.error(
        400, "INVALID_ARGUMENT", f"API key not valid: {KEYS[0]}",
        [{"@type": gemini.ERROR_INFO, "reason": "API_KEY_INVALID"}]))
    upstream.post(IMAGES_URL, status=400, body=gemini.error(
        400, "INVALID_ARGUMENT", f"bad request with {KEYS[1]} and {TOKENS[0]}"))
    response = post(client, auth)
    seen = response.get_data(as_text=True) + str(response.headers) + caplog.text
    for secret in (*KEYS, *TOKENS):
        assert secret not in seen
    assert "…0001" in caplog.text  # the disabled key is named, masked


def test_an_openai_compatible_upstream_takes_any_model_name(client, auth, upstream):
    # Providers behind UPSTREAM_API=openai name models with slashes; only the native
    # backend, where the model is a URL path segment, restricts the characters.
    upstream.post(IMAGES_URL, json=gemini.images())
    response = post(client, auth, {"prompt": "x", "model": "google/gemini-2.5-flash-image"})
    assert response.status_code == 200
    assert json.loads(upstream.calls[0].request.body)["model"] == "google/gemini-2.5-flash-image"


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_redirect_is_never_followed_on_the_compat_route_either(client, auth, upstream,
                                                                 status):
    # requests follows redirects by default: a 307/308 re-sent the prompt (and the key)
    # to another host and served that host's answer as Gemini's.
    upstream.post(IMAGES_URL, status=status, headers={"Location": "https://evil.test/x"})
    upstream.post("https://evil.test/x", json=gemini.images())
    response = post(client, auth)
    assert_openai_error(response, 502, code="bad_gateway")
    assert [call.request.url for call in upstream.calls] == [IMAGES_URL]


def test_a_malformed_content_length_is_a_502_on_the_compat_route(client, auth, upstream):
    # str.isdigit() accepts "²", which int() refuses: it was a 500 with a traceback.
    upstream.post(IMAGES_URL, body=json.dumps(gemini.images()),
                  headers={"Content-Length": "\u00b2"}, auto_calculate_content_length=False)
    assert_openai_error(post(client, auth), 502)
