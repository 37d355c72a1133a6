"""POST /v1/images/edits and /v1/images/variations on the native backend, against a
`responses` fake of generateContent that shows what Gemini would receive."""

import base64
import io
import json

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import contract
from tests import gemini_bodies as gemini
from tests.conftest import BASE, KEYS, ROOT

DEFAULT = "gemini-nano-banana-2.1"


def generate_url(model=DEFAULT):
    return f"{ROOT}/models/{model}:generateContent"


def encoded(image, fmt="PNG", **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def photo(width=96, height=64, fmt="PNG"):
    """A picture with detail in every pixel, so a pasted-over pixel cannot pass unseen."""
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256)
                   for y in range(height) for x in range(width)])
    return encoded(image, fmt)


def webp(width=16, height=16):
    return encoded(Image.new("RGB", (width, height), (1, 2, 3)), "WEBP")


def hole_mask(width=96, height=64, box=(24, 16, 72, 48)):
    """Opaque everywhere but ``box``, which is fully transparent: the editable area."""
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    return encoded(mask)


@pytest.fixture
def client(native):
    return native()


def answered_by_gemini(upstream, image=None, model=DEFAULT):
    data = base64.b64encode(image or gemini.jpeg_bytes(48, 32)).decode()
    upstream.post(generate_url(model), json=gemini.native_image_answer(
        images=[("image/jpeg", data)], model=model))


def edit(client, auth, files, path="/v1/images/edits", **fields):
    fields = {"prompt": "put a red hat on it", **fields}
    return client.post(path, headers=auth, **multipart(list(fields.items()), files))


def multipart(fields, files):
    """A form as the SDKs send it, encoded in memory (the test client would spool a large
    one to a file it never closes). Files are sent as application/octet-stream: the
    gateway must judge them by their bytes."""
    data = MultiDict(fields)
    for name, content in files:
        data.add(name, FileStorage(io.BytesIO(content), f"{name}.bin",
                                   content_type="application/octet-stream"))
    boundary, body = encode_multipart(data)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def sent(upstream, index=0):
    return json.loads(upstream.calls[index].request.body)


def parts(upstream, index=0):
    return sent(upstream, index)["contents"][0]["parts"]


def inline(upstream, index=0):
    return [part["inlineData"] for part in parts(upstream, index) if "inlineData" in part]


def error_of(response, status, param=None):
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if param is not None:
        assert error["param"] == param
    return error


def decoded(response, index=0):
    raw = base64.b64decode(response.get_json()["data"][index]["b64_json"])
    return Image.open(io.BytesIO(raw))


# ---- what Gemini receives -------------------------------------------------------------


def test_one_image_is_an_inline_part_beside_the_prompt_and_keeps_its_ratio(client, auth,
                                                                          upstream):
    answered_by_gemini(upstream)
    image = photo()
    response = edit(client, auth, [("image", image)])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert upstream.calls[0].request.headers["x-goog-api-key"] == KEYS[0]
    assert sent(upstream) == {
        "contents": [{"role": "user", "parts": [
            {"text": "put a red hat on it"},
            {"inlineData": {"mimeType": "image/png",
                            "data": base64.b64encode(image).decode()}}]}],
        # No aspectRatio: Gemini keeps the input's.
        "generationConfig": {"responseModalities": ["IMAGE"]}}
    body = response.get_json()
    assert body["data"][0]["b64_json"] == base64.b64encode(gemini.jpeg_bytes(48, 32)).decode()
    assert body["size"] == "48x32" and body["output_format"] == "jpeg"


def test_three_images_go_in_order_typed_by_their_bytes_not_their_names(client, auth,
                                                                       upstream):
    answered_by_gemini(upstream)
    images = [photo(), gemini.jpeg_bytes(20, 10), webp()]
    response = edit(client, auth, [("image[]", image) for image in images])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert inline(upstream) == [
        {"mimeType": mime, "data": base64.b64encode(image).decode()}
        for mime, image in zip(("image/png", "image/jpeg", "image/webp"), images, strict=True)]


