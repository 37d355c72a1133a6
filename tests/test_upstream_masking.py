"""Whatever came from upstream is masked and bounded before it leaves (issue 11)."""

import json

import pytest

from tests import gemini_bodies as gemini
from tests.conftest import BASE, IMAGES_URL, KEYS, TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
ADMIN = "admin-token-abcdef0123456789"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
ERROR_INFO = gemini.ERROR_INFO


def suspended(key: str) -> str:
    """Google's message quotes the key it refuses."""
    return gemini.error(403, "PERMISSION_DENIED",
                        f"Permission denied: Consumer 'api_key:{key}' has been suspended.",
                        [{"@type": ERROR_INFO, "reason": "CONSUMER_SUSPENDED"}])


def assert_no_secret(text: str) -> None:
    for secret in (*KEYS, *TOKENS, ADMIN):
        assert secret not in text
        assert secret[:12] not in text and secret[-12:] not in text


def test_admin_keys_never_show_a_key_gemini_quoted(make_app, upstream):
    upstream.post(IMAGES_URL, body=suspended(KEYS[0]), status=403)
    upstream.post(IMAGES_URL, body=gemini.error(500, "INTERNAL", f"boom near {KEYS[1]}"),
                  status=500)
    client = make_app(ADMIN_TOKEN=ADMIN, MAX_RETRIES=0).test_client()
    client.post("/v1/images/generations", json={"prompt": "x"}, headers=AUTH)
    page = client.get("/admin/keys", headers=ADMIN_AUTH)
    assert_no_secret(page.get_data(as_text=True))
    first, second = page.get_json()["data"]
    assert "api_key:…0001" in first["reason"] and "api_key:…0001" in first["last_error"]
    assert "…0002" in second["last_error"]


def test_admin_fields_from_upstream_are_bounded(make_app, upstream):
    app = make_app(ADMIN_TOKEN=ADMIN)
    app.extensions["gateway"].pool.disable(KEYS[0], "x" * 100_000)
    (first, _) = app.test_client().get("/admin/keys", headers=ADMIN_AUTH).get_json()["data"]
    assert 0 < len(first["reason"]) <= 1000 and len(first["last_error"]) <= 1000


@pytest.mark.parametrize("status", [KEYS[1], "BAD\nSTATUS " + "x" * 500, "NOT_FOUND"])
def test_the_error_code_gemini_sent_is_masked_and_plain(make_app, upstream, status):
    upstream.post(IMAGES_URL, body=gemini.error(409, status, "conflict"), status=409)
    response = make_app().test_client().post("/v1/images/generations", json={"prompt": "x"},
                                             headers=AUTH)
    assert response.status_code == 409
    assert_no_secret(response.get_data(as_text=True))
    code = response.get_json()["error"]["code"]
    assert code is None or (len(code) <= 64 and code.replace("_", "").isalnum())
    if status == "NOT_FOUND":
        assert code == "not_found"


def test_an_answer_that_echoes_a_key_is_masked(make_app, upstream):
    answer = gemini.images()
    answer["data"][0]["revised_prompt"] = f"a lighthouse, key {KEYS[0]} and {TOKENS[1]}"
    upstream.post(IMAGES_URL, json=answer)
    response = make_app().test_client().post("/v1/images/generations", json={"prompt": "x"},
                                             headers=AUTH)
    assert response.status_code == 200
    assert_no_secret(response.get_data(as_text=True))
    assert response.get_json()["data"][0]["b64_json"] == gemini.PNG_B64


def test_a_model_list_that_echoes_a_key_is_masked(make_app, upstream):
    upstream.get(BASE + "/models", json={"object": "list", "data": [
        {"id": "models/gemini-2.5-flash-image", "object": "model", "owned_by": KEYS[0]}]})
    response = make_app().test_client().get("/v1/models", headers=AUTH)
    assert response.status_code == 200
    assert_no_secret(response.get_data(as_text=True))


def test_a_relayed_answer_that_echoes_a_key_is_masked_in_place(make_app, upstream):
    b64 = "QUJD" * (300 * 1024 // 4)  # over one chunk: relayed, not parsed
    body = json.dumps({"created": 1, "data": [{"b64_json": b64, "revised_prompt":
                                               f"with {KEYS[0]} inside"}]}).encode()
    upstream.post(IMAGES_URL, body=body, headers={"Content-Length": str(len(body))})
    response = make_app().test_client().post("/v1/images/generations", json={"prompt": "x"},
                                             headers=AUTH)
    data = response.get_data()
    assert response.status_code == 200 and len(data) == len(body)  # Content-Length holds
    assert_no_secret(data.decode())
    assert json.loads(data)["data"][0]["b64_json"] == b64


def test_the_body_masker_finds_secrets_split_over_chunks_and_skips_image_data():
    from app.redaction import BodyMasker

    key = KEYS[0]
    body = json.dumps({"data": [{"b64_json": "QUJD" * 40, "revised_prompt": f"a {key} b"},
                                {"b64_json" : "REVG" * 40}], "note": key}).encode()
    expected = body.replace(key.encode(), b"*" * (len(key) - 4) + key[-4:].encode())
    for size in (1, 2, 3, 7, 31, 64, 65, 200, len(body)):
        masker = BodyMasker([key, TOKENS[0]])
        chunks = [body[i:i + size] for i in range(0, len(body), size)]
        out = b"".join(masker.feed(chunk) for chunk in chunks) + masker.finish()
        assert out == expected, size


def test_a_chunk_that_ends_in_white_space_is_not_held_back():
    # An SSE keep-alive must leave at once, not wait in the masker for the next chunk.
    from app.redaction import BodyMasker

    secret = b"secret-token-0123456789"
    masker = BodyMasker([secret.decode()])
    assert masker.feed(b": keep-alive\n\n") == b": keep-alive\n\n"
    assert masker.feed(b"data: {} secret-tok") == b""  # might be the start of a secret
    assert masker.feed(b"en-0123456789 \n") == (b"data: {} " + b"*" * (len(secret) - 4)
                                                 + secret[-4:] + b" \n")


class _Spooled:
    """An image's base64 as the spool hands it out: in pieces, some of them large."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces
        self.b64_length = sum(len(p) for p in pieces)

    def b64_chunks(self):
        yield from self._pieces


def test_an_answer_with_large_images_is_masked_around_them_and_images_pass_whole():
    from app.answers import COALESCE_BYTES, ImagesBody
    from app.redaction import BodyMasker, MaskedBody

    key = KEYS[0]
    big = COALESCE_BYTES * 2
    first = [b"QUJD" * 100, b"QkNE" * (big // 4), b"Q0RF" * (big // 4), b"REVG" * 7]
    second = [b"RUZH" * (big // 4)]
    body = ImagesBody(1700000000, [(_Spooled(first), f"a {key} here"),
                                   (_Spooled(second), None)], {"note": f"{key}!"})
    sent = b"".join(MaskedBody(body, BodyMasker([key, TOKENS[0]])))
    document = json.loads(sent)
    assert [item["b64_json"].encode() for item in document["data"]] == [
        b"".join(first), b"".join(second)]
    shown = "*" * (len(key) - 4) + key[-4:]
    assert document["data"][0]["revised_prompt"] == f"a {shown} here"
    assert document["note"] == f"{shown}!"
    assert len(sent) == body.content_length
