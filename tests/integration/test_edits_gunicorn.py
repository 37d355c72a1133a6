"""Edits and variations as deployed: the openai SDK against real gunicorn with a gevent
worker, in front of the loopback fake's native generateContent route."""

import base64
import io
import socket
import time

import openai
import pytest
import requests
from PIL import Image

from tests import gemini_bodies as gemini
from tests.conftest import KEYS, TOKENS
from tests.integration.fake_gemini import Reply

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def png(width, height, fmt="PNG"):
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 5) % 256, (y * 9) % 256, (x + y) % 256)
                   for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def hole_mask(width, height, box):
    mask = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def sdk(start_gateway):
    """An openai client for a gateway; closed at the end, so that gunicorn's graceful stop
    does not wait for its kept-alive connection."""
    clients = []

    def make(gateway):
        clients.append(openai.OpenAI(base_url=gateway.url + "/v1", api_key=TOKENS[1],
                                     max_retries=0, timeout=30))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def native(start_gateway, fake_gemini, sdk):
    def start(**env):
        gateway = start_gateway(UPSTREAM_API="gemini", GEMINI_BASE_URL=fake_gemini.native_root,
                                **env)
        return gateway, sdk(gateway)
    return start


def inline_parts(call):
    return [part["inlineData"] for part in call.body["contents"][0]["parts"]
            if "inlineData" in part]


def b64(data):
    return base64.b64encode(data).decode()


def test_sdk_edits_one_image_three_images_and_a_variation(native, fake_gemini):
    _, client = native()
    one = png(120, 80)
    result = client.images.edit(image=("one.png", one, "image/png"), prompt="add a hat")
    assert len(result.data) == 1 and base64.b64decode(result.data[0].b64_json)[:3] == \
        b"\xff\xd8\xff"
    (call,) = fake_gemini.calls
    assert call.path.endswith("/models/gemini-nano-banana-2.1:generateContent")
    assert call.body["contents"][0]["parts"][0] == {"text": "add a hat"}
    assert inline_parts(call) == [{"mimeType": "image/png", "data": b64(one)}]
    assert "imageConfig" not in call.body["generationConfig"]

    three = [png(40, 40), png(30, 20, "JPEG"), png(16, 16, "WEBP")]
    result = client.images.edit(image=[(f"{i}.bin", data, "application/octet-stream")
                                       for i, data in enumerate(three)],
                                prompt="put them together", n=2, size="1536x1024")
    assert len(result.data) == 2 and result.size == "64x64"
    for call in fake_gemini.calls[1:]:
        assert inline_parts(call) == [
            {"mimeType": mime, "data": b64(data)}
            for mime, data in zip(("image/png", "image/jpeg", "image/webp"), three,
                                  strict=True)]
        assert call.body["generationConfig"]["imageConfig"]["aspectRatio"] == "3:2"

    with pytest.warns(DeprecationWarning):  # the SDK marks OpenAI's retired endpoint
        result = client.images.create_variation(image=("v.png", one, "image/png"), n=2,
                                                size="512x512")
    assert len(result.data) == 2
    for call in fake_gemini.calls[3:]:
        assert inline_parts(call) == [{"mimeType": "image/png", "data": b64(one)}]
        assert "variation" in call.body["contents"][0]["parts"][0]["text"]
    assert len(fake_gemini.calls) == 5


def test_sdk_edit_with_a_mask_keeps_every_pixel_outside_it(native, fake_gemini):
    _, client = native()
    original = png(120, 80)
    box = (30, 20, 90, 60)
    result = client.images.edit(image=("photo.png", original, "image/png"),
                                mask=("mask.png", hole_mask(120, 80, box), "image/png"),
                                prompt="a window here")
    assert result.size == "120x80" and result.output_format == "png"
    after = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json))).convert("RGB")
    before = Image.open(io.BytesIO(original)).convert("RGB")
    changed = {(x, y) for y in range(80) for x in range(120)
               if after.getpixel((x, y)) != before.getpixel((x, y))}
    assert changed  # Gemini's picture shows through the hole
    assert all(box[0] <= x < box[2] and box[1] <= y < box[3] for x, y in changed)
    (call,) = fake_gemini.calls
    assert len(inline_parts(call)) == 1
    assert "25% to 75% of its width" in call.body["contents"][0]["parts"][0]["text"]


