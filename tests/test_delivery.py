"""How images reach the client: response_format url (the image store and its file route)
and stream=true (OpenAI's SSE events), on the native backend against `responses` fakes."""

import base64
import json
import logging
import os
import time

import pytest
import responses

from app import streaming
from tests import gemini_bodies as gemini
from tests.conftest import ROOT

DEFAULT = "gemini-nano-banana-2.1"
FINAL_B64 = gemini.jpeg_b64(96, 64)
FINAL = base64.b64decode(FINAL_B64)


def generate_url(model=DEFAULT):
    return f"{ROOT}/models/{model}:generateContent"


def stream_url(model=DEFAULT):
    return f"{ROOT}/models/{model}:streamGenerateContent?alt=sse"


def answer(thought_images=2, model=DEFAULT):
    return gemini.native_image_answer(images=[("image/jpeg", FINAL_B64)],
                                      thought_images=thought_images, text="A fox.",
                                      model=model)


@pytest.fixture
def client(native):
    return native()


def post(client, auth, body):
    return client.post("/v1/images/generations", json=body, headers=auth)


def local(url):
    assert url.startswith("http://localhost/v1/images/files/")
    return url.removeprefix("http://localhost")


def sent(upstream, index=0):
    return json.loads(upstream.calls[index].request.body)


# ---- response_format: url ------------------------------------------------------------


