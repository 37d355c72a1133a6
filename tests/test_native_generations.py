"""POST /v1/images/generations on the native backend (UPSTREAM_API=gemini, the default),
against a `responses` fake that answers as Gemini's generateContent does today."""

import base64
import io
import json
import logging

import pytest
import requests
import responses
from PIL import Image

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, ROOT, TOKENS

DEFAULT = "gemini-nano-banana-2.1"


def generate_url(model=DEFAULT):
    return f"{ROOT}/models/{model}:generateContent"


jpeg_b64 = gemini.jpeg_b64
FINAL = jpeg_b64(1408, 768)


def answer(final=FINAL, *, drafts=2, text="Here is the lighthouse.", mime="image/jpeg"):
    """Thought text and draft images to drop, a text part, then the final image."""
    return gemini.native_image_answer(images=[(mime, final)], thought_images=drafts, text=text,
                                      usage=gemini.native_usage(), model=DEFAULT)


@pytest.fixture
def client(native):
    return native()


def post(client, auth, body=None):
    return client.post("/v1/images/generations", json=body or {"prompt": "a lighthouse"},
                       headers=auth)


def sent(upstream, index=0):
    return json.loads(upstream.calls[index].request.body)


def error_of(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if code is not None:
        assert error["code"] == code
    return error


# ---- the call --------------------------------------------------------------------------


def test_default_call_is_native_generate_content_with_the_key_in_a_header(client, auth,
                                                                           upstream):
    upstream.post(generate_url(), json=answer())
    response = post(client, auth)
    assert response.status_code == 200
    request = upstream.calls[0].request
    assert request.url == generate_url()  # the seed's .../v1beta/openai lost its /openai
    assert request.headers["x-goog-api-key"] == KEYS[0]
    assert "Authorization" not in request.headers
    assert all(key not in request.url for key in KEYS)
    assert sent(upstream) == {
        "contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}],
        "generationConfig": {"responseModalities": ["IMAGE"]}}


def test_answer_keeps_the_final_image_drops_thoughts_and_reports_what_was_made(client, auth,
                                                                                upstream):
    upstream.post(generate_url(), json=answer())
    body = post(client, auth).get_json()
    assert [item["b64_json"] for item in body["data"]] == [FINAL]
    assert body["data"][0]["revised_prompt"] == "Here is the lighthouse."
    assert isinstance(body["created"], int)
    assert body["size"] == "1408x768"  # read from the image's header
    assert body["output_format"] == "jpeg" and body["background"] == "opaque"
    assert body["quality"] == "medium"
    assert body["usage"] == {
        "input_tokens": 12, "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
        "output_tokens": 1384, "output_tokens_details": {"image_tokens": 1120,
                                                         "text_tokens": 264},
        "total_tokens": 1396}


def test_a_large_answer_passes_through_byte_for_byte(client, auth, upstream):
    big = jpeg_b64(2752, 1536) + "A" * (3 << 20)  # several MB: spooled, never parsed
    upstream.post(generate_url(), json=answer(big, drafts=0, text=None))
    response = post(client, auth)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    assert response.get_json()["data"][0]["b64_json"] == big
    assert response.get_json()["size"] == "2752x1536"


@pytest.mark.parametrize(("size", "config"), [
    ("1792x1024", {"aspectRatio": "16:9", "imageSize": "2K"}),
    ("1536x1024", {"aspectRatio": "3:2", "imageSize": "2K"}),
    ("1024x1536", {"aspectRatio": "2:3", "imageSize": "2K"}),
    ("512x512", {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("1024x1024", {"aspectRatio": "1:1", "imageSize": "1K"}),
    ("3840x2160", {"aspectRatio": "16:9", "imageSize": "4K"}),
    ("1000x4000", {"aspectRatio": "1:4", "imageSize": "4K"}),
])
def test_size_maps_to_the_nearest_ratio_and_a_tier(client, auth, upstream, size, config):
    upstream.post(generate_url(), json=answer())
    assert post(client, auth, {"prompt": "x", "size": size}).status_code == 200
    assert sent(upstream)["generationConfig"]["imageConfig"] == config


def test_a_shape_no_ratio_fits_is_refused_naming_the_ratios(client, auth, upstream):
    error = error_of(post(client, auth, {"prompt": "x", "size": "1000x300"}), 400,
                     "invalid_value")
    assert error["param"] == "size" and "21:9" in error["message"]
    # The 3-pro model has no 1:4: what fits one model may not fit another.
    error = error_of(post(client, auth, {"prompt": "x", "size": "256x1024",
                                         "model": "gemini-3-pro-image"}), 400)
    assert "1:4" not in error["message"] and "9:16" in error["message"]
    assert len(upstream.calls) == 0


def test_googles_own_extras_are_accepted(client, auth, upstream):
    upstream.post(generate_url(), json=answer())
    post(client, auth, {"prompt": "x", "aspect_ratio": "21:9", "image_size": "4K"})
    assert sent(upstream)["generationConfig"]["imageConfig"] == {"aspectRatio": "21:9",
                                                                 "imageSize": "4K"}
    error = error_of(post(client, auth, {"prompt": "x", "image_size": "512"}), 400)
    assert error["param"] == "image_size" and "1K, 2K, 4K" in error["message"]


@pytest.mark.parametrize(("model", "quality", "config", "reported"), [
    (DEFAULT, "low", {"imageConfig": {"imageSize": "1K"},
                      "thinkingConfig": {"thinkingLevel": "MINIMAL"}}, "low"),
    (DEFAULT, "medium", {"imageConfig": {"imageSize": "1K"}}, "medium"),
    (DEFAULT, "high", {"imageConfig": {"imageSize": "2K"},
                       "thinkingConfig": {"thinkingLevel": "HIGH"}}, "high"),
    (DEFAULT, "hd", {"imageConfig": {"imageSize": "2K"},
                     "thinkingConfig": {"thinkingLevel": "HIGH"}}, "high"),
    (DEFAULT, "max", {"imageConfig": {"imageSize": "4K"},
                      "thinkingConfig": {"thinkingLevel": "HIGH"}}, "high"),
    # Thinking is always on for 3-pro, with no control: no thinkingConfig is sent.
    ("gemini-3-pro-image", "xhigh", {"imageConfig": {"imageSize": "4K"}}, "high"),
    # Lite makes 1K only: the tier is clamped and the answer says what was made.
    ("gemini-3.1-flash-lite-image", "high", {"imageConfig": {"imageSize": "1K"},
                                             "thinkingConfig": {"thinkingLevel": "HIGH"}},
     "medium"),
    # 2.5 refuses imageSize and any thinkingConfig.
    ("gemini-2.5-flash-image", "high", {}, "medium"),
])
def test_quality_maps_to_a_tier_and_a_thinking_level_clamped_to_the_model(
        client, auth, upstream, model, quality, config, reported):
    upstream.post(generate_url(model), json=answer())
    body = post(client, auth, {"prompt": "x", "quality": quality, "model": model}).get_json()
    assert sent(upstream)["generationConfig"] == {"responseModalities": ["IMAGE"], **config}
    assert body["quality"] == reported


def test_n_is_n_parallel_calls_each_asking_for_one_image(client, auth, upstream):
    upstream.post(generate_url(), json=answer())
    body = post(client, auth, {"prompt": "x", "n": 3}).get_json()
    assert len(upstream.calls) == 3 and len(body["data"]) == 3
    assert all("candidateCount" not in json.dumps(sent(upstream, i)) for i in range(3))
    assert body["usage"]["total_tokens"] == 3 * 1396  # summed over the calls


@pytest.mark.parametrize("memory", [64 << 20, 100_000], ids=["in memory", "mostly in files"])
def test_images_of_any_size_come_back_byte_for_byte(native, auth, upstream, monkeypatch,
                                                    memory):
    monkeypatch.setattr("app.generation.SPOOL_MEMORY_BYTES", memory)
    client = native()
    raw = base64.b64decode(FINAL)
    images = [FINAL] + [base64.b64encode(raw + bytes(size)).decode()
                        for size in (60_000, 900_000)]  # 1 chunk, then several of 256 KiB
    for image in images:
        upstream.post(generate_url(), json=answer(image))
    response = post(client, auth, {"prompt": "x", "n": 3})
    assert response.status_code == 200
    body = json.loads(response.get_data())  # one JSON document, whatever the pieces
    assert sorted(item["b64_json"] for item in body["data"]) == sorted(images)
    assert int(response.headers["Content-Length"]) == len(response.get_data())


def test_images_made_are_kept_when_some_calls_fail(native, auth, upstream):
    client = native(MAX_RETRIES=0)
    upstream.post(generate_url(), json=answer())
    upstream.post(generate_url(), body=gemini.internal(), status=500)
    upstream.post(generate_url(), json=answer())
    response = post(client, auth, {"prompt": "x", "n": 3})
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == 2


def test_when_every_call_fails_the_most_telling_error_wins(client, auth, upstream):
    upstream.post(generate_url(), body=gemini.internal(), status=500)
    upstream.post(generate_url(), json={"promptFeedback": {"blockReason": "SAFETY"}})
    response = post(client, auth, {"prompt": "x", "n": 2})
    error_of(response, 400, "content_policy_violation")


@pytest.mark.parametrize(("fmt", "pillow"), [("png", "PNG"), ("webp", "WEBP")])
def test_output_format_transcodes_only_when_asked(client, auth, upstream, fmt, pillow):
    upstream.post(generate_url(), json=answer(jpeg_b64(64, 48)))
    body = post(client, auth, {"prompt": "x", "output_format": fmt,
                               "output_compression": 80}).get_json()
    image = Image.open(io.BytesIO(base64.b64decode(body["data"][0]["b64_json"])))
    assert image.format == pillow and image.size == (64, 48)
    assert body["output_format"] == fmt


def test_jpeg_as_asked_passes_through_untouched(client, auth, upstream):
    upstream.post(generate_url(), json=answer())
    body = post(client, auth, {"prompt": "x", "output_format": "jpeg"}).get_json()
    assert body["data"][0]["b64_json"] == FINAL


@pytest.mark.parametrize(("field", "value"), [
    ("output_format", "gif"), ("output_format", "svg"), ("background", "transparent"),
    ("quality", "ultra"), ("n", 11), ("model", "../../files/x"), ("stream", "yes"),
    ("response_format", "png")])
def test_what_gemini_cannot_do_is_a_clear_400_before_any_call(client, auth, upstream, field,
                                                              value):
    error = error_of(post(client, auth, {"prompt": "x", field: value}), 400)
    assert error["param"] == field
    assert len(upstream.calls) == 0


def test_other_openai_fields_are_accepted_and_named_at_debug(native, auth, upstream, caplog):
    logger = logging.getLogger("gateway")
    logger.addHandler(caplog.handler)
    try:
        client = native(LOG_LEVEL="debug")
        upstream.post(generate_url(), json=answer())
        response = post(client, auth, {"prompt": "x", "style": "vivid", "user": "secret-user",
                                       "moderation": "low", "partial_images": 2,
                                       "background": "auto"})
    finally:
        logger.removeHandler(caplog.handler)
    assert response.status_code == 200
    assert "moderation, style, user" in caplog.text and "secret-user" not in caplog.text


# ---- models and aliases ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["dall-e-3", "dall-e-2", "gpt-image-1", "gpt-image-1.5",
                                  "chatgpt-image-latest", "imagen-4.0-generate-preview-06-06",
                                  "imagen-3.0-generate-002"])
def test_openai_and_imagen_names_go_to_the_default_model(client, auth, upstream, name):
    upstream.post(generate_url(), json=answer())
    assert post(client, auth, {"prompt": "x", "model": name}).status_code == 200
    assert upstream.calls[0].request.url == generate_url()


def test_model_aliases_are_configurable(native, auth, upstream):
    client = native(MODEL_ALIASES="dall-e-3=gemini-3-pro-image,team-*=gemini-2.5-flash-image",
                    DEFAULT_MODEL="gemini-3.1-flash-lite-image")
    for model in ("gemini-3-pro-image", "gemini-2.5-flash-image",
                  "gemini-3.1-flash-lite-image"):
        upstream.post(generate_url(model), json=answer())
    for name in ("dall-e-3", "team-a", "dall-e-2"):
        assert post(client, auth, {"prompt": "x", "model": name}).status_code == 200
    assert [c.request.url for c in upstream.calls] == [
        generate_url("gemini-3-pro-image"), generate_url("gemini-2.5-flash-image"),
        generate_url("gemini-3.1-flash-lite-image")]


def test_unknown_model_is_forwarded_and_its_404_names_it_and_the_default(client, auth,
                                                                         upstream):
    upstream.post(generate_url("gemini-9-image"), status=404, body=gemini.error(
        404, "NOT_FOUND", "models/gemini-9-image is not found for API version v1beta, or is "
        "not supported for generateContent.", array=False))
    error = error_of(post(client, auth, {"prompt": "x", "model": "gemini-9-image"}), 404,
                     "model_not_found")
    assert "gemini-9-image" in error["message"] and DEFAULT in error["message"]
    assert len(upstream.calls) == 1  # the model's fault, not the key's: no failover


def test_a_retired_model_is_told_apart(client, auth, upstream):
    upstream.post(generate_url("gemini-3.1-flash-image"), status=404, body=gemini.error(
        404, "NOT_FOUND", "models/gemini-3.1-flash-image is not found", array=False))
    error = error_of(post(client, auth, {"prompt": "x", "model": "gemini-3.1-flash-image"}),
                     404, "model_not_found")
    assert "retired" in error["message"] and "2026-10-29" in error["message"]
    assert DEFAULT in error["message"]


def test_models_lists_every_page_of_live_image_models_plus_aliases(client, auth, upstream):
    def page(names, token=None):
        body = {"models": [{"name": f"models/{n}", "supportedGenerationMethods": methods}
                           for n, methods in names]}
        if token:
            body["nextPageToken"] = token
        return body

    upstream.get(f"{ROOT}/models?pageSize=1000", json=page(
        [(DEFAULT, ["generateContent", "countTokens"]), ("gemini-2.5-flash", ["generateContent"]),
         ("imagen-4.0-generate-001", ["predict"])], token="p2"),
        match=[responses.matchers.query_param_matcher({"pageSize": "1000"})])
    upstream.get(f"{ROOT}/models", json=page([("gemini-3-pro-image", ["generateContent"])]),
                 match=[responses.matchers.query_param_matcher({"pageSize": "1000",
                                                                 "pageToken": "p2"})])
    body = client.get("/v1/models", headers=auth).get_json()
    ids = [m["id"] for m in body["data"]]
    assert ids[:2] == [DEFAULT, "gemini-3-pro-image"]
    assert "dall-e-3" in ids and "gemini-2.5-flash" not in ids
    assert "imagen-4.0-generate-001" not in ids  # :predict only: it makes nothing here
    assert upstream.calls[0].request.headers["x-goog-api-key"] in KEYS
    one = client.get(f"/v1/models/{DEFAULT}", headers=auth)
    assert one.status_code == 200 and one.get_json()["id"] == DEFAULT
    error_of(client.get("/v1/models/nope", headers=auth), 404, "model_not_found")


# ---- what Gemini says instead of an image -----------------------------------------------


@pytest.mark.parametrize("document", [
    {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}},
    {"candidates": [{"finishReason": "IMAGE_SAFETY", "finishMessage": "Unable to show.",
                     "content": {"parts": [{"text": "I can't make that."}]}}]},
])
def test_blocked_is_400_content_policy_never_retried_nor_held_against_the_key(
        app, auth, upstream, document):
    client = app.test_client()
    upstream.post(generate_url(), json=document)
    response = post(client, auth)
    error = error_of(response, 400, "content_policy_violation")
    reason = "PROHIBITED_CONTENT" if "promptFeedback" in document else "IMAGE_SAFETY"
    assert reason in error["message"]
    assert response.headers["x-should-retry"] == "false"
    assert len(upstream.calls) == 1
    assert {v["state"] for v in app.extensions["gateway"].pool.snapshot()} == {"active"}


