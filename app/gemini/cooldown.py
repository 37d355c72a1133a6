"""How long a rate-limited key stays out of use."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import GeminiError

DEFAULT_COOLDOWN = 60.0
# Gemini's per-day quotas reset at midnight Pacific time.
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")


def cooldown_until(error: GeminiError, now: float) -> float:
    """The wall-clock time (epoch seconds) at which a key that got ``error`` is usable."""
    if error.is_daily_quota:
        return next_daily_reset(now)
    delay = error.retry_delay if error.retry_delay is not None else DEFAULT_COOLDOWN
    return now + delay


def next_daily_reset(now: float) -> float:
    local = datetime.fromtimestamp(now, QUOTA_TIMEZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    return midnight.replace(tzinfo=QUOTA_TIMEZONE).timestamp()
