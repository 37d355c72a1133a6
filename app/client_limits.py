"""Per-client limits and usage: CLIENT_RATE_LIMIT, CLIENT_IMAGE_QUOTA, /admin/usage.

The views call ``check(client)`` before the upstream call and ``record(client, images,
usage)`` after it. Counters live in Redis (shared by every worker and instance) when
REDIS_URL is set and answers, and in this process otherwise: without Redis each worker
counts on its own, so the limits hold per worker.

The rate limit is a sliding window of one minute, approximated from two fixed minutes
(the previous one weighted by how much of it still overlaps the window). The image quota
counts images per UTC day. Both refuse with a 429 and a Retry-After.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Protocol

from .auth import Client
from .errors import RateLimited
from .redis_link import RedisLink, SharedStateUnavailable

DAY = 86_400
MINUTE = 60
USAGE_FIELDS = ("requests", "images", "input_tokens", "output_tokens", "total_tokens")

# KEYS: this minute's count, the previous minute's. ARGV: limit, share of this minute gone.
_TAKE_TURN = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * (1 - tonumber(ARGV[2])) + current + 1 > tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 180)
return 1
"""


class UsageObserver(Protocol):
    def client_usage(self, label: str, images: int, usage: dict | None) -> None: ...
    def client_refused(self, label: str, reason: str) -> None: ...


class ClientLimits:
    def __init__(self, rate_limit: int, image_quota: int, link: RedisLink | None = None, *,
                 observer: UsageObserver | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.rate_limit = rate_limit
        self.image_quota = image_quota
        self.link = link
        self.observer = observer
        self._clock = clock
        self._lock = threading.Lock()
        self._turns: Counter = Counter()  # (client id, minute) -> requests let through
        self._images: Counter = Counter()  # (client id, day) -> images
        self._usage: defaultdict[str, Counter] = defaultdict(Counter)  # label -> counts
        self._key_usage: defaultdict[str, Counter] = defaultdict(Counter)
        self._take_turn = link.script(_TAKE_TURN) if link is not None else None
        self._expiring: set[tuple[str, int]] = set()  # daily counters given their expiry

    def check(self, client: Client) -> None:
        """Raise ``RateLimited`` (429, Retry-After) when ``client`` is over a limit."""
        now = self._clock()
        if self.image_quota:
            day = int(now // DAY)
            if self._images_on(client, day) >= self.image_quota:
                self._refused(client, "image_quota")
                raise RateLimited(
                    f"This client has used its {self.image_quota} images for today (UTC); "
                    "the quota resets at midnight UTC.",
                    retry_after=(day + 1) * DAY - now,
                )
        if self.rate_limit and not self._turn(client, now):
            self._refused(client, "rate_limit")
            raise RateLimited(
                f"This client is over its limit of {self.rate_limit} requests per minute.",
                retry_after=MINUTE - now % MINUTE,
            )

    def record(self, client: Client, images: int, usage: dict | None = None, *,
               key: str | None = None) -> None:
        """Count an answered request: ``images`` made, Gemini's token ``usage`` (OpenAI's
        shape) and, when known, the masked Gemini ``key`` that served it."""
        counts = {"requests": 1, "images": images}
        for name in ("input_tokens", "output_tokens", "total_tokens"):
            value = (usage or {}).get(name)
            if isinstance(value, int) and value > 0:
                counts[name] = value
        day = int(self._clock() // DAY)
        with self._lock:
            self._images[client.id, day] += images
            self._usage[client.label].update(counts)
            if key:
                self._key_usage[key].update(counts)
        if self.link is not None:
            # With the next flush, FLUSH_INTERVAL away: another worker's quota check may let
            # the requests of that moment in.
            self._record_shared(client, day, counts, key)
        if self.observer is not None:
            self.observer.client_usage(client.label, images, usage)

    def report(self) -> dict:
        """Usage per client (masked) and per key (masked) since the counters began."""
        if self.link is not None:
            self.link.flush()
            try:
                return self.link.run(self._shared_report) | {"scope": "deployment"}
            except SharedStateUnavailable:
                pass
        with self._lock:
            return {"clients": {label: dict(c) for label, c in self._usage.items()},
                    "keys": {key: dict(c) for key, c in self._key_usage.items()},
                    "scope": "worker"}

    def _turn(self, client: Client, now: float) -> bool:
        minute = int(now // MINUTE)
        gone = (now % MINUTE) / MINUTE
        if self.link is not None:
            keys = [self._key("rate", client.id, str(minute)),
                    self._key("rate", client.id, str(minute - 1))]
            try:
                return bool(self.link.run(lambda _: self._take_turn(
                    keys=keys, args=[self.rate_limit, repr(gone)])))
            except SharedStateUnavailable:
                pass
        with self._lock:
            weighted = self._turns[client.id, minute - 1] * (1 - gone) \
                + self._turns[client.id, minute]
            if weighted + 1 > self.rate_limit:
                return False
            self._turns[client.id, minute] += 1
            for stale in [k for k in self._turns if k[1] < minute - 1]:
                del self._turns[stale]
            return True

    def _images_on(self, client: Client, day: int) -> int:
        if self.link is not None:
            self.link.flush()
            try:
                value = self.link.run(lambda c: c.get(self._key("images", client.id, str(day))))
                return int(value or 0)
            except SharedStateUnavailable:
                pass
        with self._lock:
            return self._images[client.id, day]

    def _record_shared(self, client: Client, day: int, counts: dict,
                       key: str | None) -> None:
        daily = self._key("images", client.id, str(day))
        self.link.count(daily, None, counts["images"])
        if (client.id, day) not in self._expiring:
            self._expiring.add((client.id, day))
            self.link.defer(lambda pipe: pipe.expire(daily, 2 * DAY))
        for name, value in counts.items():
            self.link.count(self._key("usage", "clients"), f"{client.label}|{name}", value)
            if key:
                self.link.count(self._key("usage", "keys"), f"{key}|{name}", value)

    def _shared_report(self, client_redis) -> dict:
        with client_redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key("usage", "clients"))
            pipe.hgetall(self._key("usage", "keys"))
            clients, keys = pipe.execute()
        return {"clients": _nested(clients), "keys": _nested(keys)}

    def _key(self, *parts: str) -> str:
        assert self.link is not None
        return self.link.key(*parts)

    def _refused(self, client: Client, reason: str) -> None:
        if self.observer is not None:
            self.observer.client_refused(client.label, reason)


def _nested(flat: dict[bytes, bytes]) -> dict[str, dict[str, int]]:
    nested: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for field, value in flat.items():
        owner, _, name = field.decode().rpartition("|")
        nested[owner][name] = int(value)
    return dict(nested)