@pytest.fixture
def app(make_app):
    return make_app(UPSTREAM_API="gemini")


@pytest.mark.parametrize(("candidate", "words"), [
    ({"finishReason": "NO_IMAGE"}, ["NO_IMAGE"]),
    ({"finishReason": "STOP", "content": {"parts": [{"text": "Which lighthouse do you mean?"}]}},
     ["STOP", "Which lighthouse do you mean?"]),
    ({"finishReason": "IMAGE_OTHER", "finishMessage": "Try again."}, ["IMAGE_OTHER",
                                                                      "Try again."]),
])
def test_no_image_for_another_reason_is_502_with_the_reason(client, auth, upstream, candidate,
                                                            words):
    upstream.post(generate_url(), json={"candidates": [candidate]})
    response = post(client, auth)
    error = error_of(response, 502, "no_image_generated")
    assert all(word in error["message"] for word in words)
    assert response.headers["x-should-retry"] == "false"  # each try is billed
    assert len(upstream.calls) == 1


# ---- keys, retries and the transport on the native route --------------------------------


def test_a_cookie_gemini_sets_is_never_sent_back_with_any_key(client, auth, upstream):
    # A cookie set on one key's answer must not ride along with the next key's request.
    upstream.post(generate_url(), json=answer(),
                  headers={"Set-Cookie": "NID=one-key-session; Path=/"})
    upstream.post(generate_url(), json=answer())
    assert post(client, auth).status_code == 200
    assert post(client, auth).status_code == 200
    second = upstream.calls[1].request
    assert "Cookie" not in second.headers
    assert second.headers["x-goog-api-key"] == KEYS[1]


