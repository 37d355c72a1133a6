import json
from datetime import datetime

import pytest

from app.gemini.cooldown import QUOTA_TIMEZONE, cooldown_until, next_daily_reset
from app.gemini.errors import parse_duration, parse_error

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


def envelope(code, status, message, details=(), array=True):
    error = {"error": {"code": code, "message": message, "status": status,
                       "details": list(details)}}
    return json.dumps([error] if array else error).encode()


@pytest.mark.parametrize("array", [True, False])
def test_both_envelopes_are_read(array):
    error = parse_error(429, envelope(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted",
                                      [{"@type": RETRY_INFO, "retryDelay": "53s"}], array))
    assert error.status == "RESOURCE_EXHAUSTED"
    assert error.message == "Resource has been exhausted"
    assert error.retry_delay == 53


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("53s", 53.0), ("45.837906927s", 45.837906927), ("0s", 0.0), ("53", None), (53, None),
     ("", None), ("-1s", None), ("1m", None)],
)
def test_retry_delay_forms(value, seconds):
    assert parse_duration(value) == seconds


def test_retry_delay_absent_or_only_in_the_message():
    assert parse_error(429, envelope(429, "RESOURCE_EXHAUSTED", "exhausted")).retry_delay is None
    in_message = parse_error(429, envelope(429, "RESOURCE_EXHAUSTED",
                                           "Quota exceeded. Please retry in 53.016342224s."))
    assert in_message.retry_delay == pytest.approx(53.016342224)


@pytest.mark.parametrize("body", [b"", b"   ", b"<html>502 Bad Gateway</html>", b"null",
                                  b"[]", b"[1]", b'{"error": "text"}', b"\xff\xfe", b"[" * 5000])
def test_bodies_that_are_not_gemini_errors_still_parse(body):
    error = parse_error(502, body)
    assert error.http_status == 502
    assert "HTTP 502" in error.message
    assert error.key_fault is None


def test_daily_quota_is_recognised():
    error = parse_error(429, envelope(429, "RESOURCE_EXHAUSTED", "exhausted", [
        {"@type": QUOTA_FAILURE, "violations": [
            {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
        {"@type": RETRY_INFO, "retryDelay": "20s"},
    ]))
    assert error.is_daily_quota
    now = datetime(2026, 11, 25, 15, 0, tzinfo=QUOTA_TIMEZONE).timestamp()
    reset = datetime(2026, 11, 26, 0, 0, tzinfo=QUOTA_TIMEZONE).timestamp()
    assert cooldown_until(error, now) == reset


def test_minute_quota_cools_for_its_delay_and_default_is_a_minute():
    minute = parse_error(429, envelope(429, "RESOURCE_EXHAUSTED", "x", [
        {"@type": QUOTA_FAILURE,
         "violations": [{"quotaId": "GenerateRequestsPerMinutePerProject"}]},
        {"@type": RETRY_INFO, "retryDelay": "7.5s"}]))
    assert not minute.is_daily_quota
    assert cooldown_until(minute, 100.0) == 107.5
    assert cooldown_until(parse_error(429, b""), 100.0) == 160.0


def test_daily_reset_handles_daylight_saving():
    # 2026-11-01 is the day Pacific time falls back: that day has 25 hours.
    before = datetime(2026, 11, 1, 1, 30, tzinfo=QUOTA_TIMEZONE).timestamp()
    reset = next_daily_reset(before)
    assert datetime.fromtimestamp(reset, QUOTA_TIMEZONE).strftime("%Y-%m-%d %H:%M") == \
        "2026-11-02 00:00"


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (400, "API_KEY_INVALID", "API key not valid. Please pass a valid API key."),
        (400, None, "API key not valid. Please pass a valid API key."),
        (403, "API_KEY_SERVICE_BLOCKED", "Requests to this API are blocked."),
        (403, "SERVICE_DISABLED", "Generative Language API has not been used in project 1"),
        (403, None, "Your API key was reported as leaked. Please use another API key."),
        (403, None, "Method doesn't allow unregistered callers (callers without established "
                    "identity). Please use API Key or other form of API consumer identity."),
        (403, None, "Your project has been denied access. Please contact support."),
        (401, None, "Request had invalid authentication credentials."),
    ],
)
def test_key_faults(status, reason, message):
    details = [{"@type": ERROR_INFO, "reason": reason}] if reason else []
    fault = parse_error(status, envelope(status, "X", message, details)).key_fault
    assert fault is not None and message[:20] in fault


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "Request contains an invalid argument."),
        (400, "Imagen API is only accessible to billed users at this time."),
        (400, "Image generation is not available in your country."),
        (403, "The caller does not have permission to use this tuned model."),
        (404, "models/imagen-3.0 is not found"),
        (429, "API key quota exhausted"),
        (500, "API key internal"),
    ],
)
def test_request_faults_are_not_key_faults(status, message):
    assert parse_error(status, envelope(status, "X", message)).key_fault is None
