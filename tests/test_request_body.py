"""A body over MAX_BODY_BYTES is a 413 however it arrives (issue 11)."""

import io

import pytest
import responses

from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[0]}", "Content-Type": "application/json"}
LIMIT = 1024


def post_chunked(client, body: bytes):
    """As gunicorn hands over a chunked body: no Content-Length, the stream ends itself."""
    return client.post("/v1/images/generations", input_stream=io.BytesIO(body),
                       headers={**AUTH, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("body", [
    b'{"prompt": "' + b"x" * 2 * LIMIT + b'"}',  # cut short it is not JSON
    b'{"prompt": "x"}' + b" " * 2 * LIMIT,       # cut short it is valid JSON
], ids=["invalid-when-cut", "valid-when-cut"])
def test_a_chunked_body_over_the_limit_is_refused_not_cut(make_app, body):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as upstream:
        upstream.post(IMAGES_URL, json=gemini.images())
        response = post_chunked(make_app(MAX_BODY_BYTES=LIMIT).test_client(), body)
        assert len(upstream.calls) == 0
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"


def test_a_chunked_body_of_exactly_the_limit_is_served(make_app):
    body = b'{"prompt": "x"}'
    body += b" " * (LIMIT - len(body))
    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, json=gemini.images())
        response = post_chunked(make_app(MAX_BODY_BYTES=LIMIT).test_client(), body)
    assert response.status_code == 200