def test_the_request_gemini_sees_carries_json_its_length_and_our_user_agent(client, auth,
                                                                            upstream):
    upstream.post(generate_url(), json=answer())
    assert post(client, auth).status_code == 200
    request = upstream.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert int(request.headers["Content-Length"]) == len(request.body)
    assert request.headers["User-Agent"].startswith("gemini-image-gateway")
    assert "Authorization" not in request.headers
    assert json.loads(request.body)["contents"][0]["parts"][0]["text"] == "a lighthouse"


def test_an_answer_gemini_sent_gzip_encoded_is_decoded(client, auth, upstream):
    import gzip

    upstream.post(generate_url(), body=gzip.compress(json.dumps(answer()).encode()),
                  headers={"Content-Encoding": "gzip"}, content_type="application/json")
    response = post(client, auth)
    assert response.status_code == 200
    assert [item["b64_json"] for item in response.get_json()["data"]] == [FINAL]


def test_429_cools_the_key_and_fails_over_to_the_next(client, auth, upstream):
    upstream.post(generate_url(), body=gemini.rate_limited("53s", array=False), status=429)
    upstream.post(generate_url(), json=answer())
    assert post(client, auth).status_code == 200
    assert [c.request.headers["x-goog-api-key"] for c in upstream.calls] == list(KEYS)


