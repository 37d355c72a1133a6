"""The one retry policy for upstream calls, as a urllib3 ``Retry``.

What is retried, on the same key, with waits of d, 2d, 4d (d = RETRY_DELAY):
- connection failures before the request was sent (``connect``);
- 5xx answers (``status_forcelist``).
What is not:
- read errors and read timeouts (``read=False``): the request reached Gemini, which may
  already be generating, and billing, the image;
- 429 and key errors: the application moves to another key instead
  (``respect_retry_after_header=False``, so urllib3 never sleeps on a Retry-After).
``raise_on_status=False`` hands back the last 5xx so the gateway can say what it was.
"""

from __future__ import annotations

from itertools import takewhile

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset(range(500, 600))


class DoublingRetry(Retry):
    """``Retry`` whose first retry waits ``backoff_factor`` too.

    urllib3 2.x waits nothing before the first retry (it returns 0 while fewer than
    two errors are in the history); we want d, 2d, 4d.
    """

    def get_backoff_time(self) -> float:
        consecutive = len(
            list(takewhile(lambda item: item.redirect_location is None, reversed(self.history)))
        )
        if consecutive == 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (consecutive - 1)))

    def increment(self, *args, **kwargs) -> Retry:
        try:
            return super().increment(*args, **kwargs)
        except MaxRetryError as exc:
            # The retries made are lost with this Retry; the access line wants them.
            exc.attempts = len(self.history) + 1
            raise


def attempts_in(exc: BaseException) -> int:
    """How many attempts a failed call made (retries included); 1 when unknown."""
    for reason in exc.args if isinstance(exc.args, tuple) else ():
        if isinstance(reason, MaxRetryError):
            return getattr(reason, "attempts", 1)
    return 1


def upstream_retry(max_retries: int, retry_delay_ms: int, backoff_max: float) -> Retry:
    return DoublingRetry(
        total=max_retries,
        connect=max_retries,
        read=False,
        status=max_retries,
        other=0,
        redirect=False,
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=retry_delay_ms / 1000,
        backoff_max=backoff_max,
        raise_on_status=False,
        raise_on_redirect=False,
        respect_retry_after_header=False,
    )
