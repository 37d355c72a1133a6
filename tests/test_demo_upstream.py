"""The offline demo upstream answers and refuses like native Gemini (upstream-facts.md §2-5)."""

import base64
import io
import json
import math
import struct
import zlib

import pytest
import requests
from PIL import Image

from app.gemini.demo import DEMO_BASE_URL, DEMO_ROOT, DemoUpstreamAdapter
from app.gemini.demo_pictures import TIER_PIXELS, pixel_size
from app.gemini.models import ALL_RATIOS, ModelTable
from tests import gemini_bodies as gemini

DEFAULT = "gemini-nano-banana-2.1"
KEY = {"x-goog-api-key": "demo-key-0000"}


@pytest.fixture(scope="module")
def session():
    session = requests.Session()
    session.mount(DEMO_ROOT, DemoUpstreamAdapter())
    return session


def generate(session, body, model=DEFAULT, *, headers=KEY, method="generateContent",
             query=""):
    return session.post(f"{DEMO_ROOT}/models/{model}:{method}{query}", json=body,
                        headers=headers, timeout=10)


def prompt(text="a lighthouse at dusk", **generation_config):
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
    if generation_config:
        body["generationConfig"] = generation_config
    return body


def parts_of(answer):
    return answer["candidates"][0]["content"]["parts"]


def final_images(answer):
    return [part for part in parts_of(answer) if "inlineData" in part and not part.get("thought")]


def opened(part):
    data = base64.b64decode(part["inlineData"]["data"])
    return Image.open(io.BytesIO(data))


def jpeg(width, height, colour=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


def refused(response, code, status, *fragments):
    assert response.status_code == code, response.text
    error = response.json()["error"]  # an object, never the compat layer's array
    assert error["code"] == code and error["status"] == status
    for fragment in fragments:
        assert fragment in error["message"]
    return error["message"]


# --- pixel sizes ---------------------------------------------------------------------------

@pytest.mark.parametrize(("ratio", "tier", "size"), [
    ("1:1", "1K", (1024, 1024)), ("16:9", "1K", (1408, 768)), ("16:9", "2K", (2752, 1536)),
    ("9:16", "1K", (768, 1408)), ("1:1", "4K", (4096, 4096)), ("1:1", "512", (512, 512)),
])
def test_pixel_size_matches_the_sizes_gemini_is_known_to_send(ratio, tier, size):
    assert pixel_size(ratio, tier) == size


@pytest.mark.parametrize("tier", list(TIER_PIXELS))
@pytest.mark.parametrize("ratio", ALL_RATIOS)
def test_pixel_size_keeps_ratio_and_tier_area_in_multiples_of_16(ratio, tier):
    width, height = pixel_size(ratio, tier)
    w, h = (int(side) for side in ratio.split(":"))
    assert width % 16 == 0 and height % 16 == 0
    assert abs(math.log((width / height) / (w / h))) < 0.05
    assert abs(width * height / TIER_PIXELS[tier] ** 2 - 1) < 0.05


# --- answers -------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "config", "size", "image_tokens"), [
    (DEFAULT, {}, (1024, 1024), 1120),
    (DEFAULT, {"imageConfig": {"aspectRatio": "16:9"}}, (1408, 768), 1120),
    (DEFAULT, {"imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"}}, (2752, 1536), 1680),
    (DEFAULT, {"imageConfig": {"aspectRatio": "1:8", "imageSize": "4K"}}, pixel_size("1:8", "4K"),
     2520),
    ("gemini-2.5-flash-image", {"imageConfig": {"aspectRatio": "3:4"}}, pixel_size("3:4", "1K"),
     1120),
])
def test_answer_is_a_real_jpeg_of_the_ratio_and_tier_asked(session, model, config, size,
                                                           image_tokens):
    response = generate(session, prompt(responseModalities=["IMAGE"], **config), model)
    assert response.status_code == 200, response.text
    answer = response.json()
    [part] = final_images(answer)
    image = opened(part)
    assert (image.format, image.size) == ("JPEG", size)
    assert part["inlineData"]["mimeType"] == "image/jpeg" and part["thoughtSignature"]
    candidate = answer["candidates"][0]
    assert candidate["finishReason"] == "STOP" and candidate["content"]["role"] == "model"
    assert answer["modelVersion"] == model and answer["responseId"]
    usage = answer["usageMetadata"]
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": image_tokens}]
    assert usage["candidatesTokenCount"] == image_tokens
    assert usage["totalTokenCount"] == (usage["promptTokenCount"] + image_tokens
                                        + usage["thoughtsTokenCount"])
    assert usage["promptTokensDetails"] == [{"modality": "TEXT",
                                             "tokenCount": usage["promptTokenCount"]}]