def test_each_key_is_tried_at_most_once_per_request(make_app, auth, upstream):
    keys = [f"AIzaTestKeyMany{i:018d}" for i in range(5)]
    # A short deadline: without the guard this test fails in 2 s instead of hanging.
    client = make_app(UPSTREAM_API="gemini", GEMINI_API_KEYS=",".join(keys),
                      REQUEST_DEADLINE=2, UPSTREAM_CONNECT_TIMEOUT=1).test_client()
    # A 429 that asks for no wait at all: without the guard, the keys come back at once
    # and the request loops for ever.
    upstream.post(generate_url(), body=gemini.rate_limited("0s", array=False), status=429)
    response = post(client, auth)
    assert response.status_code == 429
    assert len(upstream.calls) == len(keys)
    assert sorted(c.request.headers["x-goog-api-key"] for c in upstream.calls) == keys


def test_an_invalid_key_leaves_rotation_without_spending_the_request(app, auth, upstream):
    client = app.test_client()
    upstream.post(generate_url(), body=gemini.invalid_key(array=False), status=400)
    upstream.post(generate_url(), json=answer())
    assert post(client, auth).status_code == 200
    states = {v["key"][-4:]: v["state"] for v in app.extensions["gateway"].pool.snapshot()}
    assert states == {KEYS[0][-4:]: "out_of_rotation", KEYS[1][-4:]: "active"}