def test_heic_is_accepted_and_sent_as_heic(client, auth, upstream):
    answered_by_gemini(upstream)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    assert edit(client, auth, [("image", heic)]).status_code == 200
    assert inline(upstream)[0]["mimeType"] == "image/heic"


def test_size_quality_and_model_map_as_for_generations(client, auth, upstream):
    answered_by_gemini(upstream, model="gemini-3-pro-image")
    response = edit(client, auth, [("image", photo())], size="1536x1024", quality="high",
                    model="gemini-3-pro-image", n="1", input_fidelity="high", user="u1")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert sent(upstream)["generationConfig"]["imageConfig"] == {"aspectRatio": "3:2",
                                                                 "imageSize": "2K"}


def test_n_calls_each_receive_the_whole_body(client, auth, upstream):
    answered_by_gemini(upstream)
    big = gemini.png_bytes(8, 8) + b"\x00" * (3 << 20)  # spooled to disk on both sides
    response = edit(client, auth, [("image", big)], n="3")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["data"]) == 3
    expected = base64.b64encode(big).decode()
    assert [inline(upstream, i)[0]["data"] == expected for i in range(3)] == [True] * 3


def test_a_rate_limited_key_fails_over_and_the_next_key_gets_the_whole_body(client, auth,
                                                                          upstream):
    upstream.post(generate_url(), status=429, body=gemini.rate_limited("30s", array=False))
    answered_by_gemini(upstream)
    image = photo()
    assert edit(client, auth, [("image", image)]).status_code == 200
    assert [call.request.headers["x-goog-api-key"] for call in upstream.calls] == list(KEYS)
    assert inline(upstream, 1)[0]["data"] == base64.b64encode(image).decode()


def test_the_edit_limits_replace_max_body_bytes_on_these_routes_only(native, auth,
                                                                       upstream):
    client = native(MAX_BODY_BYTES=2048)
    answered_by_gemini(upstream)
    assert edit(client, auth, [("image", photo(200, 200))]).status_code == 200
    too_big = client.post("/v1/images/generations", headers=auth,
                          json={"prompt": "x" * 4000})
    assert too_big.status_code == 413


# ---- the JSON form ---------------------------------------------------------------------


def test_json_images_as_data_urls_are_sent_as_they_came(client, auth, upstream):
    answered_by_gemini(upstream)
    first, second = photo(), gemini.jpeg_bytes(20, 10)
    urls = [f"data:image/png;base64,{base64.b64encode(first).decode()}",
            # The declared type is wrong: the bytes decide.
            f"data:image/png;base64,{base64.b64encode(second).decode()}"]
    response = client.post("/v1/images/edits", headers=auth, json={
        "prompt": "merge them", "images": [{"image_url": url} for url in urls], "n": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert parts(upstream) == [
        {"text": "merge them"},
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(first).decode()}},
        {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(second).decode()}}]


