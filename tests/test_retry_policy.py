from typing import ClassVar

import pytest
from urllib3.exceptions import MaxRetryError

from app.upstream.retry_policy import upstream_retry


def backoffs(retry, count):
    waits = []
    for _ in range(count):
        retry = retry.increment(method="POST", url="/x", error=None, response=_Response503())
        waits.append(retry.get_backoff_time())
    return waits


class _Response503:
    status = 503

    def get_redirect_location(self):
        return None

    def getheader(self, name, default=None):
        return default

    headers: ClassVar[dict] = {}


def test_waits_double_from_the_first_retry():
    assert backoffs(upstream_retry(3, 1000, backoff_max=300), 3) == [1.0, 2.0, 4.0]
    assert backoffs(upstream_retry(3, 250, backoff_max=300), 3) == [0.25, 0.5, 1.0]


def test_backoff_is_capped():
    assert backoffs(upstream_retry(5, 1000, backoff_max=3), 4) == [1.0, 2.0, 3.0, 3.0]


def test_max_retries_bounds_the_attempts():
    retry = upstream_retry(2, 0, backoff_max=1)
    backoffs(retry, 2)
    with pytest.raises(MaxRetryError):
        backoffs(retry, 3)


def test_what_is_retried():
    retry = upstream_retry(3, 1000, backoff_max=300)
    assert retry.is_retry("POST", 503) and retry.is_retry("POST", 500)
    assert not retry.is_retry("POST", 429)
    assert not retry.is_retry("POST", 400)
    assert retry.read is False  # a sent request is never sent again
    assert retry.respect_retry_after_header is False