def test_5xx_is_retried_on_the_same_key_then_answered(client, auth, upstream):
    upstream.post(generate_url(), body=gemini.overloaded(), status=503)
    upstream.post(generate_url(), json=answer())
    assert post(client, auth).status_code == 200
    assert [c.request.headers["x-goog-api-key"] for c in upstream.calls] == [KEYS[0]] * 2


def test_a_read_timeout_is_504_that_tells_the_sdk_not_to_retry(client, auth, upstream):
    upstream.post(generate_url(), body=requests.exceptions.ReadTimeout("slow"))
    response = post(client, auth)
    error_of(response, 504, "upstream_timeout")
    assert response.headers["x-should-retry"] == "false"


def test_rate_limited_answers_carry_retry_after_in_both_forms(client, auth, upstream):
    upstream.post(generate_url(), body=gemini.rate_limited("12s", array=False), status=429)
    response = post(client, auth)
    error_of(response, 429, "rate_limit_exceeded")
    assert response.headers["Retry-After"] == "12"
    assert 11_000 <= int(response.headers["retry-after-ms"]) <= 12_000
    assert "x-should-retry" not in response.headers


def test_a_daily_quota_tells_the_sdk_not_to_retry(client, auth, upstream):
    upstream.post(generate_url(), body=gemini.rate_limited(None, daily=True, array=False),
                  status=429)
    response = post(client, auth)
    assert response.status_code == 429 and response.headers["x-should-retry"] == "false"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_an_upstream_redirect_is_never_followed(client, auth, upstream, status):
    upstream.post(generate_url(), status=status,
                  headers={"Location": "https://elsewhere.test/steal"})
    upstream.post("https://elsewhere.test/steal", json=answer())
    response = post(client, auth)
    error_of(response, 502, "bad_gateway")
    assert [c.request.url for c in upstream.calls] == [generate_url()]


