"""The image request over any input: parse_image_request accepts exactly what the README
(and openapi.yaml) say and refuses the rest with InvalidRequest; the app answers any body
and any Authorization header with a 200 or an OpenAI-shaped 4xx, never a 5xx."""

import json
import re

import responses
from hypothesis import example, given
from hypothesis import strategies as st

from app import create_app
from app.errors import InvalidRequest
from app.validation import MAX_IMAGES, UNDERSTOOD, parse_image_request
from tests import contract
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, TOKENS, gateway_env
from tests.properties.counting import counted

SIZE = re.compile(r"[1-9][0-9]{0,4}x[1-9][0-9]{0,4}")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
sizes = st.one_of(
    st.from_regex(SIZE, fullmatch=True),
    st.from_regex(r"\A[0-9]{1,6}x[0-9]{1,6}\s?\Z"),
    st.sampled_from(["auto", "AUTO", "1024x1024\n", " 1024x1024", "1024X1024", "0x0",
                     "1024x1024x1", "１０２４x1024", "1792x1024"]),
    st.text(max_size=12),
)
image_bodies = st.fixed_dictionaries(
    {"prompt": st.text(max_size=20)},
    optional={"model": json_values | st.sampled_from(["dall-e-2", "dall-e-3"]),
              "n": json_values, "size": json_values | sizes,
              "response_format": json_values | st.sampled_from(["b64_json", "url"]),
              "quality": json_values | st.sampled_from(["low", "hd", "max", "ultra"]),
              "output_format": json_values | st.sampled_from(["png", "jpeg", "gif"]),
              "background": json_values | st.sampled_from(["auto", "transparent"]),
              "stream": json_values | st.booleans(),
              "seed": json_values, "user": json_values},
)


@given(json_values | image_bodies)
@counted
def test_a_request_is_either_accepted_as_documented_or_refused_naming_the_parameter(body):
    try:
        request = parse_image_request(body, "gemini-2.5-flash-image")
    except InvalidRequest as refusal:
        assert refusal.status == 400
        assert refusal.param is None or refusal.param in (*UNDERSTOOD, "background")
        return
    asked = body.get("response_format")
    # OpenAI's own default for its DALL·E names (decided before aliases): url.
    default = "url" if request.model in ("dall-e-2", "dall-e-3") else "b64_json"
    assert request.response_format == (default if asked is None else asked)
    assert request.stream is (body.get("stream") is True)
    assert isinstance(request.prompt, str) and request.prompt.strip()
    assert isinstance(request.model, str) and request.model.strip()
    assert type(request.n) is int and 1 <= request.n <= MAX_IMAGES
    assert request.size is None or SIZE.fullmatch("{}x{}".format(*request.size))
    assert set(request.dropped) == set(body) - {*UNDERSTOOD, "background"}


@given(sizes)
@example("1024x1024\n")
@counted
def test_size_is_accepted_exactly_when_it_is_auto_or_width_x_height(size):
    documented = size == "auto" or SIZE.fullmatch(size) is not None
    try:
        request = parse_image_request({"prompt": "a fox", "size": size}, "m")
    except InvalidRequest as refusal:
        assert refusal.param == "size"
        assert not documented, f"{size!r} is documented as accepted"
    else:
        assert documented, f"{size!r} was accepted and forwarded as {request.size!r}"


APP = create_app(gateway_env(MAX_BODY_BYTES=4096))
latin1_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
raw_bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    image_bodies.map(lambda value: json.dumps(value).encode()),
    st.integers(4000, 6000).map(lambda size: b'{"prompt": "' + b"x" * size + b'"}'),
)
authorizations = st.one_of(
    st.just(f"Bearer {TOKENS[0]}"), st.just(None), latin1_text,
    latin1_text.map(lambda token: f"Bearer {token}"),
)


@given(raw_bodies, authorizations)
@counted
def test_the_app_answers_any_body_and_header_with_a_documented_non_5xx(body, authorization):
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    with responses.RequestsMock(assert_all_requests_are_fired=False) as upstream:
        upstream.post(IMAGES_URL, json=gemini.images(4))
        response = APP.test_client().post("/v1/images/generations", data=body,
                                          headers=headers)
    assert response.status_code in (200, 400, 401, 413), response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert contract.contract_violations("POST", "/v1/images/generations",
                                        response.status_code, response.headers,
                                        response.get_data()) == []
