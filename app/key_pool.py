"""The Gemini keys and what Gemini has said about each.

A key is ``active``, ``cooling`` until a time (it was rate limited) or
``out_of_rotation`` with a reason (invalid, blocked, leaked...). ``acquire`` hands
out usable keys round robin.

The states live in this process (``MemoryStates``) and, with REDIS_URL, also in Redis
(``RedisStates``), shared by every worker and instance. Every change is written to both;
reads come from Redis while it answers and from this process's copy when it does not, so
a Redis outage degrades the gateway to per-process key states instead of stopping it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Collection, Iterable

from .errors import NoUsableKey, RateLimited
from .keys.redis_states import PickCall, RedisStates, pick_from
from .keys.states import KeyState, MemoryStates, Pick
from .redaction import Redactor, mask
from .redis_link import SharedStateUnavailable

__all__ = ["KeyPool", "KeyState"]

# Reasons a key may leave rotation and heal by itself (the project's billing or API
# enablement fixed, a region rule lifted): these keys are re-probed. An invalid, expired,
# leaked or suspended key, or one an admin disabled, stays out until an admin enables it.
HEALABLE_MARKERS = ("SERVICE_DISABLED", "BILLING_DISABLED", "billing", "not available in your "
                    "country", "location is not supported", "project has been denied",
                    "denied access", "has not been used in project", "is disabled")
_NEVER_HEALS = ("API_KEY_INVALID", "API_KEY_EXPIRED", "leaked", "suspended", "not valid",
                "disabled by an admin")
ADMIN_DISABLED = "disabled by an admin"
# check_available trusts a shared key choice this recent instead of asking Redis again:
# under load it saves a round trip per request; at worst a request that finds no key
# after its queue wait gets the same 429 or 503 later.
FRESH_CHOICE_SECONDS = 0.5


def is_healable(reason: str | None) -> bool:
    if not reason:
        return False
    lowered = reason.lower()
    if any(marker.lower() in lowered for marker in _NEVER_HEALS):
        return False
    return any(marker.lower() in lowered for marker in HEALABLE_MARKERS)


class KeyPool:
    def __init__(self, keys: Iterable[str], clock: Callable[[], float] = time.time,
                 *, shared: RedisStates | None = None) -> None:
        self._secrets = list(keys)
        if not self._secrets:
            raise ValueError("a key pool needs at least one key")
        self._index = {secret: i for i, secret in enumerate(self._secrets)}
        self._masked = [mask(secret) for secret in self._secrets]
        self._clock = clock
        self._local = MemoryStates(len(self._secrets))
        self._shared = shared
        self._shared_choice_at = -FRESH_CHOICE_SECONDS
        # Gemini may quote a key in an error ("Consumer 'api_key:…' suspended"): errors are
        # masked before they are stored, here or in Redis.
        self._redact = Redactor(self._secrets)

    def __len__(self) -> int:
        return len(self._secrets)

    def __repr__(self) -> str:
        shared = ", shared" if self._shared is not None else ""
        return f"KeyPool([{', '.join(self._masked)}]{shared})"

    @property
    def shared(self) -> bool:
        return self._shared is not None

    def acquire(self, exclude: Collection[str] = ()) -> str:
        """The next usable key not in ``exclude``, round robin.

        Raises ``RateLimited`` (with the seconds until the first cooling key is
        usable) when the keys left are cooling, ``NoUsableKey`` when every key is
        out of rotation.
        """
        excluded = {self._index[key] for key in exclude if key in self._index}
        pick = self._pick(excluded, take=True)
        if pick.index is not None:
            return self._secrets[pick.index]
        if pick.retry_after is None:
            raise NoUsableKey(
                "No usable Gemini API key remains: every configured key was taken out of "
                "rotation (invalid, blocked or leaked). The operator must replace them."
            )
        raise RateLimited(
            "Every Gemini API key is rate limited right now; retry after the delay in "
            "the Retry-After header.",
            retry_after=pick.retry_after,
        )

    def pick_call(self) -> PickCall | None:
        """With shared state, the choice of a request's first key for the slot script to
        make in the same call (``chosen_with_slot`` reads its answer); else None."""
        if self._shared is None:
            return None
        return self._shared.pick_call(self._clock())

    def chosen_with_slot(self, picked: list | None) -> str | None:
        """The key a ``pick_call`` chose, or None (none usable, or no answer): the caller
        then uses ``acquire``, which says why there is no key."""
        if not picked:
            return None
        pick = pick_from(picked)
        if pick.index is None:
            return None
        self._shared_choice_at = time.monotonic()
        # This process's copy follows the shared rotation, for when Redis stops answering.
        self._local.pick({i for i in range(len(self)) if i != pick.index}, self._clock())
        return self._secrets[pick.index]

    def check_available(self) -> None:
        """Raise as ``acquire`` would, without taking a turn of the rotation."""
        if self._shared is not None and \
                time.monotonic() - self._shared_choice_at < FRESH_CHOICE_SECONDS:
            return
        if self._pick(set(), take=False).index is None:
            self.acquire()

    def cool(self, key: str, until: float, error: str) -> None:
        self._write("cool", self._index[key], until, self._redact(error))

    def disable(self, key: str, reason: str) -> None:
        self._write("disable", self._index[key], self._redact(reason))

    def enable(self, masked: str) -> bool:
        """Put the key shown as ``masked`` back in rotation; False if there is none."""
        matches = [i for i, shown in enumerate(self._masked) if shown == masked]
        for index in matches:
            self._write("enable", index)
        return bool(matches)

    def disable_masked(self, masked: str, reason: str = ADMIN_DISABLED) -> bool:
        """Take the key shown as ``masked`` out of rotation; False if there is none."""
        matches = [i for i, shown in enumerate(self._masked) if shown == masked]
        for index in matches:
            self._write("disable", index, reason)
        return bool(matches)

    def restore(self, key: str) -> None:
        """Put ``key`` back in rotation (a re-probe found it healed)."""
        self._write("enable", self._index[key])

    def record_success(self, key: str) -> None:
        self._write("record_success", self._index[key], self._clock())

    def record_failure(self, key: str, kind: str, error: str) -> None:
        """A failure that says nothing about the key (5xx, timeout, client's 4xx)."""
        self._write("record_failure", self._index[key], kind, self._redact(error))

    def state_of(self, key: str) -> KeyState:
        return KeyState(self._views()[self._index[key]]["state"])

    def snapshot(self) -> list[dict]:
        """Each key's public view: masked, never the key itself."""
        return [{"key": shown, **view} for shown, view in zip(self._masked, self._views(),
                                                                strict=True)]

    def out_of_rotation(self) -> list[tuple[str, str]]:
        """``(key, reason)`` of every key out of rotation (for the re-prober)."""
        return [(secret, view["reason"]) for secret, view in zip(self._secrets, self._views(),
                                                                 strict=True)
                if view["state"] == KeyState.OUT_OF_ROTATION.value]

    def _pick(self, excluded: set[int], *, take: bool) -> Pick:
        now = self._clock()
        if self._shared is not None:
            try:
                pick = self._shared.pick(excluded, now, take=take)
            except SharedStateUnavailable:
                pass
            else:
                if pick.index is not None:
                    self._shared_choice_at = time.monotonic()
                    if take:
                        self._local.pick({i for i in range(len(self)) if i != pick.index}, now)
                return pick
        return self._local.pick(excluded, now, take=take)

    def _views(self) -> list[dict]:
        now = self._clock()
        if self._shared is not None:
            try:
                return self._shared.views(now)
            except SharedStateUnavailable:
                pass
        return self._local.views(now)

    def _write(self, operation: str, *args) -> None:
        getattr(self._local, operation)(*args)
        if self._shared is not None:
            # If Redis does not answer, RedisLink logs it and this process's copy carries on.
            with contextlib.suppress(SharedStateUnavailable):
                getattr(self._shared, operation)(*args)