def test_a_malformed_content_length_is_502_not_500(client, auth, upstream):
    upstream.post(generate_url(), body=json.dumps(answer()),
                  headers={"Content-Length": "\u00b2"}, auto_calculate_content_length=False)
    error_of(post(client, auth), 502)


def test_a_key_gemini_quotes_never_reaches_the_client(client, auth, upstream):
    upstream.post(generate_url(), status=400, body=gemini.error(
        400, "FAILED_PRECONDITION", f"Consumer 'api_key:{KEYS[0]}' cannot do this here.",
        array=False))
    response = post(client, auth)
    assert response.status_code == 400
    assert KEYS[0] not in response.get_data(as_text=True)
    assert TOKENS[0] not in response.get_data(as_text=True)


def test_native_answers_and_errors_are_what_the_contract_documents(client, auth, upstream):
    from tests import contract

    upstream.post(generate_url(), json=answer())
    for body in ({"prompt": "x", "n": 2, "quality": "high", "size": "1536x1024"},
                 {"prompt": "x", "size": "10x1000"}, {"prompt": "x", "background": "transparent"}):
        response = post(client, auth, body)
        assert contract.contract_violations("POST", "/v1/images/generations",
                                            response.status_code, response.headers,
                                            response.get_data()) == []


def test_log_lines_of_each_parallel_call_carry_the_request_id(native, auth, upstream, capsys):
    client = native()  # built now, so its log handler writes to the captured stderr
    upstream.post(generate_url(), body=gemini.rate_limited("53s", array=False), status=429)
    upstream.post(generate_url(), json=answer())
    response = client.post("/v1/images/generations", json={"prompt": "x", "n": 2},
                           headers={**auth, "X-Request-ID": "trace-me-123"})
    assert response.status_code == 200
    lines = [line for line in capsys.readouterr().err.splitlines() if "rate limited" in line]
    assert lines and all("[trace-me-123]" in line for line in lines)


def test_gemini_usage_is_recorded_for_the_client_and_the_key(native, auth, upstream):
    client = native(ADMIN_TOKEN="admin-token-0123456789")
    upstream.post(generate_url(), json=answer())
    assert post(client, auth, {"prompt": "x", "n": 2}).status_code == 200
    usage = client.get("/admin/usage",
                       headers={"Authorization": "Bearer admin-token-0123456789"}).get_json()
    (counts,) = usage["clients"].values()  # one client asked: its token, masked
    assert counts["images"] == 2 and counts["total_tokens"] == 2 * 1396
    assert TOKENS[0] not in json.dumps(usage)
    assert sum(c["total_tokens"] for c in usage["keys"].values()) == 2 * 1396
