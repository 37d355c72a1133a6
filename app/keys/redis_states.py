"""Key states in Redis, shared by every worker and instance behind one REDIS_URL.

Three hashes under REDIS_PREFIX hold, per key id (a digest of the key, never the key):
``keys:cooling`` the epoch second a rate-limited key is usable again, ``keys:out`` why a
key left rotation, and ``keys:stats`` its counters and last error. ``keys:next`` is the
rotation index every instance shares. Choosing a key is one Lua script, so two workers
never read the same state and both move the rotation.

Every method raises ``SharedStateUnavailable`` when Redis does not answer in time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..redis_link import RedisLink
from .states import KeyState, Pick

# The choice as a Lua function, so that the slot script (upstream/redis_slots.py) can run
# it in the same call as taking a slot: one round trip fewer for every request.
# ``keys``: rotation index, cooling, out, stats. ``excluded``: flags ("0101"), one a key.
# Returns {index}, {-1, seconds until the first cooling key is usable} or {-2} (every key
# out of rotation).
PICK_FUNCTION = """
local function pick_key(keys, now, take, excluded, ids)
  local n = #ids
  local cooling = redis.call('HMGET', keys[2], unpack(ids))
  local out = redis.call('HMGET', keys[3], unpack(ids))
  local start = tonumber(redis.call('GET', keys[1]) or '0') % n
  for offset = 0, n - 1 do
    local i = (start + offset) % n
    if string.sub(excluded, i + 1, i + 1) ~= '1' and not out[i + 1]
        and (not cooling[i + 1] or tonumber(cooling[i + 1]) <= now) then
      if take then
        redis.call('SET', keys[1], i + 1)
        redis.call('HINCRBY', keys[4], ids[i + 1] .. ':requests', 1)
      end
      return {i}
    end
  end
  local wait = nil
  local in_rotation = false
  for i = 1, n do
    if not out[i] then
      in_rotation = true
      if cooling[i] and tonumber(cooling[i]) > now then
        local left = tonumber(cooling[i]) - now
        if wait == nil or left < wait then wait = left end
      end
    end
  end
  if not in_rotation then return {-2} end
  return {-1, tostring(wait or 1.0)}
end
"""
# ARGV: now, take (1/0), excluded flags, then the key ids.
_PICK = PICK_FUNCTION + """
return pick_key(KEYS, tonumber(ARGV[1]), ARGV[2] == '1', ARGV[3], {unpack(ARGV, 4)})
"""

# Cooling only ever lengthens: two workers that saw two 429s keep the later time.
_COOL = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':f:rate_limited', 1)
redis.call('HSET', KEYS[2], ARGV[1] .. ':last_error', ARGV[3])
"""


def key_id(secret: str) -> str:
    """A stable name for a key in Redis that does not reveal it."""
    return hashlib.sha256(b"gemini-key:" + secret.encode()).hexdigest()[:16]


class RedisStates:
    def __init__(self, link: RedisLink, secrets: Sequence[str]) -> None:
        self.link = link
        self._ids = [key_id(secret) for secret in secrets]
        self._next = link.key("keys", "next")
        self._cooling = link.key("keys", "cooling")
        self._out = link.key("keys", "out")
        self._stats = link.key("keys", "stats")
        self._pick = link.script(_PICK)
        self._cool = link.script(_COOL)

    def pick(self, exclude: Collection[int], now: float, *, take: bool = True) -> Pick:
        flags = "".join("1" if i in exclude else "0" for i in range(len(self._ids)))
        result = self.link.run(lambda _: self._pick(
            keys=self.pick_keys(), args=[repr(now), "1" if take else "0", flags, *self._ids]))
        return pick_from(result)

    def pick_keys(self) -> list[str]:
        return [self._next, self._cooling, self._out, self._stats]

    def pick_call(self, now: float) -> PickCall:
        """A taking choice with nothing excluded, for another script to run (the slot's)."""
        return PickCall(self.pick_keys(), [repr(now), "0" * len(self._ids), *self._ids])

    def cool(self, index: int, until: float, error: str) -> None:
        self.link.run(lambda _: self._cool(keys=[self._cooling, self._stats],
                                           args=[self._ids[index], repr(until), error]))

    def disable(self, index: int, reason: str) -> None:
        key = self._ids[index]

        def write(client):
            with client.pipeline(transaction=True) as pipe:
                pipe.hset(self._out, key, reason)
                pipe.hincrby(self._stats, f"{key}:f:key_rejected", 1)
                pipe.hset(self._stats, f"{key}:last_error", reason)
                pipe.execute()

        self.link.run(write)

    def enable(self, index: int) -> None:
        key = self._ids[index]

        def write(client):
            with client.pipeline(transaction=True) as pipe:
                pipe.hdel(self._out, key)
                pipe.hdel(self._cooling, key)
                pipe.execute()

        self.link.run(write)

    # Counts may wait for the next flush: nothing chooses a key by them.
    def record_success(self, index: int, now: float) -> None:
        key = self._ids[index]
        self.link.count(self._stats, f"{key}:successes", 1)
        self.link.note(self._stats, f"{key}:last_success_at", repr(now))

    def record_failure(self, index: int, kind: str, error: str) -> None:
        key = self._ids[index]
        self.link.count(self._stats, f"{key}:f:{kind}", 1)
        self.link.note(self._stats, f"{key}:last_error", error)

    def views(self, now: float) -> list[dict]:
        self.link.flush()
        def read(client):
            with client.pipeline(transaction=False) as pipe:
                pipe.hmget(self._cooling, self._ids)
                pipe.hmget(self._out, self._ids)
                pipe.hgetall(self._stats)
                return pipe.execute()

        cooling, out, stats = self.link.run(read)
        stats = {k.decode(): v.decode() for k, v in stats.items()}
        return [_view(key, cool, reason, stats, now)
                for key, cool, reason in zip(self._ids, cooling, out, strict=True)]


@dataclass(frozen=True)
class PickCall:
    """``pick_key``'s keys and, after ``take``, its arguments: now, flags, the key ids."""

    keys: list[str]
    args: list[str]


def pick_from(result: list) -> Pick:
    """What ``pick_key`` returned, as a ``Pick``."""
    code = int(result[0])
    if code >= 0:
        return Pick(code)
    if code == -2:
        return Pick()
    return Pick(retry_after=float(result[1]))


def _view(key: str, cooling: bytes | None, reason: bytes | None, stats: dict, now: float) -> dict:
    until = float(cooling) if cooling is not None else None
    if reason is not None:
        state = KeyState.OUT_OF_ROTATION
    elif until is not None and until > now:
        state = KeyState.COOLING
    else:
        state = KeyState.ACTIVE
    failures = {name.removeprefix(f"{key}:f:"): int(value) for name, value in stats.items()
                if name.startswith(f"{key}:f:")}
    last_success = stats.get(f"{key}:last_success_at")
    return {
        "state": state.value,
        "cooling_until": until if state is KeyState.COOLING else None,
        "reason": reason.decode() if reason is not None else None,
        "requests": int(stats.get(f"{key}:requests", 0)),
        "successes": int(stats.get(f"{key}:successes", 0)),
        "failures": failures,
        "last_error": stats.get(f"{key}:last_error"),
        "last_success_at": float(last_success) if last_success is not None else None,
    }