def test_a_thought_text_comes_before_the_final_image_and_drafts_only_when_asked(session):
    plain = parts_of(generate(session, prompt(responseModalities=["IMAGE"])).json())
    assert plain[0]["thought"] is True and plain[0]["text"]
    assert [p for p in plain if "inlineData" in p and p.get("thought")] == []
    assert "inlineData" in plain[-1] and "thought" not in plain[-1]

    for text in ("a lighthouse", "a fox in snow", "two boats", "a red door"):
        answer = generate(session, prompt(text, responseModalities=["IMAGE"],
                                          thinkingConfig={"includeThoughts": True})).json()
        drafts = [p for p in parts_of(answer) if "inlineData" in p and p.get("thought") is True]
        assert 1 <= len(drafts) <= 2
        assert all(max(opened(draft).size) <= 256 for draft in drafts)
        assert parts_of(answer)[-1] is final_images(answer)[0]  # drafts come first
        assert answer["usageMetadata"]["thoughtsTokenCount"] >= 258 * len(drafts)


def test_text_and_image_modalities_add_a_text_part_counted_in_usage(session):
    answer = generate(session, prompt("a kite")).json()  # default: TEXT and IMAGE
    texts = [p["text"] for p in parts_of(answer) if "text" in p and not p.get("thought")]
    assert texts and "a kite" in texts[0]
    modalities = {d["modality"] for d in answer["usageMetadata"]["candidatesTokensDetails"]}
    assert modalities == {"IMAGE", "TEXT"}

    text_only = generate(session, prompt("a kite", responseModalities=["TEXT"])).json()
    assert final_images(text_only) == []
    assert text_only["candidates"][0]["finishReason"] == "STOP"


def test_input_images_set_the_ratio_and_the_picture_and_count_as_prompt_tokens(session):
    body = prompt("make it blue")
    body["contents"][0]["parts"].append({"inlineData": {"mimeType": "image/jpeg",
                                                        "data": jpeg(300, 200)}})
    answer = generate(session, body).json()
    image = opened(final_images(answer)[0])
    assert image.size == pixel_size("3:2", "1K")
    red, green, blue = image.convert("RGB").getpixel((5, 5))
    assert red > 150 and green < 80 and blue < 80  # the input's red, not a gradient
    details = answer["usageMetadata"]["promptTokensDetails"]
    assert [d["modality"] for d in details] == ["TEXT", "IMAGE"]


def test_file_data_with_an_https_uri_is_accepted_without_fetching(session):
    body = prompt("frame it")
    body["contents"][0]["parts"].append({"fileData": {
        "mimeType": "image/png", "fileUri": "https://generativelanguage.googleapis.com/v1beta/"
                                            "files/abc123"}})
    response = generate(session, body)
    assert response.status_code == 200
    assert opened(final_images(response.json())[0]).size == (1024, 1024)


def test_snake_case_field_names_are_accepted_like_googles_parser_does(session):
    body = {"contents": [{"parts": [{"text": "x"}]}],
            "generation_config": {"response_modalities": ["IMAGE"],
                                  "image_config": {"aspect_ratio": "4:3"}}}
    image = opened(final_images(generate(session, body).json())[0])
    assert image.size == pixel_size("4:3", "1K")


# --- refusals ------------------------------------------------------------------------------

