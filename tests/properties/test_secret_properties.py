"""A secret Gemini echoes in an error message reaches neither the client nor the logs,
whole or in pieces: it is masked whole (``…wxyz``) or left out whole."""

import string

import responses
from hypothesis import example, given
from hypothesis import strategies as st

from app import create_app
from app.gemini.errors import parse_error
from app.redaction import Redactor
from tests import gemini_bodies as gemini
from tests.conftest import TOKENS, gateway_env
from tests.properties.counting import counted

# Disjoint alphabets: any piece of the secret found in the message came from the secret.
SECRET_ALPHABET = string.ascii_uppercase + string.digits + "_-"
secrets = st.text(SECRET_ALPHABET, min_size=20, max_size=40).map(lambda tail: "AIza" + tail)
words = st.text(string.ascii_lowercase + " .,:=\"'()[]", max_size=600)


def fragments(secret: str, length: int = 8):
    return {secret[i:i + length] for i in range(len(secret) - length + 1)}


@given(secrets, words, words, st.sampled_from([400, 403, 429, 500]))
@example("fake-SYLEAKCHECKKEY00000000000000000001", "x" * 480 + " ", " tail", 400)
@counted
def test_a_secret_echoed_by_gemini_is_masked_whole_or_not_at_all(secret, before, after,
                                                                   status):
    body = gemini.error(status, "INVALID_ARGUMENT", before + secret + after)
    relayed = Redactor([secret])(parse_error(status, body.encode()).message)
    leaked = [piece for piece in fragments(secret) if piece in relayed]
    assert leaked == [], f"{len(leaked)} pieces of the secret reached the message"


def test_a_client_never_sees_a_piece_of_a_key_gemini_echoed():
    key = "fake-SyLeakCheckKey00000000000000000001"
    app = create_app(gateway_env(GEMINI_API_KEYS=key))
    message = "x" * 480 + " " + key + " was rejected"
    with responses.RequestsMock() as upstream:
        upstream.post(gateway_env()["GEMINI_BASE_URL"] + "/images/generations", status=400,
                      body=gemini.error(400, "INVALID_ARGUMENT", message))
        response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                          headers={"Authorization": f"Bearer {TOKENS[0]}"})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert not [piece for piece in fragments(key) if piece in text]
