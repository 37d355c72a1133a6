"""Reading Gemini's answers of any shape: parse_duration and parse_error never raise, give
finite delays and read both envelopes alike."""

import json
import math

import responses
from hypothesis import example, given
from hypothesis import strategies as st

from app import create_app
from app.errors import RateLimited
from app.gemini.cooldown import cooldown_until
from app.gemini.errors import MAX_RETRY_DELAY, parse_duration, parse_error
from tests import gemini_bodies as gemini
from tests.conftest import TOKENS, gateway_env
from tests.properties.counting import counted

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=16,
)
durations = st.one_of(
    st.from_regex(r"\A\s*[0-9]{1,400}(\.[0-9]{1,12})?s\s*\Z"),
    st.sampled_from(["53s", "0.2s", "45.837906927s", "-1s", "1m", "", "s", "1e3s", "inf",
                     "NaNs", "9" * 400 + "s"]),
    json_values,
)
details = st.lists(st.one_of(
    st.fixed_dictionaries({"@type": st.just(gemini.RETRY_INFO), "retryDelay": durations}),
    st.fixed_dictionaries({"@type": st.just(gemini.ERROR_INFO),
                           "reason": st.sampled_from(["API_KEY_INVALID", "SERVICE_DISABLED",
                                                      "OTHER"]) | json_values}),
    st.fixed_dictionaries({"@type": st.just(gemini.QUOTA_FAILURE),
                           "violations": st.lists(st.fixed_dictionaries(
                               {"quotaId": st.sampled_from(["GenerateRequestsPerDay",
                                                            "PerMinute"]) | json_values}),
                               max_size=2) | json_values}),
    json_values,
), max_size=4)
error_objects = st.fixed_dictionaries({}, optional={
    "code": json_values, "status": st.text(max_size=20) | json_values,
    "message": st.text(max_size=80) | st.just("Please retry in " + "9" * 400 + "s.")
    | json_values,
    "details": details | json_values,
})
statuses = st.sampled_from([400, 401, 403, 404, 429, 500, 502, 503]) | st.integers(100, 599)
bodies = st.one_of(
    error_objects.map(lambda error: json.dumps({"error": error}).encode()),
    error_objects.map(lambda error: json.dumps([{"error": error}]).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=80),
)


@given(durations)
@example("9" * 400 + "s")
@counted
def test_a_duration_is_none_or_a_finite_number_of_seconds(value):
    seconds = parse_duration(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@given(st.decimals(0, 10**6, places=9, allow_nan=False, allow_infinity=False))
@counted
def test_protobuf_durations_are_read_exactly_up_to_a_day(value):
    assert parse_duration(f"{value:f}s") == min(float(value), MAX_RETRY_DELAY)


@given(statuses, bodies)
@counted
def test_any_error_body_parses_to_a_usable_error(status, body):
    error = parse_error(status, body)
    assert error.http_status == status
    assert isinstance(error.message, str) and error.message
    assert error.retry_delay is None or (math.isfinite(error.retry_delay)
                                         and error.retry_delay >= 0)
    assert error.key_fault is None or isinstance(error.key_fault, str)
    assert isinstance(error.reason_text(), str)
    assert math.isfinite(cooldown_until(error, 1_790_000_000.0))


@given(statuses, error_objects)
@counted
def test_both_envelopes_read_alike(status, error):
    plain = parse_error(status, json.dumps({"error": error}).encode())
    wrapped = parse_error(status, json.dumps([{"error": error}]).encode())
    assert plain == wrapped


@given(st.floats(0, 10**9))
@counted
def test_retry_after_is_a_whole_number_of_seconds_for_any_cooldown(seconds):
    headers = RateLimited("limited", retry_after=seconds).headers()
    assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1


def test_an_endless_retry_delay_from_gemini_is_not_a_500():
    app = create_app(gateway_env(GEMINI_API_KEYS="AIzaOnlyKey000000000000001"))
    endless = gemini.error(429, "RESOURCE_EXHAUSTED", "Please retry in " + "9" * 400 + "s.")
    with responses.RequestsMock() as upstream:
        upstream.post(gateway_env()["GEMINI_BASE_URL"] + "/images/generations", status=429,
                      body=endless)
        response = app.test_client().post("/v1/images/generations", json={"prompt": "x"},
                                          headers={"Authorization": f"Bearer {TOKENS[0]}"})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limit_exceeded"
    assert response.headers["Retry-After"].isdigit()
