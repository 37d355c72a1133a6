"""The native backend as deployed: real gunicorn with gevent workers in front of a loopback
fake that answers as Gemini's generateContent does, driven by the official SDKs."""

import base64
import json

import openai
import pytest
import requests

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Reply, Stall
from tests.integration.node_sdk import run_node

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
DEFAULT = "gemini-nano-banana-2.1"
WIDE = gemini.jpeg_b64(1408, 768)


@pytest.fixture
def native_gateway(start_gateway, fake_gemini):
    def start(**env):
        return start_gateway(UPSTREAM_API="gemini", **env)
    return start


def wide_answer(call):
    return Reply(body=json.dumps(gemini.native_image_answer(
        images=[("image/jpeg", WIDE)], thought_images=2, text="A lighthouse.")))


def test_python_sdk_gets_images_for_the_default_model_and_for_dall_e_3(native_gateway,
                                                                       fake_gemini, sdk):
    fake_gemini.behaviour = wide_answer
    gateway = native_gateway()
    client = sdk(gateway, TOKENS[1], max_retries=0)
    result = client.images.generate(prompt="a lighthouse", n=2, size="1792x1024",
                                    quality="high")
    assert [d.b64_json for d in result.data] == [WIDE, WIDE]
    assert result.size == "1408x768" and result.quality == "high"
    assert result.usage.total_tokens > 0 and result.output_format == "jpeg"
    assert len(fake_gemini.calls) == 2
    for call in fake_gemini.calls:
        assert call.path == f"/v1beta/models/{DEFAULT}:generateContent"
        assert call.key in KEYS and "Authorization" not in call.headers
        assert call.body["generationConfig"] == {
            "responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "16:9",
                                                             "imageSize": "2K"},
            "thinkingConfig": {"thinkingLevel": "HIGH"}}
    # Round robin: the two calls of one request went to the two keys.
    assert sorted(fake_gemini.keys()) == sorted(KEYS)

    # dall-e-3 without a response_format gets a URL, as OpenAI's DALL·E answers did.
    dalle = client.images.generate(model="dall-e-3", prompt="a fox", size="1024x1024")
    assert requests.get(dalle.data[0].url, timeout=10).content == base64.b64decode(WIDE)
    assert fake_gemini.calls[-1].model == DEFAULT

    fake_gemini.behaviour = lambda call: Reply(body=json.dumps(
        gemini.finished_without_image("IMAGE_SAFETY")))
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="something refused")
    assert caught.value.code == "content_policy_violation"


def test_the_seed_readme_curl_example_makes_an_image(native_gateway, fake_gemini):
    gateway = native_gateway(GEMINI_BASE_URL=fake_gemini.base_url)  # the seed's .../openai
    response = requests.post(gateway.url + "/v1/images/generations", headers=AUTH, json={
        "model": "imagen-4.0-generate-preview-06-06", "prompt": "a lighthouse at dusk",
        "n": 1, "size": "1024x1024"}, timeout=30)
    assert response.status_code == 200
    assert base64.b64decode(response.json()["data"][0]["b64_json"]).startswith(b"\xff\xd8")
    (call,) = fake_gemini.calls
    assert call.path == f"/v1beta/models/{DEFAULT}:generateContent"


def test_node_sdk_gets_images_and_a_clear_400(native_gateway, fake_gemini):
    fake_gemini.behaviour = wide_answer
    gateway = native_gateway()
    result = run_node("generate.mjs", {"GATEWAY_URL": gateway.url,
                                       "GATEWAY_TOKEN": TOKENS[0], "MODEL": "dall-e-3"})
    assert result["images"] == [WIDE[:8]] * 2
    assert result["size"] == "1408x768" and result["usage"]["total_tokens"] > 0
    assert result["refused"] == {"status": 400, "param": "size", "code": "invalid_value"}
    assert len(fake_gemini.calls) == 2  # the refused size never reached Gemini


def test_each_of_n_calls_holds_its_own_slot(native_gateway, fake_gemini):
    fake_gemini.behaviour = lambda call: Reply(delay=0.4)
    gateway = native_gateway(MAX_CONCURRENT=2, QUEUE_TIMEOUT=10)
    response = requests.post(gateway.url + "/v1/images/generations", headers=AUTH,
                             json={"prompt": "x", "n": 5}, timeout=30)
    assert response.status_code == 200 and len(response.json()["data"]) == 5
    assert len(fake_gemini.calls) == 5
    assert fake_gemini.max_in_flight == 2


def test_a_read_timeout_is_one_504_the_sdk_does_not_retry(native_gateway, fake_gemini, sdk):
    fake_gemini.behaviour = lambda call: Stall(limit=10)
    gateway = native_gateway(UPSTREAM_READ_TIMEOUT=0.5)
    # Default SDK retries: without x-should-retry: false it would start two more
    # (billed) generations after the first timed out.
    client = sdk(gateway, TOKENS[0])
    with pytest.raises(openai.InternalServerError) as caught:
        client.images.generate(prompt="x")
    assert caught.value.status_code == 504
    assert len(fake_gemini.calls) == 1


def test_models_come_from_the_native_list(native_gateway, fake_gemini, sdk):
    gateway = native_gateway()
    client = sdk(gateway, TOKENS[0], max_retries=0)
    ids = [model.id for model in client.models.list()]
    assert DEFAULT in ids and "gemini-2.5-flash" not in ids and "dall-e-3" in ids
    assert client.models.retrieve("gemini-3-pro-image").id == "gemini-3-pro-image"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gemini-nothing")
    assert all(call.path.startswith("/v1beta/models") for call in fake_gemini.calls)


def test_the_banner_says_once_that_the_seed_url_now_reaches_the_native_root(native_gateway,
                                                                             fake_gemini):
    gateway = native_gateway(GEMINI_BASE_URL=fake_gemini.base_url)
    output = gateway.output()
    assert output.count("ends in /openai") == 1
    assert f"calling native generateContent at {fake_gemini.native_root}" in output
    assert "default model gemini-nano-banana-2.1" in output
