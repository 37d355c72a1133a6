"""The loopback fake answers each path the way Gemini does when nobody scripts it."""

import base64
import io
import json

import pytest
import requests
from PIL import Image

from tests import gemini_bodies as gemini
from tests.integration.fake_gemini import Drop, FakeGemini, Reply

KEY = "AIzaTestKeyFake00000000000000009"
BODY = {"contents": [{"role": "user", "parts": [{"text": "a lighthouse"}]}]}


@pytest.fixture
def fake():
    fake = FakeGemini().start()
    yield fake
    fake.stop()


def final_image(answer):
    [part] = [p for p in answer["candidates"][0]["content"]["parts"]
              if "inlineData" in p and not p.get("thought")]
    return Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"])))


def test_generate_content_gets_a_native_answer_and_the_key_header_is_recorded(fake):
    response = requests.post(f"{fake.native_root}/models/gemini-nano-banana-2.1:generateContent",
                             json=BODY, headers={"x-goog-api-key": KEY}, timeout=5)
    assert response.status_code == 200
    assert final_image(response.json()).format == "JPEG"
    [call] = fake.calls
    assert (call.key, call.method, call.model) == (KEY, "POST", "gemini-nano-banana-2.1")
    assert call.path == "/v1beta/models/gemini-nano-banana-2.1:generateContent"
    assert call.body == BODY and call.query == "" and call.native


def test_stream_generate_content_gets_sse_with_the_whole_image_in_one_chunk(fake):
    url = f"{fake.native_root}/models/gemini-3-pro-image:streamGenerateContent?alt=sse"
    response = requests.post(url, json=BODY, headers={"x-goog-api-key": KEY}, timeout=5)
    assert response.headers["Content-Type"] == "text/event-stream"
    events = response.content.split(b"\r\n\r\n")
    assert events[-1] == b"" and all(e.startswith(b"data: ") for e in events[:-1])
    chunks = [json.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert chunks[0]["candidates"][0]["content"]["parts"][0]["thought"] is True
    assert final_image(chunks[-2]).format == "JPEG"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["totalTokenCount"] > 0
    assert fake.calls[0].params == {"alt": ["sse"]}

    plain = requests.post(url.removesuffix("?alt=sse"), json=BODY, timeout=5).json()
    assert isinstance(plain, list) and len(plain) == len(chunks)


def test_listing_models_gets_a_native_page_and_one_model_its_entry(fake):
    page = requests.get(f"{fake.native_root}/models?pageSize=50",
                        headers={"x-goog-api-key": KEY}, timeout=5).json()
    names = [model["name"] for model in page["models"]]
    assert "models/gemini-nano-banana-2.1" in names and "models/gemini-embedding-001" in names
    assert fake.calls[0].query == "pageSize=50" and fake.calls[0].method == "GET"
    one = requests.get(f"{fake.native_root}/models/gemini-3-pro-image", timeout=5).json()
    assert one["name"] == "models/gemini-3-pro-image"


def test_compat_paths_keep_todays_answer_and_bearer_key(fake):
    response = requests.post(f"{fake.base_url}/images/generations", json={"prompt": "x"},
                             headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
    assert response.json() == gemini.images()
    assert fake.calls[0].key == KEY and not fake.calls[0].native
    assert fake.base_url == fake.native_root + "/openai"


def test_scripted_bodies_and_types_win_over_the_default(fake):
    fake.behaviour = lambda call: Reply(404, gemini.model_not_found("imagen-3.0"))
    response = requests.post(f"{fake.native_root}/models/imagen-3.0:generateContent", json=BODY,
                             timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"
    assert response.headers["Content-Type"] == "application/json"


def test_a_drop_mid_body_breaks_a_native_answer(fake):
    fake.behaviour = lambda call: Drop(after_bytes=100)
    with pytest.raises(requests.exceptions.RequestException):
        requests.post(f"{fake.native_root}/models/x:generateContent", json=BODY, timeout=5)
