"""Large answers are relayed as they arrive; small ones are still parsed and checked."""

import json
import logging

import pytest

from app.answers import ImageCounter, looks_like_images
from app.upstream import CHUNK_BYTES
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def big_answer(images=2, size=400_000):
    return json.dumps({"created": 1_790_000_000,
                       "data": [{"b64_json": "A" * size} for _ in range(images)]}).encode()


def test_large_answer_is_relayed_byte_for_byte(app, upstream, caplog):
    logging.getLogger("gateway").addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="gateway")
    body = big_answer(images=3)
    upstream.post(IMAGES_URL, body=body, content_type="application/json",
                  auto_calculate_content_length=True)
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x", "n": 3},
                                      headers=AUTH)
    assert response.status_code == 200
    assert response.get_data() == body
    assert response.headers["Content-Length"] == str(len(body))
    (line,) = [r for r in caplog.records if r.name == "gateway.access"]
    assert line.access["images"] == 3
    gateway = app.extensions["gateway"]
    assert gateway.pool.snapshot()[0]["successes"] == 1
    # The slot came back when the response was closed.
    assert gateway.upstream.slots.free() == gateway.settings.max_concurrent


def test_small_answers_are_still_parsed(app, upstream):
    upstream.post(IMAGES_URL, json={"created": 1, "data": []})
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                      headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "content_policy_violation"


def test_large_answer_that_is_not_images_is_parsed_and_refused(app, upstream):
    upstream.post(IMAGES_URL, body=b'{"data": [], "padding": "' + b"x" * 400_000 + b'"}')
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                      headers=AUTH)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "content_policy_violation"


def test_large_garbage_is_502(app, upstream):
    upstream.post(IMAGES_URL, body=b"<html>" + b"x" * 400_000)
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                      headers=AUTH)
    assert response.status_code == 502


def test_relayed_answer_over_the_limit_is_cut_short(make_app, upstream):
    app = make_app(MAX_UPSTREAM_BYTES=CHUNK_BYTES * 2)
    body = big_answer(images=2, size=CHUNK_BYTES)
    # No Content-Length (responses sends none unless asked): the limit can only be seen
    # while relaying.
    upstream.post(IMAGES_URL, body=body, content_type="application/json")
    with pytest.raises(ConnectionResetError):
        app.test_client().post("/v1/images/generations", json={"prompt": "x"}, headers=AUTH)
    gateway = app.extensions["gateway"]
    assert gateway.pool.snapshot()[0]["failures"] == {"connection": 1}
    assert gateway.upstream.slots.free() == gateway.settings.max_concurrent


def test_images_head_recognition():
    assert looks_like_images(b'{"created": 1, "data": [{"b64_json": "iVBOR')
    assert looks_like_images(b'  {\n "data":[ {"b64_json":"')
    assert not looks_like_images(b'{"data": []}')
    assert not looks_like_images(b'[{"error": {"code": 500}}]')
    assert not looks_like_images(b"<html>")


@pytest.mark.parametrize("count", [0, 1, 4])
def test_image_counter_finds_fields_split_across_chunks(count):
    body = big_answer(images=count, size=50) if count else b'{"data": []}'
    for size in (1, 3, 9, 10, 11, 64):
        counter = ImageCounter()
        for start in range(0, len(body), size):
            counter.feed(body[start:start + size])
        assert counter.count == count, size


def test_client_gone_before_the_call_costs_no_upstream_call(app, upstream):
    upstream.post(IMAGES_URL, json=gemini.images())
    gateway = app.extensions["gateway"]
    with pytest.raises(Exception) as caught:
        gateway.upstream.generate_images({"prompt": "x"}, client_gone=lambda: True)
    assert caught.value.status == 499
    assert len(upstream.calls) == 0
    assert gateway.upstream.slots.free() == gateway.settings.max_concurrent


def test_small_clean_answer_is_sent_as_gemini_wrote_it(app, upstream):
    body = b'{"created": 1790000000, "data": [{"b64_json": "iVBOR"}], "usage": {"x": 1}}'
    upstream.post(IMAGES_URL, body=body, content_type="application/json")
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                      headers=AUTH)
    assert response.status_code == 200 and response.get_data() == body


def test_small_answer_with_odd_entries_is_rebuilt_from_its_images(app, upstream):
    upstream.post(IMAGES_URL, json={"data": [{"b64_json": "iVBOR"}, {"url": "http://x"},
                                             {"b64_json": ""}]})
    response = app.test_client().post("/v1/images/generations", json={"prompt": "x", "n": 3},
                                      headers=AUTH)
    body = response.get_json()
    assert body["data"] == [{"b64_json": "iVBOR"}]
    assert isinstance(body["created"], int)
