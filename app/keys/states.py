"""Key states kept in this process: the store used without Redis, and when Redis fails.

Keys are known by their index in GEMINI_API_KEYS; the secrets stay in ``KeyPool``.
Callers hold no lock: one lock here guards the rotation index and every record.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum


class KeyState(StrEnum):
    ACTIVE = "active"
    COOLING = "cooling"
    OUT_OF_ROTATION = "out_of_rotation"


@dataclass(frozen=True)
class Pick:
    """The key to use (``index``), or why there is none: every key left is cooling
    (``retry_after`` seconds until the first is usable) or out of rotation (both None)."""

    index: int | None = None
    retry_after: float | None = None


@dataclass
class KeyRecord:
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

    def view(self, now: float) -> dict:
        state = self.state(now)
        return {
            "state": state.value,
            "cooling_until": self.cooling_until if state is KeyState.COOLING else None,
            "reason": self.disabled_reason,
            "requests": self.requests,
            "successes": self.successes,
            "failures": dict(self.failures),
            "last_error": self.last_error,
            "last_success_at": self.last_success_at,
        }


class MemoryStates:
    def __init__(self, count: int) -> None:
        self._records = [KeyRecord() for _ in range(count)]
        self._next = 0
        self._lock = threading.Lock()

    def pick(self, exclude: Collection[int], now: float, *, take: bool = True) -> Pick:
        """The next usable key not in ``exclude``, round robin; ``take`` moves the rotation
        on and counts a request."""
        with self._lock:
            count = len(self._records)
            for offset in range(count):
                index = (self._next + offset) % count
                record = self._records[index]
                if index not in exclude and record.state(now) is KeyState.ACTIVE:
                    if take:
                        self._next = index + 1
                        record.requests += 1
                    return Pick(index)
            in_rotation = [r for r in self._records if r.disabled_reason is None]
            if not in_rotation:
                return Pick()
            waits = [r.cooling_until - now for r in in_rotation if r.state(now) is KeyState.COOLING]
            return Pick(retry_after=min(waits) if waits else 1.0)

    def cool(self, index: int, until: float, error: str) -> None:
        with self._lock:
            record = self._records[index]
            record.cooling_until = max(until, record.cooling_until or 0.0)
            record.failures["rate_limited"] += 1
            record.last_error = error

    def disable(self, index: int, reason: str) -> None:
        with self._lock:
            record = self._records[index]
            record.disabled_reason = reason
            record.failures["key_rejected"] += 1
            record.last_error = reason

    def enable(self, index: int) -> None:
        with self._lock:
            record = self._records[index]
            record.disabled_reason = None
            record.cooling_until = None

    def record_success(self, index: int, now: float) -> None:
        with self._lock:
            record = self._records[index]
            record.successes += 1
            record.last_success_at = now

    def record_failure(self, index: int, kind: str, error: str) -> None:
        with self._lock:
            record = self._records[index]
            record.failures[kind] += 1
            record.last_error = error

    def views(self, now: float) -> list[dict]:
        with self._lock:
            return [record.view(now) for record in self._records]
