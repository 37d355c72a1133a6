"""Calls to Gemini: one concurrency slot per request, key failover, bounded in time and size.

Worst-case time of one request, with the defaults:
    QUEUE_TIMEOUT (30 s) waiting for a slot
  + REQUEST_DEADLINE (300 s) for everything upstream: every key tried, every 5xx retry and
    its backoff (1 + 2 + 4 s), each attempt's connect (10 s) and read (180 s) timeouts, and
    relaying a large answer, writes to the client included.
Under gevent the deadline is exact (a ``gevent.Timeout``); elsewhere it bounds each
attempt's read timeout and is checked between body chunks.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

import requests
import requests.auth
from urllib3.exceptions import (
    ConnectTimeoutError,
    NameResolutionError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import HTTPError as Urllib3Error

from ..answers import ImagesAnswer, images_from, looks_like_images, models_from
from ..config import Settings
from ..errors import (
    BadGateway,
    ClientDisconnected,
    ContentPolicyViolation,
    GatewayError,
    GatewayTimeout,
    NoImageMade,
    QueueFull,
    UpstreamTooLarge,
)
from ..key_pool import KeyPool
from ..redaction import mask
from . import transport
from .headers import declared_length
from .relay import RelayedBody
from .retry_policy import attempts_in, upstream_retry
from .slots import LocalSlots, Slots

log = logging.getLogger("gateway.upstream")

# Answers are read in chunks of this size; a 200 whose first chunk fills it is "large"
# and, if it opens like an images answer, is relayed rather than held whole.
CHUNK_BYTES = 256 * 1024
QUEUE_FULL_RETRY_AFTER = 5.0
USER_AGENT = "gemini-image-gateway/0.1"
T = TypeVar("T")


class Verdict(Protocol):
    """What an upstream refusal means (``app.gemini.verdict`` makes them)."""

    action: str  # cool | disable | failure | reject
    reason: str
    until: float | None
    error: GatewayError | None
    quota: str


# (status, body, now) -> Verdict: the backend's reading of a non-2xx answer.
Judge = Callable[[int, bytes, float], Verdict]


class Sink(Protocol):
    """Takes a 200 body chunk by chunk (the native answer's spooling scanner)."""

    def feed(self, chunk: bytes) -> None: ...

    def close(self) -> None: ...


class UpstreamObserver:
    """Told about every upstream attempt; the metrics implement it. Does nothing itself."""

    def attempt(self, masked_key: str, outcome: str, seconds: float) -> None:
        pass

    def in_flight(self, delta: int) -> None:
        pass

    def queue_wait(self, seconds: float) -> None:
        pass


@dataclass
class UpstreamTrace:
    """What one client request cost upstream, for its access log line."""

    attempts: int = 0
    key: str | None = None  # masked: the last key used
    images: int | None = None


class BearerKey(requests.auth.AuthBase):
    """Sends a Gemini key as ``Authorization: Bearer``, never in the URL.

    Passed as ``auth=`` rather than ``headers=``: merging per-request headers with the
    session's goes through a slow runtime Protocol check in requests (4 % of a worker's
    time under load)."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._key}"
        return request

    def __repr__(self) -> str:
        return f"BearerKey({mask(self._key)})"


class GoogApiKey(BearerKey):
    """Sends a Gemini key in ``x-goog-api-key``, as the native API wants; never ``?key=``
    (a key in a URL ends up in logs and exception texts)."""

    __slots__ = ()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["x-goog-api-key"] = self._key
        return request

    def __repr__(self) -> str:
        return f"GoogApiKey({mask(self._key)})"


def build_session(settings: Settings) -> requests.Session:
    """The one session of an app: pooled connections, the retry policy, no env surprises."""
    session = requests.Session()
    # No proxy variables or ~/.netrc: a netrc entry would replace our Authorization header.
    session.trust_env = False
    # No proxies at all (None, not {}): merging an empty dict with each request's goes
    # through the same slow Protocol check as per-request headers (3 % under load).
    session.proxies = None
    session.headers["User-Agent"] = USER_AGENT
    adapter = transport.UpstreamAdapter(
        pool_connections=4,
        # One connection per slot: a smaller pool would open and drop connections under load.
        pool_maxsize=settings.max_concurrent,
        max_retries=upstream_retry(
            settings.max_retries, settings.retry_delay_ms, backoff_max=settings.request_deadline
        ),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class UpstreamClient:
    def __init__(
        self,
        settings: Settings,
        pool: KeyPool,
        session: requests.Session,
        *,
        judge: Judge,
        observer: UpstreamObserver | None = None,
        slots: Slots | None = None,
        base_url: str | None = None,
        auth: Callable[[str], requests.auth.AuthBase] = BearerKey,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.session = session
        self.base_url = base_url if base_url is not None else settings.gemini_base_url
        self._auth = auth
        self._judge = judge
        self.observer = observer or UpstreamObserver()
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self.slots = slots if slots is not None else LocalSlots(settings.max_concurrent)

    def generate_images(
        self,
        payload: dict,
        trace: UpstreamTrace | None = None,
        client_gone: Callable[[], bool] | None = None,
    ) -> ImagesAnswer | RelayedBody:
        """Gemini's images for ``payload``: a parsed OpenAI answer, or a large one relayed."""
        return self.call("POST", "/images/generations", payload, images_from, trace,
                         relay_large=True, client_gone=client_gone)

    def list_models(self, trace: UpstreamTrace | None = None) -> list[dict]:
        """Gemini's model list (``GET {base}/models``), every family."""
        return self.call("GET", "/models", None, models_from, trace)

    def call(
        self,
        method: str,
        path: str,
        payload: dict | None,
        parse: Callable[[bytes], T],
        trace: UpstreamTrace | None = None,
        *,
        relay_large: bool = False,
        client_gone: Callable[[], bool] | None = None,
        sink: Callable[[], Sink] | None = None,
    ) -> T | RelayedBody:
        """One client request upstream: a slot, then keys in turn until one answers 200.

        With ``sink``, a 200 body is fed to a new sink chunk by chunk as it arrives and
        ``parse`` gets the sink; otherwise ``parse`` gets the body's bytes.
        """
        trace = trace if trace is not None else UpstreamTrace()
        # No usable key: say so at once rather than after queueing for a slot.
        self.pool.check_available()
        release, first_key = self._take_slot()
        try:
            if client_gone is not None and client_gone():
                # An image no one will receive is still billed: don't ask for it.
                raise ClientDisconnected("The client left while waiting for a slot.")
            deadline = self._monotonic() + self.settings.request_deadline
            with _deadline_guard(self.settings.request_deadline):
                answer = self._with_failover(method, path, payload, parse, deadline, trace,
                                             relay_large, release, sink, first_key)
        except BaseException:
            release()
            raise
        if not isinstance(answer, RelayedBody):
            release()  # a relay releases the slot when it is closed
        return answer

    def _take_slot(self) -> tuple[Callable[[], None], str | None]:
        """The slot's release, and the first key when the slot came with one (shared
        state: one Redis call takes both)."""
        queued_at = self._monotonic()
        pick = self.pool.pick_call()
        lease = self.slots.acquire(self.settings.queue_timeout, pick=pick)
        self.observer.queue_wait(self._monotonic() - queued_at)
        if lease is None:
            raise QueueFull(
                "The gateway is at its limit of concurrent upstream calls; retry shortly.",
                retry_after=QUEUE_FULL_RETRY_AFTER,
            )
        self.observer.in_flight(+1)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.observer.in_flight(-1)
                self.slots.release(lease)

        first_key = self.pool.chosen_with_slot(getattr(lease, "picked", None)) if pick else None
        return release, first_key

    def _with_failover(self, method, path, payload, parse, deadline, trace, relay_large,
                       release, sink, first_key=None):
        tried: set[str] = set()
        while True:
            if first_key is not None:
                key, first_key = first_key, None
            else:
                key = self.pool.acquire(exclude=tried)
            tried.add(key)
            trace.key = mask(key)
            started = self._monotonic()
            response = self._open(key, method, path, payload, deadline, trace, started)
            relayed = False
            try:
                status = response.status_code
                if 300 <= status < 400:
                    # Never followed: a redirect would send the prompt (and the key) to a
                    # host the operator did not choose.
                    self._failed(key, "redirect", f"HTTP {status} redirect", started)
                    raise BadGateway(f"Gemini answered with a redirect (HTTP {status}); the "
                                     "gateway does not follow upstream redirects.")
                body = self._read(key, response, deadline, started,
                                  relay=relay_large and status == 200,
                                  make_sink=sink if status == 200 else None)
                if isinstance(body, tuple):  # (first chunk, the rest): relay it
                    relayed = True
                    return self._relay(key, response, body, deadline, trace, started, release)
            finally:
                if not relayed:
                    response.close()
            if status == 200:
                return self._parse_success(key, body, parse, trace, started)

            verdict = self._judge(status, body, self._wall_clock())
            if verdict.action == "cool":
                self.pool.cool(key, verdict.until, verdict.reason)
                self._observed(key, "rate_limited", started)
                log.warning("key %s rate limited for %.0f s (%s); trying another key",
                            trace.key, verdict.until - self._wall_clock(), verdict.quota)
                continue
            if verdict.action == "disable":
                self.pool.disable(key, verdict.reason)
                self._observed(key, "key_rejected", started)
                log.error("key %s taken out of rotation: %s", trace.key, verdict.reason)
                continue
            if verdict.action == "failure":
                self._failed(key, "upstream_5xx", verdict.reason, started)
                raise BadGateway(f"Gemini failed after {trace.attempts} attempt(s): "
                                 f"{verdict.error.message}")
            self._failed(key, "client_error", verdict.reason, started)
            raise verdict.error

    def _parse_success(self, key, body, parse, trace, started):
        try:
            answer = parse(body)
        except BaseException as exc:
            if not isinstance(body, bytes):
                body.close()  # a sink: its spool goes
            if isinstance(exc, ContentPolicyViolation | NoImageMade):
                # The key worked; the prompt or the model did not.
                outcome = "filtered" if isinstance(exc, ContentPolicyViolation) else "no_image"
                self._succeeded(key, outcome, started)
                trace.images = 0
            elif isinstance(exc, GatewayError):
                self._failed(key, "bad_body", exc.message, started)
            raise
        self._succeeded(key, "success", started)
        if isinstance(answer, ImagesAnswer):
            trace.images = answer.images
        return answer

    def _open(self, key, method, path, payload, deadline, trace, started) -> requests.Response:
        """Send with one key; urllib3 retries 5xx and connect errors inside this call."""
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise GatewayTimeout("REQUEST_DEADLINE passed before Gemini answered.")
        timeout = (
            min(self.settings.upstream_connect_timeout, remaining),
            min(self.settings.upstream_read_timeout, remaining),
        )
        trace.attempts += 1
        if hasattr(payload, "read"):
            payload.seek(0)  # a body in a file (an edit's uploads): each attempt from the start
        try:
            response = transport.send(self.session, method, self.base_url + path,
                                      payload=payload, auth=self._auth(key), timeout=timeout)
        except requests.exceptions.ReadTimeout:
            self._failed(key, "timeout", "read timeout", started)
            raise GatewayTimeout("Gemini did not answer within the read timeout.") from None
        except requests.exceptions.RequestException as exc:
            trace.attempts += attempts_in(exc) - 1
            self._failed(key, "connection", type(exc).__name__, started)
            raise BadGateway(
                f"Could not get an answer from Gemini ({_describe(exc)}) after "
                f"{attempts_in(exc)} attempt(s)."
            ) from None
        retries = getattr(response.raw, "retries", None)
        for _ in retries.history if retries is not None else ():
            trace.attempts += 1
            self.observer.attempt(mask(key), "retried", 0.0)
        return response

    def _observed(self, key: str, outcome: str, started: float) -> None:
        """Tell the observer how an attempt that began at ``started`` ended."""
        self.observer.attempt(mask(key), outcome, self._monotonic() - started)

    def _failed(self, key: str, outcome: str, detail: str, started: float) -> None:
        self.pool.record_failure(key, outcome, detail)
        self._observed(key, outcome, started)

    def _succeeded(self, key: str, outcome: str, started: float) -> None:
        self.pool.record_success(key)
        self._observed(key, outcome, started)

    def _read(self, key, response, deadline, started, *, relay: bool,
              make_sink: Callable[[], Sink] | None):
        """The whole body, or ``(first chunk, iterator of the rest)`` for a large images
        answer that ``relay`` allows to pass through, or a new sink fed with the body."""
        limit = self.settings.max_upstream_bytes
        try:
            declared = declared_length(response.headers)
        except BadGateway as exc:
            self._failed(key, "bad_header", exc.message, started)
            raise
        if declared is not None and declared > limit:
            self._failed(key, "too_large", "declared length over the limit", started)
            raise UpstreamTooLarge(f"Gemini's answer is larger than {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        sink = make_sink() if make_sink is not None else None
        try:
            stream = response.raw.stream(CHUNK_BYTES, decode_content=_encoded(response))
            for chunk in stream:
                if relay and not chunks and len(chunk) >= CHUNK_BYTES \
                        and looks_like_images(chunk):
                    return chunk, stream
                size += len(chunk)
                if size > limit:
                    self._failed(key, "too_large", "body over the limit", started)
                    raise UpstreamTooLarge(f"Gemini's answer is larger than {limit} bytes.")
                if self._monotonic() > deadline:
                    self._failed(key, "timeout", "deadline in body", started)
                    raise GatewayTimeout("REQUEST_DEADLINE passed while Gemini was answering.")
                if sink is not None:
                    sink.feed(chunk)
                else:
                    chunks.append(chunk)
        except BaseException as exc:
            if sink is not None:
                sink.close()
            if isinstance(exc, ReadTimeoutError):
                self._failed(key, "timeout", "read timeout in body", started)
                raise GatewayTimeout("Gemini stopped sending within the read timeout.") from None
            if isinstance(exc, Urllib3Error | OSError):
                self._failed(key, "connection", type(exc).__name__, started)
                raise BadGateway("The connection to Gemini broke while it was answering.") \
                    from None
            raise
        return sink if sink is not None else b"".join(chunks)

    def _relay(self, key, response, body: tuple[bytes, Iterator[bytes]], deadline, trace,
               started, release) -> RelayedBody:
        first, rest = body

        def succeeded(images: int) -> None:
            trace.images = images
            self._succeeded(key, "success", started)

        return RelayedBody(
            response, rest, first,
            read_guard=lambda: self._within(deadline),
            max_bytes=self.settings.max_upstream_bytes,
            on_success=succeeded,
            on_failure=lambda outcome, detail: self._failed(key, outcome, detail, started),
            on_close=release,
            seconds_left=lambda: deadline - self._monotonic(),
        )

    def _within(self, deadline: float) -> contextlib.AbstractContextManager:
        """Bound one read of a relayed answer by what is left of REQUEST_DEADLINE."""
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise GatewayTimeout("REQUEST_DEADLINE passed while relaying Gemini's answer.")
        return _deadline_guard(remaining)


def _encoded(response: requests.Response) -> bool:
    """Whether the body comes compressed (``Content-Encoding``) and must be decoded.

    Asked to decode an identity body, urllib3 still passes every chunk through its decoded
    buffer, one more copy of megabytes of base64 for nothing."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    return encoding not in ("", "identity")


def _describe(exc: requests.exceptions.RequestException) -> str:
    """What went wrong, in an operator's words: the first cause found down the chain."""
    causes = _chain(exc)
    for kinds, words in _CAUSES:
        if any(isinstance(c, kinds) for c in causes):
            return words
    # urllib3's NewConnectionError is a ConnectTimeoutError too: a refusal is not a timeout.
    if isinstance(exc, requests.exceptions.ConnectTimeout) or any(
            isinstance(c, ConnectTimeoutError) and not isinstance(c, NewConnectionError)
            for c in causes):
        return "connect timeout"
    text = " ".join(str(c) for c in causes).lower()
    if "name or service not known" in text or "name resolution" in text:
        return "DNS lookup failed"
    if "refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "could not connect" if "newconnectionerror" in text else "connection dropped"
    return type(exc).__name__


_CAUSES = (
    ((NameResolutionError, socket.gaierror), "DNS lookup failed"),
    ((ssl.SSLError, requests.exceptions.SSLError, SSLError), "TLS error"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    ((ConnectionAbortedError, BrokenPipeError), "connection dropped"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: requests and urllib3 keep causes in args and reason."""
    found: list[BaseException] = []
    todo = [exc]
    while todo and len(found) < 20:
        item = todo.pop(0)
        if item in found:
            continue
        found.append(item)
        nested = [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
        todo.extend(n for n in nested if isinstance(n, BaseException))
    return found


def _deadline_guard(seconds: float) -> contextlib.AbstractContextManager:
    """An exact deadline when running under gevent; elsewhere the checks in ``_read`` do."""
    if not _under_gevent():
        return contextlib.nullcontext()
    import gevent

    return gevent.Timeout(
        seconds, GatewayTimeout("REQUEST_DEADLINE passed before Gemini finished answering.")
    )


@functools.cache
def _under_gevent() -> bool:
    # Asked once: gunicorn's gevent worker patches before it loads the app.
    from gevent import monkey

    return monkey.is_module_patched("socket")
