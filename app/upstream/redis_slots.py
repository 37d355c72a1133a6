"""Concurrency slots shared through Redis: MAX_CONCURRENT for the whole deployment.

A lease is a member of a sorted set scored by when it expires (Redis's own clock), so a
worker killed with SIGKILL holds its slots no longer than ``lease_seconds``, which the
factory sets above REQUEST_DEADLINE. Waiters queue in arrival order: one Lua script
takes a slot only for a waiter among the first ``free`` in the queue, so a newcomer never
overtakes an older waiter, and a waiter that stops asking (its process died) leaves the
queue after ``WAITER_SECONDS``. Waiting is a poll, faster near the head of the queue, and
never longer than the caller's timeout (QUEUE_TIMEOUT). A slot given back by this worker
wakes its oldest waiter at once: at the cap a slot would otherwise stay idle until the
head of the queue polled again (S4 in `make bench-redis`).

When Redis does not answer, slots come from this process (``LocalSlots``): the cap is
then per worker again until Redis is back.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..keys.redis_states import PICK_FUNCTION, PickCall
from ..redis_link import RedisLink, SharedStateUnavailable
from .slots import LocalSlots

# Seconds a queued waiter stays in the queue without asking again.
WAITER_SECONDS = 2.0
POLL_MIN = 0.005
POLL_MAX = 0.1

# ``keys``: leases, queue (by ticket), waiters (by expiry), ticket counter.
# Returns {1} when the lease is taken, else {0, places between the waiter and a slot}.
_TAKE_FUNCTION = """
local function take_slot(keys, waiter, cap, lease_seconds, waiter_seconds)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  redis.call('ZREMRANGEBYSCORE', keys[1], '-inf', now)
  local gone = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now, 'LIMIT', 0, 200)
  if #gone > 0 then
    redis.call('ZREM', keys[2], unpack(gone))
    redis.call('ZREM', keys[3], unpack(gone))
  end
  if not redis.call('ZSCORE', keys[2], waiter) then
    redis.call('ZADD', keys[2], redis.call('INCR', keys[4]), waiter)
  end
  local free = cap - redis.call('ZCARD', keys[1])
  local rank = redis.call('ZRANK', keys[2], waiter)
  if rank < free then
    redis.call('ZREM', keys[2], waiter)
    redis.call('ZREM', keys[3], waiter)
    redis.call('ZADD', keys[1], now + lease_seconds, waiter)
    return {1}
  end
  redis.call('ZADD', keys[3], now + waiter_seconds, waiter)
  return {0, rank - math.max(free, 0) + 1}
end
"""
# ARGV: waiter id, cap, lease seconds, waiter seconds.
_TAKE = _TAKE_FUNCTION + """
return take_slot(KEYS, ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
"""
# The slot, then (only if it was taken) the request's first key, in one call. KEYS: the
# slot's four, then the choice's four; ARGV: the slot's four, then the choice's (PickCall).
# Returns {1, what pick_key returned...} or the slot's {0, places}.
_TAKE_THEN_PICK = _TAKE_FUNCTION + PICK_FUNCTION + """
local taken = take_slot({KEYS[1], KEYS[2], KEYS[3], KEYS[4]}, ARGV[1], tonumber(ARGV[2]),
                        tonumber(ARGV[3]), tonumber(ARGV[4]))
if taken[1] ~= 1 then return taken end
local pick = pick_key({KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, tonumber(ARGV[5]), true,
                      ARGV[6], {unpack(ARGV, 7)})
return {1, unpack(pick)}
"""


@dataclass(frozen=True)
class RedisLease:
    id: str
    picked: list | None = None  # what choosing a key in the same call returned


@dataclass(frozen=True)
class LocalLease:
    pass


class RedisSlots:
    def __init__(self, link: RedisLink, limit: int, lease_seconds: float, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.lease_seconds = lease_seconds
        self.link = link
        self.local = LocalSlots(limit)
        self._monotonic = monotonic
        # This worker's waiters between two polls, oldest first (greenlets under gevent).
        self._waiting: deque[threading.Event] = deque()
        self._waiting_lock = threading.Lock()
        self._leases = link.key("slots", "leases")
        self._queue = link.key("slots", "queue")
        self._waiters = link.key("slots", "waiters")
        self._tickets = link.key("slots", "tickets")
        self._take = link.script(_TAKE)
        self._take_then_pick = link.script(_TAKE_THEN_PICK)

    def acquire(self, timeout: float, *, pick: PickCall | None = None) -> object | None:
        """A lease, or None after ``timeout``. With ``pick``, the call that takes the slot
        also chooses a key: the lease's ``picked`` (a round trip fewer per request)."""
        deadline = self._monotonic() + timeout
        waiter = uuid.uuid4().hex
        wake = threading.Event()
        queued_here = False
        try:
            while True:
                try:
                    taken, behind, picked = self._try(waiter, pick)
                except SharedStateUnavailable:
                    self._leave_queue(waiter)
                    left = max(0.0, deadline - self._monotonic())
                    return LocalLease() if self.local.acquire(left) else None
                if taken:
                    return RedisLease(waiter, picked)
                left = deadline - self._monotonic()
                if left <= 0:
                    self._leave_queue(waiter)
                    return None
                pause = min(POLL_MAX, POLL_MIN * behind) * random.uniform(0.8, 1.2)  # noqa: S311
                if not queued_here:
                    with self._waiting_lock:
                        self._waiting.append(wake)
                    queued_here = True
                wake.wait(min(pause, left))
                wake.clear()
        finally:
            if queued_here:
                with self._waiting_lock:
                    self._waiting.remove(wake)

    def release(self, lease: object) -> None:
        if isinstance(lease, LocalLease):
            self.local.release(lease)
            return
        assert isinstance(lease, RedisLease)
        # At once, not with the next flush: at the cap a waiter is polling for this slot.
        # If Redis does not answer, the lease expires by itself within lease_seconds.
        self.link.attempt(lambda client: client.zrem(self._leases, lease.id))
        self._wake_oldest()

    def _wake_oldest(self) -> None:
        """Let this worker's oldest waiter poll now rather than when its pause ends. Only
        one: the queue's order still decides who gets the slot (a waiter elsewhere that
        is older keeps its turn), and a herd of polls would cost a round trip each."""
        with self._waiting_lock:
            for wake in self._waiting:
                if not wake.is_set():
                    wake.set()
                    return

    def in_use(self) -> int:
        """Leases held now across the deployment (expired ones excluded)."""
        self.link.flush()

        def count(client):
            now = client.time()
            return client.zcount(self._leases, now[0] + now[1] / 1e6, "+inf")

        return int(self.link.run(count))

    def _try(self, waiter: str, pick: PickCall | None) -> tuple[bool, int, list | None]:
        keys = [self._leases, self._queue, self._waiters, self._tickets]
        args = [waiter, self.limit, repr(self.lease_seconds), repr(WAITER_SECONDS)]
        if pick is None:
            result = self.link.run(lambda _: self._take(keys=keys, args=args))
        else:
            result = self.link.run(lambda _: self._take_then_pick(
                keys=keys + pick.keys, args=args + pick.args))
        if int(result[0]) == 1:
            return True, 0, (list(result[1:]) if pick is not None else None)
        return False, max(1, int(result[1])), None

    def _leave_queue(self, waiter: str) -> None:
        def leave(client):
            with client.pipeline(transaction=True) as pipe:
                pipe.zrem(self._queue, waiter)
                pipe.zrem(self._waiters, waiter)
                pipe.execute()

        # If Redis does not answer, the waiter leaves the queue by itself (WAITER_SECONDS).
        self.link.attempt(leave)
