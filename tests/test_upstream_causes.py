"""A connection failure's 502 says what failed, in an operator's words (issue 11)."""

import socket

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError

from tests.conftest import IMAGES_URL, TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}


def wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    """As requests raises it: its ConnectionError around urllib3's MaxRetryError."""
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/images", reason))


@pytest.mark.parametrize(("error", "cause"), [
    (wrapped(NameResolutionError("gemini.test", None,
                                 socket.gaierror(-2, "Name or service not known"))),
     "DNS lookup failed"),
    (requests.exceptions.ConnectionError(ProtocolError(
        "Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))),
     "connection reset"),
    (requests.exceptions.SSLError(wrapped(ConnectionError("ssl"))), "TLS error"),
    (requests.exceptions.ConnectTimeout("timed out"), "connect timeout"),
])
def test_the_502_names_the_cause(make_app, error, cause):
    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, body=error)
        response = make_app().test_client().post("/v1/images/generations",
                                                 json={"prompt": "x"}, headers=AUTH)
    assert response.status_code in (502, 504)
    assert cause in response.get_json()["error"]["message"]
