"""The spooled upstream body of an edit: valid JSON with base64 streamed in, read by many."""

import base64
import io
import json

import pytest
import requests

from app.json_body import MEMORY_BYTES, SpooledBody
from app.uploads import Upload


def upload(data: bytes) -> Upload:
    return Upload("image", "image/png", len(data), io.BytesIO(data))


@pytest.mark.parametrize("size", [10, 3 * 256 * 1024 + 1, 2 * MEMORY_BYTES])
def test_the_body_is_the_json_of_the_document_with_each_upload_as_base64(size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    document = {"contents": [{"role": "user", "parts": [
        {"text": "a \"quoted\" prompt\nwith ünïcode"},
        {"inlineData": {"mimeType": "image/png", "data": upload(data)}}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "n": 1, "x": None}}
    with SpooledBody.json(document) as body:
        sent = body.reader().read()
        assert len(sent) == body.length
    parsed = json.loads(sent)
    assert parsed["contents"][0]["parts"][0]["text"] == "a \"quoted\" prompt\nwith ünïcode"
    assert base64.b64decode(parsed["contents"][0]["parts"][1]["inlineData"]["data"]) == data
    assert parsed["generationConfig"] == {"responseModalities": ["IMAGE"], "n": 1, "x": None}


@pytest.mark.parametrize("size", [100, 2 * MEMORY_BYTES])
def test_readers_keep_their_own_place(size):
    """The n calls of one edit read one body at once: no reader may move another."""
    with SpooledBody.copied(iter([b"a" * (size // 2), b"b" * (size - size // 2)]),
                            "application/octet-stream") as body:
        first, second = body.reader(), body.reader()
        head = first.read(10)
        whole = second.read()
        rest = first.read()
        assert head + rest == whole == b"a" * (size // 2) + b"b" * (size - size // 2)
        first.seek(0)
        assert first.read(3) == b"aaa" and first.tell() == 3
        assert len(first) == size and first.content_type == "application/octet-stream"


def test_requests_sends_a_reader_with_its_length_and_not_chunked():
    with SpooledBody.copied(iter([b"z" * 5000]), "application/json") as body:
        prepared = requests.Request("POST", "http://upstream.invalid/x",
                                    data=body.reader()).prepare()
    assert prepared.headers["Content-Length"] == "5000"
    assert "Transfer-Encoding" not in prepared.headers
