"""CLIENT_RATE_LIMIT, CLIENT_IMAGE_QUOTA and usage per client, with and without Redis."""

import math
import time

import pytest
import responses

from app.auth import TokenChecker
from app.client_limits import ClientLimits
from app.errors import RateLimited
from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, KEYS, TOKENS

ADMIN = {"Authorization": "Bearer admin-token-abcdef0123456789"}
ONE = {"Authorization": f"Bearer {TOKENS[0]}"}
TWO = {"Authorization": f"Bearer {TOKENS[1]}"}


@pytest.fixture
def upstream():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(IMAGES_URL, json=gemini.images(2))
        yield mock


def generate(client, headers):
    return client.post("/v1/images/generations", json={"prompt": "x", "n": 2}, headers=headers)


def assert_limited(response, retry_after_at_most):
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert 1 <= int(response.headers["Retry-After"]) <= retry_after_at_most
    return error


def test_rate_limit_per_client_token(make_app, upstream):
    client = make_app(CLIENT_RATE_LIMIT=2).test_client()
    assert [generate(client, ONE).status_code for _ in range(2)] == [200, 200]
    error = assert_limited(generate(client, ONE), 60)
    assert "2 requests per minute" in error["message"]
    assert generate(client, TWO).status_code == 200  # another client has its own budget
    assert len(upstream.calls) == 3  # a refused request never reached Gemini


def test_image_quota_per_utc_day(make_app, upstream):
    client = make_app(CLIENT_IMAGE_QUOTA=3).test_client()
    assert [generate(client, ONE).status_code for _ in range(2)] == [200, 200]  # 4 images
    assert_limited(generate(client, ONE), 86_400)
    assert generate(client, TWO).status_code == 200


def test_quota_resets_at_midnight_utc():
    clock = [86_400 * 20_000 + 86_000.5]  # 399.5 s before midnight UTC
    limits = ClientLimits(0, 1, clock=lambda: clock[0])
    (caller,) = TokenChecker(["client-token-one-xyz"]).clients
    limits.check(caller)
    limits.record(caller, 1)
    with pytest.raises(RateLimited) as raised:
        limits.check(caller)
    assert math.ceil(raised.value.retry_after) == 400
    clock[0] += 400
    limits.check(caller)


def test_sliding_window_lets_a_new_minute_in_gradually():
    clock = [60.0 * 1000]
    limits = ClientLimits(10, 0, clock=lambda: clock[0])
    (caller,) = TokenChecker(["client-token-one-xyz"]).clients
    for _ in range(10):
        limits.check(caller)
    with pytest.raises(RateLimited):
        limits.check(caller)
    clock[0] += 60 + 15  # a quarter into the next minute: 7.5 of the 10 still count
    for _ in range(2):
        limits.check(caller)
    with pytest.raises(RateLimited):
        limits.check(caller)


def test_limits_and_usage_are_shared_through_redis(make_app, upstream, redis_server,
                                                   redis_prefix):
    shared = {"REDIS_URL": redis_server.url, "REDIS_PREFIX": redis_prefix,
              "CLIENT_RATE_LIMIT": 3, "ADMIN_TOKEN": ADMIN["Authorization"][7:]}
    a, b = make_app(**shared).test_client(), make_app(**shared).test_client()
    assert [generate(c, ONE).status_code for c in (a, b, a)] == [200, 200, 200]
    assert_limited(generate(b, ONE), 60)
    deadline = time.monotonic() + 2  # a's counts arrive with its next flush, ms later
    while True:
        usage = b.get("/admin/usage", headers=ADMIN).get_json()
        if sum(c.get("requests", 0) for c in usage["clients"].values()) >= 3 \
                or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    assert usage["scope"] == "deployment"
    (label,) = usage["clients"]
    assert label.startswith("…-xyz#")  # both test tokens end alike: numbered apart
    assert usage["clients"][label] == {"requests": 3, "images": 6}
    assert sum(v["images"] for v in usage["keys"].values()) == 6
    assert set(usage["keys"]) <= {"…0001", "…0002"}
    page = a.get("/admin/usage", headers=ADMIN).get_data(as_text=True)
    assert not any(secret in page for secret in (*KEYS, *TOKENS))


def test_usage_and_refusals_in_metrics_with_masked_labels(make_app, upstream):
    client = make_app(CLIENT_RATE_LIMIT=1).test_client()
    generate(client, ONE)
    generate(client, ONE)
    page = client.get("/metrics").get_data(as_text=True)
    assert 'gateway_client_images_total{client="…-xyz#1"} 2.0' in page
    assert 'gateway_client_refused_total{client="…-xyz#1",reason="rate_limit"} 1.0' in page
    assert not any(secret in page for secret in TOKENS)


def test_an_open_gateway_limits_everyone_as_one_client(make_app, upstream):
    client = make_app(PROXY_AUTH_KEYS="", CLIENT_RATE_LIMIT=1).test_client()
    assert generate(client, {}).status_code == 200
    assert_limited(generate(client, {}), 60)


def test_a_matched_token_is_never_in_the_client_repr():
    (caller,) = TokenChecker(["client-token-one-xyz"]).clients
    assert "client-token-one-xyz" not in repr(caller)
    assert TokenChecker(["client-token-one-xyz"]).check_header(
        "Bearer client-token-one-xyz") == caller