def test_no_key_header_is_permission_denied(session):
    refused(generate(session, prompt(), headers={}), 403, "PERMISSION_DENIED",
            "unregistered callers")
    bearer = {"Authorization": "Bearer demo-key-0000"}
    refused(generate(session, prompt(), headers=bearer), 403, "PERMISSION_DENIED")
    refused(session.get(f"{DEMO_ROOT}/models?key=demo-key-0000"), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize(("body", "name", "where"), [
    ({**prompt(), "n": 2}, "n", ""),
    (prompt(aspectRatio="16:9"), "aspectRatio", " at 'generation_config'"),
    (prompt(imageConfig={"personGeneration": "ALLOW_ALL"}), "personGeneration",
     " at 'generation_config.image_config'"),
    (prompt(imageConfig={"outputMimeType": "image/png"}), "outputMimeType",
     " at 'generation_config.image_config'"),
    (prompt(thinkingConfig={"effort": "high"}), "effort",
     " at 'generation_config.thinking_config'"),
])
def test_unknown_fields_are_refused_with_geminis_text(session, body, name, where):
    refused(generate(session, body), 400, "INVALID_ARGUMENT",
            f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.')


def test_more_than_one_candidate_is_refused(session):
    refused(generate(session, prompt(candidateCount=2)), 400, "INVALID_ARGUMENT",
            f"Multiple candidates is not enabled for models/{DEFAULT}")
    assert generate(session, prompt(candidateCount=1)).status_code == 200


def test_an_aspect_ratio_the_model_lacks_is_refused_naming_the_accepted_ones(session):
    message = refused(generate(session, prompt(imageConfig={"aspectRatio": "7:3"})), 400,
                      "INVALID_ARGUMENT", "image_config.aspect_ratio: aspect_ratio must be one "
                      "of '1:1', '1:4', '1:8', '2:3'", "'16:9', '21:9'")
    assert "7:3" not in message
    refused(generate(session, prompt(imageConfig={"aspectRatio": "1:4"}), "gemini-3-pro-image"),
            400, "INVALID_ARGUMENT", "aspect_ratio must be one of")


@pytest.mark.parametrize(("model", "size", "fragment"), [
    (DEFAULT, "1k", "image_size must be one of '1K', '2K', '4K'"),
    (DEFAULT, "512", "image_size must be one of"),
    ("gemini-3.1-flash-lite-image", "2K", "image_size must be one of '1K'"),
    ("gemini-2.5-flash-image", "1K", "Image size is not supported for "
                                     "models/gemini-2.5-flash-image"),
])
def test_image_sizes_the_model_lacks_are_refused(session, model, size, fragment):
    refused(generate(session, prompt(imageConfig={"imageSize": size}), model), 400,
            "INVALID_ARGUMENT", fragment)


@pytest.mark.parametrize(("model", "thinking", "fragment"), [
    ("gemini-2.5-flash-image", {"includeThoughts": True},
     "Thinking is not enabled for models/gemini-2.5-flash-image"),
    ("gemini-3-pro-image", {"thinkingLevel": "HIGH"}, "models/gemini-3-pro-image"),
    (DEFAULT, {"thinkingLevel": "LOW"}, "thinking_level must be one of 'MINIMAL', 'MEDIUM'"),
    ("gemini-3.1-flash-lite-image", {"thinkingLevel": "MEDIUM"}, "thinking_level must be one of"),
    (DEFAULT, {"thinkingLevel": "VERY_HIGH"}, "Invalid value at "
                                              "'generation_config.thinking_config.thinking_level'"),
])
def test_thinking_the_model_does_not_offer_is_refused(session, model, thinking, fragment):
    refused(generate(session, prompt(thinkingConfig=thinking), model), 400, "INVALID_ARGUMENT",
            fragment)


def test_thinking_levels_the_model_offers_are_accepted(session):
    for model, level in ((DEFAULT, "HIGH"), ("gemini-3.1-flash-lite-image", "MINIMAL")):
        assert generate(session, prompt(thinkingConfig={"thinkingLevel": level}),
                        model).status_code == 200
    assert generate(session, prompt(thinkingConfig={"includeThoughts": True}),
                    "gemini-3-pro-image").status_code == 200


@pytest.mark.parametrize("model", ["imagen-4.0-generate-001", "gemini-3.1-flash-image",
                                   "gemini-3-pro-image-preview", "gemini-2.5-flash"])
@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent"])
def test_unknown_and_retired_models_are_not_found(session, model, method):
    refused(generate(session, prompt(), model, method=method), 404, "NOT_FOUND",
            f"models/{model} is not found for API version v1beta, or is not supported for "
            f"{method}. Call ListModels")


@pytest.mark.parametrize(("body", "fragment"), [
    ({"contents": []}, "contents is not specified"),
    ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "valid role: user, model"),
    ({"contents": [{"parts": [{}]}]}, "required oneof field 'data'"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "%%%"}}]}]},
     "Base64 decoding failed"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png",
                                              "data": base64.b64encode(b"nope").decode()}}]}]},
     "Unable to process input image"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/gif", "data": ""}}]}]},
     "Unsupported MIME type: image/gif"),
    ({"contents": [{"parts": [{"fileData": {"fileUri": "http://example.com/a.png"}}]}]},
     "file uri"),
    (prompt(responseModalities=["PICTURE"]), "response_modalities[0]"),
])
def test_malformed_contents_are_refused(session, body, fragment):
    refused(generate(session, body), 400, "INVALID_ARGUMENT", fragment)