def test_an_https_url_is_left_for_gemini_to_fetch(client, auth, upstream):
    answered_by_gemini(upstream)
    response = client.post("/v1/images/edits", headers=auth, json={
        "prompt": "x", "images": [{"image_url": "https://img.example/cat.JPG?v=2"},
                                  {"image_url": "https://img.example/raw"}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert parts(upstream)[1:] == [
        {"fileData": {"fileUri": "https://img.example/cat.JPG?v=2", "mimeType": "image/jpeg"}},
        {"fileData": {"fileUri": "https://img.example/raw"}}]
    assert len(upstream.calls) == 1  # nothing fetched by the gateway


@pytest.mark.parametrize(("images", "param"), [
    ([{"image_url": "http://img.example/cat.png"}], "images"),
    ([{"image_url": "file:///etc/passwd"}], "images"),
    ([{"file_id": "file-123"}], "images"),
    ([{"image_url": "data:image/png;base64,@@@@"}], "images"),
    ([{"image_url": "data:text/plain;base64," + base64.b64encode(b"hello, world").decode()}],
     "images"),
    ([], "images"),
    ("data:image/png;base64,AAAA", "images"),
])
def test_json_images_that_cannot_be_sent_are_400_before_any_call(client, auth, upstream,
                                                                   images, param):
    response = client.post("/v1/images/edits", headers=auth,
                           json={"prompt": "x", "images": images})
    error_of(response, 400, param)
    assert len(upstream.calls) == 0


# ---- masks -----------------------------------------------------------------------------


def test_a_mask_holds_outside_its_transparent_area_pixel_for_pixel(client, auth, upstream):
    # Gemini answers a different size and format: it is resized and pasted through the mask.
    answered_by_gemini(upstream, gemini.jpeg_bytes(150, 100))
    original = photo(96, 64)
    response = edit(client, auth, [("image", original), ("mask", hole_mask())])
    assert response.status_code == 200, response.get_data(as_text=True)
    result = decoded(response)
    assert result.format == "PNG" and result.size == (96, 64)
    assert response.get_json()["size"] == "96x64"
    assert response.get_json()["output_format"] == "png"
    before = Image.open(io.BytesIO(original)).convert("RGB").load()
    after = result.convert("RGB").load()
    outside = [(x, y) for y in range(64) for x in range(96)
               if not (24 <= x < 72 and 16 <= y < 48)]
    assert all(after[p] == before[p] for p in outside)
    inside = [(x, y) for y in range(16, 48) for x in range(24, 72)]
    assert sum(after[p] != before[p] for p in inside) > len(inside) // 2
    # Gemini is told which region may change.
    prompt = parts(upstream)[0]["text"]
    assert prompt.startswith("put a red hat on it")
    assert "25% to 75% of its width" in prompt and "25% to 75% of its height" in prompt
    assert len(inline(upstream)) == 1  # the mask itself is the gateway's, not Gemini's


def test_a_mask_with_a_jpeg_input_keeps_its_pixels_too(client, auth, upstream):
    answered_by_gemini(upstream, gemini.png_bytes(96, 64))
    original = photo(96, 64, "JPEG")
    response = edit(client, auth, [("image", original), ("mask", hole_mask())],
                    output_format="webp")
    assert response.status_code == 200, response.get_data(as_text=True)
    result = decoded(response)
    assert result.format == "WEBP"
    before = Image.open(io.BytesIO(original)).convert("RGB").load()
    after = result.convert("RGB").load()
    assert all(after[x, y] == before[x, y] for x in range(96) for y in range(16))


@pytest.mark.parametrize(("mask", "words"), [
    (lambda: hole_mask(90, 64), "same size"),
    (lambda: encoded(Image.new("RGB", (96, 64))), "alpha"),
    (lambda: gemini.jpeg_bytes(96, 64), "PNG"),
    (lambda: encoded(Image.new("RGBA", (96, 64), (0, 0, 0, 255))), "transparent"),
    (lambda: b"not a picture at all", "PNG, JPEG"),
])
def test_a_mask_that_cannot_hold_is_400_naming_mask_before_any_call(client, auth, upstream,
                                                                     mask, words):
    response = edit(client, auth, [("image", photo(96, 64)), ("mask", mask())])
    error = error_of(response, 400, "mask")
    assert words in error["message"]
    assert len(upstream.calls) == 0


def test_a_json_mask_applies_to_a_data_url_image(client, auth, upstream):
    answered_by_gemini(upstream, gemini.jpeg_bytes(96, 64))
    original = photo(96, 64)
    response = client.post("/v1/images/edits", headers=auth, json={
        "prompt": "x",
        "images": [{"image_url": "data:image/png;base64," + base64.b64encode(original).decode()}],
        "mask": {"image_url": "data:image/png;base64," + base64.b64encode(hole_mask()).decode()}})
    assert response.status_code == 200, response.get_data(as_text=True)
    before = Image.open(io.BytesIO(original)).load()
    after = decoded(response).load()
    assert all(after[x, 0] == before[x, 0] for x in range(96))


def test_a_mask_cannot_apply_to_an_image_the_gateway_never_sees(client, auth, upstream):
    response = client.post("/v1/images/edits", headers=auth, json={
        "prompt": "x", "images": [{"image_url": "https://img.example/a.png"}],
        "mask": {"image_url": "data:image/png;base64," + base64.b64encode(hole_mask()).decode()}})
    error_of(response, 400, "mask")
    assert len(upstream.calls) == 0


# ---- refusals before any call ----------------------------------------------------------


def test_an_image_over_max_image_bytes_is_413_naming_the_limit(native, auth, upstream):
    client = native(MAX_IMAGE_BYTES=4096)
    response = edit(client, auth, [("image", gemini.png_bytes(8, 8) + b"\x00" * 5000)])
    error = error_of(response, 413, "image")
    assert "MAX_IMAGE_BYTES" in error["message"] and error["code"] == "request_too_large"
    assert response.headers["Connection"] == "close"
    assert len(upstream.calls) == 0


def test_a_body_over_max_edit_body_bytes_is_413_naming_the_limit(native, auth, upstream):
    client = native(MAX_EDIT_BODY_BYTES=8192)
    response = edit(client, auth, [("image[]", photo(40, 40))] * 4
                    + [("image[]", b"\x89PNG\r\n\x1a\n" + b"\x00" * 9000)])
    error = error_of(response, 413)
    assert "MAX_EDIT_BODY_BYTES" in error["message"]
    assert len(upstream.calls) == 0


def test_a_chunked_body_over_the_limit_is_413_too(native, auth, upstream):
    client = native(MAX_EDIT_BODY_BYTES=8192)
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + b"\0" * 20000
    response = client.post("/v1/images/edits", headers=auth, input_stream=io.BytesIO(body),
                           content_type=f"multipart/form-data; boundary={boundary}",
                           # what gunicorn says of a chunked body it de-chunks itself
                           environ_overrides={"wsgi.input_terminated": True})
    error_of(response, 413)
    json_body = json.dumps({"prompt": "x", "images": [
        {"image_url": "data:image/png;base64," + "A" * 20000}]}).encode()
    response = client.post("/v1/images/edits", headers=auth, input_stream=io.BytesIO(json_body),
                           content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})
    assert "MAX_EDIT_BODY_BYTES" in error_of(response, 413)["message"]
    assert len(upstream.calls) == 0


@pytest.mark.parametrize(("content", "name"), [
    (b"GIF89a" + b"\x00" * 64, "image"),
    (b"%PDF-1.7 not a picture", "image"),
    (b"", "image"),
])
def test_a_file_that_is_not_an_accepted_image_is_400_naming_image(client, auth, upstream,
                                                                    content, name):
    error = error_of(edit(client, auth, [(name, content)]), 400, "image")
    assert len(upstream.calls) == 0
    if content:
        assert "PNG, JPEG, WebP, HEIC or HEIF" in error["message"]


def test_more_images_than_the_model_takes_is_400_naming_its_limit(client, auth, upstream):
    response = edit(client, auth, [("image[]", photo(8, 8))] * 4,
                    model="gemini-2.5-flash-image")
    error = error_of(response, 400, "image")
    assert "at most 3" in error["message"]
    assert len(upstream.calls) == 0


@pytest.mark.parametrize(("fields", "param", "code"), [
    ({"prompt": ""}, "prompt", None),
    ({"n": "11"}, "n", "invalid_value"),
    ({"n": "two"}, "n", "invalid_value"),
    ({"response_format": "png"}, "response_format", "invalid_value"),
    ({"stream": "maybe"}, "stream", "invalid_value"),
    ({"background": "transparent"}, "background", "unsupported_value"),
    ({"size": "big"}, "size", "invalid_value"),
])
def test_fields_are_checked_as_for_generations(client, auth, upstream, fields, param, code):
    error = error_of(edit(client, auth, [("image", photo())], **fields), 400, param)
    assert code is None or error["code"] == code
    assert len(upstream.calls) == 0


def test_no_image_and_no_form_are_clear_400s(client, auth, upstream):
    error_of(edit(client, auth, []), 400, "image")
    response = client.post("/v1/images/edits", headers=auth, data="prompt=x",
                           content_type="application/x-www-form-urlencoded")
    assert "multipart/form-data" in error_of(response, 400)["message"]
    assert len(upstream.calls) == 0


def test_edits_need_the_client_token(client, upstream):
    error_of(edit(client, {}, [("image", photo())]), 401)
    assert len(upstream.calls) == 0


# ---- variations ------------------------------------------------------------------------


def test_a_variation_is_the_image_and_a_fixed_instruction(client, auth, upstream):
    answered_by_gemini(upstream)
    image = photo(64, 64)
    response = client.post("/v1/images/variations", headers=auth, **multipart(
        [("n", "2"), ("size", "512x512"), ("response_format", "b64_json"),
         ("model", "dall-e-2"), ("user", "u")], [("image", image)]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(response.get_json()["data"]) == 2 and len(upstream.calls) == 2
    text, picture = parts(upstream)
    assert "variation" in text["text"]
    assert picture == {"inlineData": {"mimeType": "image/png",
                                      "data": base64.b64encode(image).decode()}}
    assert upstream.calls[0].request.url == generate_url()  # dall-e-2: the default model
    assert sent(upstream)["generationConfig"]["imageConfig"]["aspectRatio"] == "1:1"


def test_a_variation_without_an_image_is_400(client, auth, upstream):
    response = client.post("/v1/images/variations", headers=auth,
                           content_type="multipart/form-data", data={"n": "1"})
    error_of(response, 400, "image")


# ---- UPSTREAM_API=openai: the form goes on as it came -----------------------------------


def test_openai_upstream_gets_the_multipart_form_unchanged(make_app, auth, upstream):
    client = make_app().test_client()  # conftest's default: UPSTREAM_API=openai
    upstream.post(BASE + "/images/edits", json=gemini.images(1))
    upstream.post(BASE + "/images/variations", json=gemini.images(1))
    form = (b"--b0undary\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhat\r\n"
            b"--b0undary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + photo() + b"\r\n--b0undary--\r\n")
    for path in ("/v1/images/edits", "/v1/images/variations"):
        response = client.post(path, headers=auth, data=form,
                               content_type="multipart/form-data; boundary=b0undary")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["data"][0]["b64_json"] == gemini.PNG_B64
    for call, path in zip(upstream.calls, ("/images/edits", "/images/variations"), strict=True):
        assert call.request.url == BASE + path
        assert call.request.body == form
        assert call.request.headers["Content-Type"] == "multipart/form-data; boundary=b0undary"
        assert call.request.headers["Authorization"] in (f"Bearer {key}" for key in KEYS)


def test_demo_mode_edits_offline(make_app, auth):
    client = make_app(DEMO="true", UPSTREAM_API="gemini").test_client()
    red = encoded(Image.new("RGB", (120, 80), (220, 20, 20)))
    response = edit(client, auth, [("image", red)])
    assert response.status_code == 200, response.get_data(as_text=True)
    picture = decoded(response).convert("RGB")
    assert picture.width / picture.height == pytest.approx(1.5, rel=0.05)  # the input's ratio
    r, g, b = picture.getpixel((2, 2))
    assert r > 180 and g < 80 and b < 80  # based on the input image
    masked = edit(client, auth, [("image", red), ("mask", hole_mask(120, 80, (0, 0, 60, 80)))])
    assert masked.status_code == 200
    assert decoded(masked).convert("RGB").getpixel((100, 40)) == (220, 20, 20)


# ---- as openapi.yaml documents them -----------------------------------------------------


@pytest.mark.parametrize(("path", "env", "files", "fields", "status"), [
    ("/v1/images/edits", {}, [("image", b"\x89PNG\r\n\x1a\n")], {}, 200),
    ("/v1/images/edits", {}, [("image", b"\x89PNG\r\n\x1a\n"), ("mask", b"GIF89a")], {}, 400),
    ("/v1/images/edits", {"MAX_IMAGE_BYTES": 1024}, [("image", b"\xff\xd8\xff" * 400)], {},
     413),
    ("/v1/images/edits", {"MAX_EDIT_BODY_BYTES": 1024}, [("image", b"\xff\xd8\xff" * 400)],
     {}, 413),
    ("/v1/images/edits", {}, [], {}, 400),
    ("/v1/images/variations", {}, [("image", b"\x89PNG\r\n\x1a\n")], {"n": "2"}, 200),
    ("/v1/images/variations", {}, [("image", b"RIFF\0\0\0\0WEBPVP8 ")],
     {"response_format": "url"}, 200),
    ("/v1/images/variations", {}, [("image", b"GIF89a")], {}, 400),
])
def test_answers_are_what_the_spec_documents(native, auth, upstream, path, env, files, fields,
                                             status):
    answered_by_gemini(upstream)
    response = edit(native(**env), auth, files, path=path, **fields)
    assert response.status_code == status, response.get_data(as_text=True)
    assert contract.contract_violations("POST", path, status, response.headers,
                                        response.get_data()) == []
    unauthorised = edit(native(**env), {}, files, path=path)
    assert contract.contract_violations("POST", path, 401, unauthorised.headers,
                                        unauthorised.get_data()) == []


# ---- delivered as for generations: url and stream ------------------------------------------


def test_an_edit_as_a_url_serves_the_masked_result_without_a_token(native, auth, upstream,
                                                                   tmp_path):
    client = native(IMAGE_STORE_DIR=str(tmp_path / "store"))
    answered_by_gemini(upstream, gemini.jpeg_bytes(150, 100))
    original = photo(96, 64)
    response = edit(client, auth, [("image", original), ("mask", hole_mask())],
                    response_format="url")
    assert response.status_code == 200, response.get_data(as_text=True)
    (item,) = response.get_json()["data"]
    assert "b64_json" not in item and "/v1/images/files/" in item["url"]
    fetched = client.get(item["url"].split("localhost", 1)[-1])  # no Authorization header
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/png"
    result = Image.open(io.BytesIO(fetched.get_data())).convert("RGB").load()
    before = Image.open(io.BytesIO(original)).convert("RGB").load()
    assert result[0, 0] == before[0, 0] and result[95, 63] == before[95, 63]


def test_an_edit_streams_image_edit_events(client, auth, upstream):
    answered_by_gemini(upstream)
    response = edit(client, auth, [("image", photo()), ("mask", hole_mask())], stream="true",
                    n="2")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/event-stream"
    events = [json.loads(block[6:]) for block in response.get_data().split(b"\n\n")
              if block.startswith(b"data: ")]
    assert [e["type"] for e in events] == ["image_edit.completed"] * 2
    assert all(e["size"] == "96x64" and e["output_format"] == "png" for e in events)
    assert all(e["usage"]["total_tokens"] > 0 for e in events)
    assert len(upstream.calls) == 2


def test_an_edit_stream_that_fails_at_once_is_a_json_error(client, auth, upstream):
    upstream.post(generate_url(), json=gemini.prompt_blocked("SAFETY"))
    response = edit(client, auth, [("image", photo())], stream="true")
    error_of(response, 400)
    assert response.get_json()["error"]["code"] == "content_policy_violation"


def test_an_https_url_that_does_not_parse_is_a_400_not_a_500(client, auth, upstream):
    # urlsplit raises on a bracket with no IPv6 address behind it (found by the fuzzing).
    response = client.post("/v1/images/edits", headers=auth, json={
        "prompt": "x", "images": [{"image_url": "https://[not-ipv6/cat.png"}]})
    error_of(response, 400, "images")
    assert len(upstream.calls) == 0