def test_url_answer_points_at_the_same_bytes_which_need_no_token(client, auth, upstream):
    upstream.post(generate_url(), json=answer())
    response = post(client, auth, {"prompt": "a fox", "response_format": "url"})
    assert response.status_code == 200
    body = response.get_json()
    [item] = body["data"]
    assert set(item) == {"url", "revised_prompt"}  # no b64_json
    assert body["output_format"] == "jpeg" and body["size"] == "96x64"
    assert body["usage"]["output_tokens_details"]["image_tokens"] == 1120
    image = client.get(local(item["url"]))  # no Authorization header
    assert image.status_code == 200
    assert image.data == FINAL
    assert image.headers["Content-Type"] == "image/jpeg"
    assert image.headers["Content-Length"] == str(len(FINAL))
    cache = image.headers["Cache-Control"]
    assert "immutable" in cache and "public" in cache
    assert 3590 <= int(cache.partition("max-age=")[2].partition(",")[0]) <= 3600
    etag = image.headers["ETag"]
    assert client.get(local(item["url"]), headers={"If-None-Match": etag}).status_code == 304
    part = client.get(local(item["url"]), headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.data == FINAL[2:6]
    assert part.headers["Content-Range"] == f"bytes 2-5/{len(FINAL)}"
    assert client.head(local(item["url"])).headers["Content-Length"] == str(len(FINAL))


def test_file_fetches_are_logged_and_counted(native, auth, upstream, caplog):
    upstream.post(generate_url(), json=answer())
    client = native()
    url = post(client, auth, {"prompt": "a fox", "response_format": "url"}
               ).get_json()["data"][0]["url"]
    logging.getLogger("gateway").addHandler(caplog.handler)
    try:
        assert client.get(local(url)).data == FINAL
    finally:
        logging.getLogger("gateway").removeHandler(caplog.handler)
    lines = [r.access for r in caplog.records if r.name == "gateway.access"]
    assert {"method": "GET", "path": local(url), "status": 200} in [
        {k: line[k] for k in ("method", "path", "status")} for line in lines], lines
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'route="/v1/images/files/<name>",status="200"' in metrics


def test_n_images_get_n_urls_and_the_format_asked_for(client, auth, upstream):
    upstream.post(generate_url(), json=answer())
    body = post(client, auth, {"prompt": "a fox", "response_format": "url", "n": 2,
                               "output_format": "png"}).get_json()
    urls = [item["url"] for item in body["data"]]
    assert len(set(urls)) == 2 and all(url.endswith(".png") for url in urls)
    assert body["output_format"] == "png"
    image = client.get(local(urls[0]))
    assert image.headers["Content-Type"] == "image/png"
    assert image.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(("model", "fmt"), [("dall-e-2", "url"), ("dall-e-3", "url"),
                                            ("gpt-image-1", "b64_json"), (DEFAULT, "b64_json")])
def test_without_response_format_dall_e_names_get_urls_as_openai_gave(client, auth, upstream,
                                                                      model, fmt):
    upstream.post(generate_url(), json=answer())
    # Exactly what LangChain's DallEAPIWrapper sends: model dall-e-2, no response_format.
    body = post(client, auth, {"prompt": "a fox", "n": 1, "size": "1024x1024",
                               "model": model}).get_json()
    assert set(body["data"][0]) - {"revised_prompt"} == {fmt}
    explicit = post(client, auth, {"prompt": "a fox", "model": model,
                                   "response_format": "b64_json"}).get_json()
    assert "b64_json" in explicit["data"][0] and "url" not in explicit["data"][0]


def test_public_base_url_makes_the_url_and_forwarded_host_is_not_trusted(native, auth,
                                                                          upstream):
    upstream.post(generate_url(), json=answer())
    body = post(native(), auth | {"X-Forwarded-Host": "evil.example",
                                  "X-Forwarded-Proto": "https"},
                {"prompt": "a fox", "response_format": "url"}).get_json()
    assert body["data"][0]["url"].startswith("http://localhost/v1/images/files/")
    public = native(PUBLIC_BASE_URL="https://images.example.com/gw/")
    body = post(public, auth, {"prompt": "a fox", "response_format": "url"}).get_json()
    assert body["data"][0]["url"].startswith("https://images.example.com/gw/v1/images/files/")


def test_expired_and_unknown_urls_are_404_in_openais_shape(client, auth, upstream, tmp_path):
    upstream.post(generate_url(), json=answer())
    url = post(client, auth, {"prompt": "a fox", "response_format": "url"}
               ).get_json()["data"][0]["url"]
    name = url.rpartition("/")[2]
    past = time.time() - 3601
    os.utime(tmp_path / "images" / name, (past, past))
    for path in (local(url), "/v1/images/files/nope.png", "/v1/images/files/..%2Fx.png"):
        response = client.get(path)
        assert response.status_code == 404
        error = response.get_json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        # A slash (even encoded) leaves the route: the gateway's plain 404 answers it.
        assert error["code"] == ("not_found" if "%2F" in path else "image_not_found")
    assert not (tmp_path / "images" / name).exists()


def test_a_store_that_cannot_write_is_a_503_not_a_dead_link(native, auth, upstream, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_bytes(b"")
    upstream.post(generate_url(), json=answer())
    response = post(native(IMAGE_STORE_DIR=str(blocked)), auth,
                    {"prompt": "a fox", "response_format": "url"})
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "image_store_unavailable" and "b64_json" in error["message"]


def test_redis_down_is_a_503_for_the_answer_and_the_file(native, auth, upstream):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = native(IMAGE_STORE="redis", REDIS_URL=f"redis://:pw-secret-123@127.0.0.1:{port}/0")
    upstream.post(generate_url(), json=answer())
    for response in (post(client, auth, {"prompt": "a fox", "response_format": "url"}),
                     client.get("/v1/images/files/" + "x" * 32 + ".png")):
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "image_store_unavailable"
        assert "pw-secret-123" not in response.get_data(as_text=True)


# ---- stream: true -------------------------------------------------------------------


def events(response):
    """The SSE events of a response: (comments, data objects)."""
    text = response.get_data()
    assert text.endswith(b"\n\n")
    comments, data = [], []
    for block in text.split(b"\n\n")[:-1]:
        if block.startswith(b":"):
            comments.append(block)
        else:
            assert block.startswith(b"data: ")
            data.append(json.loads(block[6:]))
    return comments, data


def sse_reply(upstream, answer_body, model=DEFAULT, status=200):
    upstream.post(stream_url(model), body=gemini.native_sse(answer_body), status=status,
                  content_type="text/event-stream")


def test_stream_without_partials_is_one_completed_event_per_image(client, auth, upstream):
    sse_reply(upstream, answer())
    response = post(client, auth, {"prompt": "a fox", "stream": True})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "thinkingConfig" not in sent(upstream)["generationConfig"]
    _, data = events(response)
    [completed] = data
    assert completed["type"] == "image_generation.completed"
    assert base64.b64decode(completed["b64_json"]) == FINAL
    assert completed["size"] == "96x64" and completed["output_format"] == "jpeg"
    assert completed["background"] == "opaque" and completed["quality"] == "medium"
    assert isinstance(completed["created_at"], int)
    assert completed["usage"]["input_tokens"] == 12


@pytest.mark.parametrize(("asked", "drafts", "sent_partials"), [(2, 2, 2), (1, 2, 1), (3, 2, 2)])
def test_partial_images_are_geminis_drafts_up_to_the_number_asked(client, auth, upstream, asked,
                                                                  drafts, sent_partials):
    sse_reply(upstream, answer(thought_images=drafts))
    response = post(client, auth, {"prompt": "a fox", "stream": True, "partial_images": asked})
    assert sent(upstream)["generationConfig"]["thinkingConfig"] == {"includeThoughts": True}
    _, data = events(response)
    assert [e["type"] for e in data] == (["image_generation.partial_image"] * sent_partials
                                         + ["image_generation.completed"])
    assert [e["partial_image_index"] for e in data[:-1]] == list(range(sent_partials))
    assert all(e["size"] == "4x4" for e in data[:-1])


def test_models_that_refuse_thinking_config_get_none_and_send_no_partials(client, auth,
                                                                          upstream):
    model = "gemini-2.5-flash-image"
    sse_reply(upstream, answer(thought_images=0, model=model), model=model)
    response = post(client, auth, {"prompt": "a fox", "stream": True, "partial_images": 2,
                                   "model": model})
    assert "thinkingConfig" not in sent(upstream)["generationConfig"]
    assert [e["type"] for e in events(response)[1]] == ["image_generation.completed"]


def test_n_streams_n_completed_events(client, auth, upstream):
    sse_reply(upstream, answer(thought_images=0))
    response = post(client, auth, {"prompt": "a fox", "stream": True, "n": 3})
    assert len(upstream.calls) == 3
    assert [e["type"] for e in events(response)[1]] == ["image_generation.completed"] * 3


def test_errors_before_the_stream_starts_are_json_with_their_status(native, auth, upstream):
    upstream.post(stream_url(), status=429, body=gemini.rate_limited("30s", array=False))
    response = post(native(), auth, {"prompt": "a fox", "stream": True})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limit_exceeded"
    assert response.headers["Retry-After"] == "30"
    upstream.replace(responses.POST, stream_url(), content_type="text/event-stream",
                     body=b"data: " + json.dumps(gemini.prompt_blocked()).encode() + b"\r\n\r\n")
    response = post(native(), auth, {"prompt": "a fox", "stream": True})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "content_policy_violation"


def test_a_slow_answer_gets_keep_alives_and_a_late_error_is_an_error_event(native, auth,
                                                                            upstream):
    def slow_failure(request):
        time.sleep(0.5)
        return 400, {}, gemini.error(400, "INVALID_ARGUMENT", "Bad thing.", array=False)

    upstream.add_callback(responses.POST, stream_url(), callback=slow_failure)
    client = native(STREAM_KEEPALIVE="0.12")
    response = post(client, auth, {"prompt": "a fox", "stream": True})
    assert response.status_code == 200  # committed once the first keep-alive went out
    comments, data = events(response)
    assert len(comments) >= 3 and set(comments) == {b": keep-alive"}
    assert response.get_data().startswith(b": keep-alive\n\n")
    assert data == [{"type": "error", "error": {"message": "Bad thing.",
                                                "type": "invalid_request_error",
                                                "param": None, "code": "invalid_argument"}}]


def test_an_upstream_error_event_mid_stream_is_reported(client, auth, upstream):
    broken = gemini.native_sse(answer())
    first = broken.split(b"\r\n\r\n")[0]
    body = first + b'\r\n\r\ndata: {"error": {"code": 500, "message": "Internal"}}\r\n\r\n'
    upstream.post(stream_url(), body=body, content_type="text/event-stream")
    response = post(client, auth, {"prompt": "a fox", "stream": True})
    assert response.status_code == 502
    assert "Internal" in response.get_json()["error"]["message"]


def test_stream_access_line_counts_the_images(native, auth, upstream, caplog):
    sse_reply(upstream, answer(thought_images=0))
    client = native()
    logging.getLogger("gateway").addHandler(caplog.handler)
    try:
        post(client, auth, {"prompt": "a fox", "stream": True, "n": 2})
    finally:
        logging.getLogger("gateway").removeHandler(caplog.handler)
    [line] = [r for r in caplog.records if r.name == "gateway.access"]
    assert line.access["status"] == 200 and line.access["images"] == 2
    assert line.access["attempts"] == 2 and "client_gone" not in line.access


def test_poll_interval_is_a_constant_tests_can_shrink():
    assert 0 < streaming.POLL_SECONDS <= 1


# ---- the contract: openapi.yaml documents these answers --------------------------------


def test_url_stream_and_file_answers_are_what_openapi_yaml_says(client, auth, upstream):
    from tests import contract

    upstream.post(generate_url(), json=answer())
    sse_reply(upstream, answer())

    def check(response, method="POST", path="/v1/images/generations"):
        path = path.partition("?")[0]
        assert contract.contract_violations(method, path, response.status_code,
                                            response.headers, response.get_data()) == []
        return response

    made = check(post(client, auth, {"prompt": "a fox", "response_format": "url"}))
    check(post(client, auth, {"prompt": "a fox", "stream": True, "partial_images": 1}))
    url = local(made.get_json()["data"][0]["url"])
    for headers, status in (({}, 200), ({"Range": "bytes=0-1"}, 206),
                            ({"If-None-Match": '"nope"'}, 200)):
        assert check(client.get(url, headers=headers), "GET", url).status_code == status
    missing = "/v1/images/files/" + "x" * 32 + ".png"
    assert check(client.get(missing), "GET", missing).status_code == 404


def test_a_client_that_stops_reading_mid_stream_is_logged_as_gone(native, auth, upstream,
                                                                   caplog):
    sse_reply(upstream, answer(thought_images=2))
    client = native()
    logging.getLogger("gateway").addHandler(caplog.handler)
    try:
        response = client.post("/v1/images/generations", headers=auth, buffered=False,
                               json={"prompt": "a fox", "stream": True, "partial_images": 2})
        first = next(iter(response.response))
        assert first.startswith(b"data: ")
        response.close()  # what the server does when a write to the client fails
    finally:
        logging.getLogger("gateway").removeHandler(caplog.handler)
    [line] = [r.access for r in caplog.records if r.name == "gateway.access"]
    assert line["status"] == 499 and line["client_gone"] is True
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'route="/v1/images/generations",status="499"' in metrics.replace('method="POST",', "")
