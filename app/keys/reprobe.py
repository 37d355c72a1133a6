"""Bring back keys that left rotation for reasons that heal (billing, API enablement,
region, project denied): every KEY_REPROBE_INTERVAL seconds, one cheap authenticated
``GET {root}/models/{DEFAULT_MODEL}`` per such key; a 200 puts it back.

Invalid, expired, leaked or suspended keys, and keys an admin disabled, are never probed:
only an admin brings them back. A round starts when a request (any route, /readyz
included, so a load balancer's probes are enough) finds one due: in a background greenlet
of the worker that served it, never in the gunicorn master and never on the request's
time. With Redis, a lock lets one worker of the deployment probe per interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests

from ..config import Settings
from ..key_pool import KeyPool, is_healable
from ..redaction import mask
from ..redis_link import RedisLink, SharedStateUnavailable

log = logging.getLogger("gateway.keys")
PROBE_READ_TIMEOUT = 15.0


def _in_background(target: Callable[[], object]) -> None:
    # A greenlet under gunicorn's gevent worker (threading is patched there).
    threading.Thread(target=target, name="key-reprobe", daemon=True).start()


class Reprober:
    def __init__(self, pool: KeyPool, session: requests.Session, settings: Settings,
                 link: RedisLink | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 spawn: Callable[[Callable[[], object]], None] = _in_background) -> None:
        self.pool = pool
        self.session = session
        self.link = link
        self.interval = settings.key_reprobe_interval
        self.url = f"{settings.upstream_root}/models/{settings.default_model}"
        self._native = settings.upstream_api == "gemini"
        self.timeout = (settings.upstream_connect_timeout, PROBE_READ_TIMEOUT)
        self._monotonic = monotonic
        self._spawn = spawn
        self._lock = threading.Lock()
        self._next_due = monotonic() + self.interval
        self._running = False

    def poke(self) -> None:
        """Start a round in the background if one is due; costs a clock read otherwise."""
        if not self.interval or self._monotonic() < self._next_due:
            return
        with self._lock:
            now = self._monotonic()
            if self._running or now < self._next_due:
                return
            self._next_due = now + self.interval
            self._running = True
        self._spawn(self._round)

    def _round(self) -> None:
        try:
            self.run_once()
        except Exception:  # a background round must never kill the worker
            log.exception("key re-probe round failed")
        finally:
            self._running = False

    def run_once(self) -> list[str]:
        """Probe every key out for a healable reason; the masked keys put back."""
        candidates = [key for key, reason in self.pool.out_of_rotation() if is_healable(reason)]
        if not candidates or not self._our_turn():
            return []
        restored = []
        for key in candidates:
            status = self._probe(key)
            if status == 200:
                self.pool.restore(key)
                restored.append(mask(key))
                log.warning("key %s answers again: back in rotation", mask(key))
            else:
                log.info("key %s still refused on re-probe (%s)", mask(key), status)
        return restored

    def _our_turn(self) -> bool:
        """With Redis, one round per interval for the whole deployment."""
        if self.link is None:
            return True
        lock = self.link.key("keys", "reprobe")
        seconds = max(1, int(self.interval) - 1)
        try:
            return bool(self.link.run(lambda c: c.set(lock, "1", nx=True, ex=seconds)))
        except SharedStateUnavailable:
            return True

    def _probe(self, key: str) -> int | str:
        try:
            # The key as each API wants it: a header, never the URL.
            headers = ({"x-goog-api-key": key} if self._native
                       else {"Authorization": f"Bearer {key}"})
            response = self.session.get(self.url, headers=headers, allow_redirects=False,
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            return type(exc).__name__
        response.close()
        return response.status_code
