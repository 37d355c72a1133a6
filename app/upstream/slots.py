"""Concurrency slots: how many upstream calls may be in flight at once.

``LocalSlots`` caps one process (a worker). A shared implementation (Redis leases) has the
same two methods, so the upstream client does not know which it holds.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Slots(Protocol):
    def acquire(self, timeout: float, *, pick: object | None = None) -> object | None:
        """A lease within ``timeout`` seconds, or None when none came free. ``pick``: a key
        choice a shared implementation may make in the same call (the lease's ``picked``);
        others ignore it."""

    def release(self, lease: object) -> None:
        """Give ``lease`` back; called exactly once for each lease."""


class LocalSlots:
    """A ``BoundedSemaphore`` of ``limit`` slots (cooperative under gevent's patching)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)

    def acquire(self, timeout: float, *, pick: object | None = None) -> object | None:
        return True if self._semaphore.acquire(timeout=timeout) else None

    def release(self, lease: object) -> None:
        self._semaphore.release()

    def free(self) -> int:
        """Slots not held now (for tests and probes)."""
        return self._semaphore._value