def test_more_input_images_than_the_model_takes_are_refused(session):
    body = prompt("merge")
    body["contents"][0]["parts"] += [{"inlineData": {"mimeType": "image/jpeg",
                                                     "data": jpeg(16, 16)}}] * 4
    refused(generate(session, body, "gemini-2.5-flash-image"), 400, "INVALID_ARGUMENT",
            "at most 3")
    assert generate(session, body).status_code == 200


def test_a_body_that_is_not_json_is_refused(session):
    response = session.post(f"{DEMO_ROOT}/models/{DEFAULT}:generateContent", data=b"{nope",
                            headers=KEY)
    refused(response, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.")


def test_an_unknown_path_gets_googles_html_404(session):
    response = session.get(f"{DEMO_ROOT}/tunedModels:frobnicate", headers=KEY)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")


# --- streaming -----------------------------------------------------------------------------

def sse_chunks(response):
    assert response.headers["Content-Type"] == "text/event-stream"
    raw = response.content
    assert raw.endswith(b"\r\n\r\n")
    events = raw.split(b"\r\n\r\n")[:-1]
    assert all(event.startswith(b"data: ") for event in events)
    return [json.loads(event.removeprefix(b"data: ")) for event in events]


def test_stream_sends_thoughts_then_the_whole_image_then_usage(session):
    body = prompt(responseModalities=["IMAGE"], thinkingConfig={"includeThoughts": True},
                  imageConfig={"aspectRatio": "16:9"})
    chunks = sse_chunks(generate(session, body, method="streamGenerateContent",
                                 query="?alt=sse"))
    parts = [parts_of(chunk) for chunk in chunks]
    *thoughts, final, last = parts
    assert len(thoughts) >= 2 and all(p[0]["thought"] is True for p in thoughts)
    [image] = [p for p in final if "inlineData" in p]
    assert "thought" not in image and opened(image).size == (1408, 768)
    assert all("inlineData" not in p for p in last)
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 1120
    assert all("finishReason" not in chunk["candidates"][0] for chunk in chunks[:-1])
    assert len({chunk["responseId"] for chunk in chunks}) == 1


def test_stream_without_alt_sse_is_one_json_array(session):
    response = generate(session, prompt(), method="streamGenerateContent")
    chunks = response.json()
    assert isinstance(chunks, list) and chunks[-1]["usageMetadata"]


def test_stream_refusals_are_plain_json_errors(session):
    response = generate(session, prompt(candidateCount=3), method="streamGenerateContent",
                        query="?alt=sse")
    refused(response, 400, "INVALID_ARGUMENT", "Multiple candidates")


# --- models --------------------------------------------------------------------------------

def test_models_come_in_pages_that_list_every_live_model_once(session):
    names, token, pages = [], None, 0
    while True:
        query = f"?pageToken={token}" if token else ""
        page = session.get(f"{DEMO_ROOT}/models{query}", headers=KEY).json()
        names += [model["name"] for model in page["models"]]
        assert all(model["supportedGenerationMethods"] for model in page["models"])
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break
    live = {f"models/{spec.id}" for spec in ModelTable.load() if not spec.retired}
    assert pages > 1 and len(names) == len(set(names))
    assert live < set(names)  # plus models that make no images, for filtering
    assert "models/gemini-3.1-flash-image" not in names
    assert "models/gemini-embedding-001" in names


def test_page_size_limits_a_page_and_a_bad_token_is_refused(session):
    page = session.get(f"{DEMO_ROOT}/models?pageSize=1", headers=KEY).json()
    assert len(page["models"]) == 1 and page["nextPageToken"]
    refused(session.get(f"{DEMO_ROOT}/models?pageToken=garbage!", headers=KEY), 400,
            "INVALID_ARGUMENT")


def test_one_model_or_not_found(session):
    model = session.get(f"{DEMO_ROOT}/models/{DEFAULT}", headers=KEY).json()
    assert model["name"] == f"models/{DEFAULT}"
    assert "generateContent" in model["supportedGenerationMethods"]
    refused(session.get(f"{DEMO_ROOT}/models/gemini-3.1-flash-image", headers=KEY), 404,
            "NOT_FOUND", "models/gemini-3.1-flash-image is not found")


# --- the compatibility layer, for UPSTREAM_API=openai ---------------------------------------

def test_compat_routes_still_answer_like_the_openai_layer(session):
    response = session.post(f"{DEMO_BASE_URL}/images/generations", json={
        "model": "gemini-2.5-flash-image", "prompt": "a kite", "size": "64x32", "n": 2},
        headers={"Authorization": "Bearer demo-key-0000"})
    data = response.json()["data"]
    assert len(data) == 2
    image = Image.open(io.BytesIO(base64.b64decode(data[0]["b64_json"])))
    assert (image.format, image.size) == ("PNG", (64, 32))
    listing = session.get(f"{DEMO_BASE_URL}/models").json()
    assert listing["object"] == "list" and listing["data"]
    missing = session.get(f"{DEMO_BASE_URL}/chat/completions")
    assert missing.status_code == 404 and isinstance(missing.json(), list)


# --- the unit tests' fake bodies say what the demo says --------------------------------------

@pytest.mark.parametrize(("expected", "model", "body"), [
    (gemini.model_not_found("imagen-4.0-generate-001"), "imagen-4.0-generate-001", prompt()),
    (gemini.bad_aspect_ratio(), DEFAULT, prompt(imageConfig={"aspectRatio": "7:3"})),
    (gemini.multiple_candidates(), DEFAULT, prompt(candidateCount=4)),
    (gemini.unknown_field("seedValue"), DEFAULT, prompt(seedValue=3)),
])
def test_fake_error_bodies_match_the_demo_word_for_word(session, expected, model, body):
    assert generate(session, body, model).json() == json.loads(expected)


def test_fake_answers_have_the_demo_answers_shape(session):
    demo = generate(session, prompt(responseModalities=["IMAGE"])).json()
    fake = gemini.native_image_answer()
    assert fake.keys() == demo.keys()
    assert [sorted(p) for p in parts_of(fake)] == [sorted(p) for p in parts_of(demo)]
    assert fake["usageMetadata"].keys() == demo["usageMetadata"].keys()
    assert opened(final_images(fake)[0]).format == "JPEG"
    assert Image.open(io.BytesIO(gemini.png_bytes(5, 3))).size == (5, 3)


@pytest.mark.parametrize("side", [8000, 12000, 20000])  # under, over and twice Pillow's limit
def test_an_input_image_claiming_huge_dimensions_is_refused_before_decoding(session, side):
    png = bytearray(gemini.png_bytes(8, 8))
    png[16:24] = struct.pack(">II", side, side)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    body = prompt("enlarge")
    body["contents"][0]["parts"].append({"inlineData": {
        "mimeType": "image/png", "data": base64.b64encode(bytes(png)).decode()}})
    refused(generate(session, body), 400, "INVALID_ARGUMENT", "Unable to process input image")
