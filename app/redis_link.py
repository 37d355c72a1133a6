"""The one Redis connection of a worker, and whether it works right now.

Every call goes through ``RedisLink.run``: bounded in time (``CALL_TIMEOUT`` to connect,
to send and to read, ``POOL_TIMEOUT`` to wait for a pooled connection), no retries. When a
call fails the link is "down" for ``PAUSE_AFTER_FAILURE`` seconds: callers get
``SharedStateUnavailable`` at once and use their per-process state, so a dead or stalled
Redis costs one timeout per pause, not one per request. The first call after the pause
reconnects by itself. Warnings about it are rate limited in the log.

Writes that may wait (key counters, usage) go through ``count``, ``note`` and ``defer``:
a background greenlet of the worker sends everything queued in one pipeline every
``FLUSH_INTERVAL``, counts for the same counter added up first, so a request waits on two
round trips (taking its slot together with its first key, giving the slot back), not six,
and a flush costs a few commands however many requests it covers. The slot goes back at
once, not with a flush: at the cap the client's next request needs it (deferred, even by
one turn of the loop, S4 with Redis fell from 0.95 to about 0.8 of the run without).
Reads that must see this worker's own writes call ``flush`` first, and a worker sends what
is still queued when it exits (gunicorn.conf.py's ``worker_exit``).

Keys are the configured ``REDIS_PREFIX`` plus fixed names and digests of configured
secrets: nothing a client sends ever becomes part of a Redis command.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("gateway.redis")
T = TypeVar("T")

CALL_TIMEOUT = 0.25  # seconds: loopback answers in well under a millisecond
PAUSE_AFTER_FAILURE = 1.0
WARNING_INTERVAL = 30.0
# Greenlets share these connections. Under a burst (a thousand requests at once) a call may
# wait for one; waiting longer than POOL_TIMEOUT makes that one call use local state, but
# says nothing about Redis, so it does not pause the link.
MAX_CONNECTIONS = 128
POOL_TIMEOUT = 1.0
_POOL_EXHAUSTED = "No connection available."
# Counters and notes wait this long for their flush. Within it they add up in the worker,
# so a flush costs a few commands however many requests it covers (at 400 requests/s each
# sent on its own, they cost as much CPU as the slots). Other workers see counts this late.
FLUSH_INTERVAL = 0.05
MAX_PENDING = 50_000  # writes queued while Redis is slow; past this the oldest go


class SharedStateUnavailable(Exception):
    """Redis did not answer in time (or is paused after a failure): use local state."""


class RedisLink:
    def __init__(self, url: str, prefix: str, *, timeout: float = CALL_TIMEOUT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_TIMEOUT,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
            client_name="gemini-image-gateway",
        )
        self.client = redis.Redis(connection_pool=pool)
        self.prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._reason: str | None = None
        self._last_warning: dict[str, float] = {}
        self._pending: deque[Callable[[redis.client.Pipeline], object]] = deque(
            maxlen=MAX_PENDING)
        self._counts: dict[tuple[str, str | None], int] = {}
        self._notes: dict[str, dict[str, str]] = {}
        self._flusher_running = False

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def script(self, source: str) -> redis.commands.core.Script:
        """A Lua script run by its SHA, reloaded by redis-py after a Redis restart."""
        return self.client.register_script(source)

    @property
    def degraded_reason(self) -> str | None:
        """Why shared state is not in use right now, or None when Redis answers."""
        return self._reason

    def run(self, operation: Callable[[redis.Redis], T]) -> T:
        """``operation(client)``, or ``SharedStateUnavailable`` if Redis fails or is paused."""
        if self._clock() < self._paused_until:
            raise SharedStateUnavailable(self._reason or "Redis unavailable")
        try:
            result = operation(self.client)
        except redis.ConnectionError as exc:
            if str(exc) == _POOL_EXHAUSTED:
                self._warn("busy", "Redis connections all busy for a call; it used "
                           "per-process state")
                raise SharedStateUnavailable("Redis connections busy") from None
            self._failed(exc)
            raise SharedStateUnavailable(self._reason) from None
        except (redis.RedisError, OSError) as exc:
            self._failed(exc)
            raise SharedStateUnavailable(self._reason) from None
        if self._reason is not None:
            self._recovered()
        return result

    def defer(self, write: Callable[[redis.client.Pipeline], object]) -> None:
        """Queue ``write(pipeline)`` for the next flush, FLUSH_INTERVAL away. Lost if Redis
        fails: only for writes the gateway can do without (a counter's expiry). Sent after
        the flush's counts and notes."""
        with self._lock:
            self._pending.append(write)
        self._ensure_flusher()

    def count(self, key: str, field: str | None, amount: int) -> None:
        """Add ``amount`` to a counter, a hash's ``field`` (or ``key`` itself when None),
        with the next flush; what is counted in between adds up here first."""
        with self._lock:
            self._counts[key, field] = self._counts.get((key, field), 0) + amount
        self._ensure_flusher()

    def note(self, key: str, field: str, value: str) -> None:
        """Set a hash's ``field`` to ``value`` with the next flush (the last noted wins)."""
        with self._lock:
            self._notes.setdefault(key, {})[field] = value
        self._ensure_flusher()

    def _ensure_flusher(self) -> None:
        with self._lock:
            if self._flusher_running:
                return
            self._flusher_running = True
        # A greenlet under gunicorn's gevent worker; started on first use, never in the master.
        threading.Thread(target=self._flush_while_pending, name="redis-flush",
                         daemon=True).start()

    def flush(self) -> None:
        """Send this process's queued writes now."""
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            counts, self._counts = self._counts, {}
            notes, self._notes = self._notes, {}
        if not batch and not counts and not notes:
            return

        def send(client):
            with client.pipeline(transaction=False) as pipe:
                for (key, field), amount in counts.items():
                    if field is None:
                        pipe.incrby(key, amount)
                    else:
                        pipe.hincrby(key, field, amount)
                for key, fields in notes.items():
                    pipe.hset(key, mapping=fields)
                for write in batch:  # after the counts: they may expire a counted key
                    write(pipe)
                pipe.execute(raise_on_error=False)

        self.attempt(send)

    def _flush_while_pending(self) -> None:
        while True:
            time.sleep(FLUSH_INTERVAL)
            with self._lock:
                if not self._pending and not self._counts and not self._notes:
                    self._flusher_running = False
                    return
            try:
                self.flush()
            except Exception:  # the flusher must outlive any surprise
                log.exception("flushing writes to Redis failed")

    def attempt(self, operation: Callable[[redis.Redis], T]) -> T | None:
        """``run`` for writes that may be lost: None when Redis is unavailable."""
        try:
            return self.run(operation)
        except SharedStateUnavailable:
            return None

    def close(self) -> None:
        """Send what is queued, then drop every pooled connection (tests build many apps; a
        worker never needs it)."""
        self.flush()
        self.client.connection_pool.disconnect()
        self.client.close()

    def ping(self) -> bool:
        try:
            self.run(lambda client: client.ping())
        except SharedStateUnavailable:
            return False
        return True

    def _failed(self, exc: Exception) -> None:
        # The class name says enough (timeout, refused, ...); the text may hold the address.
        reason = f"Redis unavailable ({type(exc).__name__}); using per-process state"
        with self._lock:
            self._reason = reason
            self._paused_until = self._clock() + PAUSE_AFTER_FAILURE
        self._warn("down", f"{reason}; retrying every {PAUSE_AFTER_FAILURE:.0f} s")

    def _warn(self, kind: str, message: str) -> None:
        """Log ``message`` unless one of its ``kind`` went out in the last WARNING_INTERVAL."""
        now = self._clock()
        with self._lock:
            if now - self._last_warning.get(kind, -WARNING_INTERVAL) < WARNING_INTERVAL:
                return
            self._last_warning[kind] = now
        log.warning("%s", message)

    def _recovered(self) -> None:
        with self._lock:
            was = self._reason
            self._reason = None
        if was is not None:
            log.warning("Redis answers again: shared state back in use")