def test_a_raw_json_edit_with_data_urls(native, fake_gemini):
    gateway, _ = native()
    picture = png(50, 50, "JPEG")
    response = requests.post(gateway.url + "/v1/images/edits", headers=AUTH, timeout=30, json={
        "prompt": "x", "images": [{"image_url": f"data:image/jpeg;base64,{b64(picture)}"}]})
    assert response.status_code == 200, response.text
    (call,) = fake_gemini.calls
    assert inline_parts(call) == [{"mimeType": "image/jpeg", "data": b64(picture)}]


def test_a_retry_and_a_failover_send_the_whole_body_again(native, fake_gemini):
    answers = iter([Reply(503, gemini.overloaded()),  # urllib3 retries on the same key
                    Reply(429, gemini.rate_limited("30s", array=False)),  # the next key
                    Reply()])
    fake_gemini.behaviour = lambda call: next(answers)
    _, client = native(MAX_RETRIES=1)
    picture = png(8, 8) + bytes(range(256)) * 4000  # 1 MB: spooled to disk on both sides
    result = client.images.edit(image=("a.png", picture, "image/png"), prompt="x")
    assert len(result.data) == 1
    assert [call.key for call in fake_gemini.calls] == [KEYS[0], KEYS[0], KEYS[1]]
    assert [inline_parts(call) for call in fake_gemini.calls] == \
        [[{"mimeType": "image/png", "data": b64(picture)}]] * 3


def test_refusals_are_clear_4xx_and_reach_no_upstream(native, fake_gemini):
    gateway, client = native(MAX_IMAGE_BYTES=64 * 1024, MAX_EDIT_BODY_BYTES=256 * 1024)
    with pytest.raises(openai.APIStatusError) as caught:  # over MAX_IMAGE_BYTES
        client.images.edit(image=("big.png", png(8, 8) + b"\0" * 70_000, "image/png"),
                           prompt="x")
    assert caught.value.status_code == 413 and "MAX_IMAGE_BYTES" in caught.value.message
    with pytest.raises(openai.APIStatusError) as caught:  # over MAX_EDIT_BODY_BYTES
        client.images.edit(image=[("a.png", png(8, 8) + b"\0" * 60_000, "image/png")] * 5,
                           prompt="x")
    assert caught.value.status_code == 413 and "MAX_EDIT_BODY_BYTES" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:  # not an image
        client.images.edit(image=("a.png", b"GIF89a" + b"\0" * 100, "image/png"), prompt="x")
    assert caught.value.param == "image"
    with pytest.raises(openai.BadRequestError) as caught:  # 2.5 takes three
        client.images.edit(image=[("a.png", png(8, 8), "image/png")] * 4, prompt="x",
                           model="gemini-2.5-flash-image")
    assert caught.value.param == "image" and "at most 3" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:  # mask of another size
        client.images.edit(image=("a.png", png(20, 20), "image/png"), prompt="x",
                           mask=("m.png", hole_mask(21, 20, (0, 0, 5, 5)), "image/png"))
    assert caught.value.param == "mask"
    with pytest.raises(openai.BadRequestError) as caught:  # mask without alpha
        client.images.edit(image=("a.png", png(20, 20), "image/png"), prompt="x",
                           mask=("m.png", png(20, 20), "image/png"))
    assert caught.value.param == "mask" and "alpha" in caught.value.message

    def endless():  # chunked: no Content-Length to refuse early
        for _ in range(64):
            yield b"\0" * 8192

    response = requests.post(gateway.url + "/v1/images/edits", headers={
        **AUTH, "Content-Type": "multipart/form-data; boundary=zz"}, data=endless(), timeout=30)
    assert response.status_code == 413 and "MAX_EDIT_BODY_BYTES" in response.text
    assert fake_gemini.calls == []


def test_an_upload_that_stalls_is_408_after_client_body_timeout(native, fake_gemini):
    gateway, _ = native(CLIENT_BODY_TIMEOUT=1)
    head = (f"POST /v1/images/edits HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {TOKENS[0]}\r\nContent-Length: 100000\r\n"
            "Content-Type: multipart/form-data; boundary=zz\r\n\r\n--zz\r\n").encode()
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(head)
        started = time.monotonic()
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 5
    assert fake_gemini.calls == []


def test_openai_upstream_gets_the_form_as_the_sdk_sent_it(start_gateway, fake_gemini, sdk):
    fake_gemini.behaviour = lambda call: Reply()
    client = sdk(start_gateway())  # UPSTREAM_API=openai
    result = client.images.edit(image=("a.png", png(10, 10), "image/png"), prompt="x",
                                mask=("m.png", hole_mask(10, 10, (0, 0, 5, 5)), "image/png"))
    assert len(result.data) == 1
    (call,) = fake_gemini.calls
    assert call.path == "/v1beta/openai/images/edits"
    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
