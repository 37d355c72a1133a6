"""The Gemini keys and what Gemini has said about each.

A key is ``active``, ``cooling`` until a time (it was rate limited) or
``out_of_rotation`` with a reason (invalid, blocked, leaked...). ``acquire`` hands
out usable keys round robin; a lock guards the rotation index and the states, so
one pool can serve every greenlet or thread of a worker.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .errors import NoUsableKey, RateLimited
from .redaction import mask


class KeyState(StrEnum):
    ACTIVE = "active"
    COOLING = "cooling"
    OUT_OF_ROTATION = "out_of_rotation"


@dataclass
class KeyRecord:
    secret: str = field(repr=False)
    masked: str
    cooling_until: float | None = None
    disabled_reason: str | None = None
    requests: int = 0
    successes: int = 0
    failures: Counter = field(default_factory=Counter)
    last_error: str | None = None
    last_success_at: float | None = None

    def state(self, now: float) -> KeyState:
        if self.disabled_reason is not None:
            return KeyState.OUT_OF_ROTATION
        if self.cooling_until is not None and self.cooling_until > now:
            return KeyState.COOLING
        return KeyState.ACTIVE


class KeyPool:
    def __init__(self, keys: Iterable[str], clock: Callable[[], float] = time.time) -> None:
        self._records = [KeyRecord(secret=key, masked=mask(key)) for key in keys]
        if not self._records:
            raise ValueError("a key pool needs at least one key")
        self._by_secret = {record.secret: record for record in self._records}
        self._clock = clock
        self._next = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def acquire(self, exclude: Collection[str] = ()) -> str:
        """The next usable key not in ``exclude``, round robin.

        Raises ``RateLimited`` (with the seconds until the first cooling key is
        usable) when the keys left are cooling, ``NoUsableKey`` when every key is
        out of rotation.
        """
        with self._lock:
            now = self._clock()
            count = len(self._records)
            for offset in range(count):
                index = (self._next + offset) % count
                record = self._records[index]
                if record.secret not in exclude and record.state(now) is KeyState.ACTIVE:
                    self._next = index + 1
                    record.requests += 1
                    return record.secret
            in_rotation = [r for r in self._records if r.disabled_reason is None]
            if not in_rotation:
                raise NoUsableKey(
                    "No usable Gemini API key remains: every configured key was taken out of "
                    "rotation (invalid, blocked or leaked). The operator must replace them."
                )
            waits = [r.cooling_until - now for r in in_rotation if r.state(now) is KeyState.COOLING]
            retry_after = min(waits) if waits else 1.0
            raise RateLimited(
                "Every Gemini API key is rate limited right now; retry after the delay in "
                "the Retry-After header.",
                retry_after=retry_after,
            )

    def check_available(self) -> None:
        """Raise as ``acquire`` would, without taking a turn of the rotation."""
        with self._lock:
            now = self._clock()
            if any(r.state(now) is KeyState.ACTIVE for r in self._records):
                return
        self.acquire()

    def cool(self, key: str, until: float, error: str) -> None:
        with self._lock:
            record = self._by_secret[key]
            record.cooling_until = max(until, record.cooling_until or 0.0)
            record.failures["rate_limited"] += 1
            record.last_error = error

    def disable(self, key: str, reason: str) -> None:
        with self._lock:
            record = self._by_secret[key]
            record.disabled_reason = reason
            record.failures["key_rejected"] += 1
            record.last_error = reason

    def enable(self, masked: str) -> bool:
        """Put the key shown as ``masked`` back in rotation; False if there is none."""
        with self._lock:
            matches = [r for r in self._records if r.masked == masked]
            for record in matches:
                record.disabled_reason = None
                record.cooling_until = None
            return bool(matches)

    def record_success(self, key: str) -> None:
        with self._lock:
            record = self._by_secret[key]
            record.successes += 1
            record.last_success_at = self._clock()

    def record_failure(self, key: str, kind: str, error: str) -> None:
        """A failure that says nothing about the key (5xx, timeout, client's 4xx)."""
        with self._lock:
            record = self._by_secret[key]
            record.failures[kind] += 1
            record.last_error = error

    def state_of(self, key: str) -> KeyState:
        with self._lock:
            return self._by_secret[key].state(self._clock())

    def snapshot(self) -> list[dict]:
        """Each key's public view: masked, never the key itself."""
        with self._lock:
            now = self._clock()
            return [
                {
                    "key": r.masked,
                    "state": r.state(now).value,
                    "cooling_until": r.cooling_until if r.state(now) is KeyState.COOLING else None,
                    "reason": r.disabled_reason,
                    "requests": r.requests,
                    "successes": r.successes,
                    "failures": dict(r.failures),
                    "last_error": r.last_error,
                    "last_success_at": r.last_success_at,
                }
                for r in self._records
            ]
