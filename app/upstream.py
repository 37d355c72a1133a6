"""Calls to Gemini: one concurrency slot per request, key failover, bounded in time and size.

Worst-case time of one request, with the defaults:
    QUEUE_TIMEOUT (30 s) waiting for a slot
  + REQUEST_DEADLINE (300 s) for everything upstream: every key tried, every 5xx retry and
    its backoff (1 + 2 + 4 s), each attempt's connect (10 s) and read (180 s) timeouts.
Under gevent the deadline is exact (a ``gevent.Timeout``); elsewhere it bounds each
attempt's read timeout and is checked between body chunks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from .config import Settings
from .cooldown import cooldown_until
from .errors import (
    BadGateway,
    ContentPolicyViolation,
    GatewayTimeout,
    ModelNotFound,
    QueueFull,
    UpstreamRejected,
    UpstreamTooLarge,
)
from .gemini_errors import parse_error
from .key_pool import KeyPool
from .redaction import mask
from .retry_policy import upstream_retry

log = logging.getLogger("gateway.upstream")

CHUNK_BYTES = 256 * 1024
QUEUE_FULL_RETRY_AFTER = 5.0
USER_AGENT = "gemini-image-gateway/0.1"


@dataclass
class GenerationResult:
    body: dict
    key: str = field(repr=False)
    attempts: int


def build_session(settings: Settings) -> requests.Session:
    """The one session of an app: pooled connections, the retry policy, no env surprises."""
    session = requests.Session()
    # No proxy variables or ~/.netrc: a netrc entry would replace our Authorization header.
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(
        pool_connections=4,
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
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.session = session
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._slots = threading.BoundedSemaphore(settings.max_concurrent)
        self._url = settings.gemini_base_url + "/images/generations"

    def generate_images(self, payload: dict) -> GenerationResult:
        """Send ``payload`` to Gemini and return the OpenAI-shaped answer, or raise."""
        # No usable key: say so at once rather than after queueing for a slot.
        self.pool.check_available()
        if not self._slots.acquire(timeout=self.settings.queue_timeout):
            raise QueueFull(
                "The gateway is at its limit of concurrent upstream calls; retry shortly.",
                retry_after=QUEUE_FULL_RETRY_AFTER,
            )
        try:
            deadline = self._monotonic() + self.settings.request_deadline
            with _deadline_guard(self.settings.request_deadline):
                return self._generate_with_failover(payload, deadline)
        finally:
            self._slots.release()

    def _generate_with_failover(self, payload: dict, deadline: float) -> GenerationResult:
        tried: set[str] = set()
        attempts = 0
        while True:
            key = self.pool.acquire(exclude=tried)
            tried.add(key)
            status, body, key_attempts = self._send(key, payload, deadline)
            attempts += key_attempts
            if status == 200:
                answer = images_from(body)
                self.pool.record_success(key)
                return GenerationResult(answer, key, attempts)

            error = parse_error(status, body)
            if status == 429:
                until = cooldown_until(error, self._wall_clock())
                self.pool.cool(key, until, error.reason_text())
                log.warning(
                    "key %s rate limited for %.0f s (%s); trying another key",
                    mask(key), until - self._wall_clock(), error.quota_ids or "no quota id",
                )
                continue
            fault = error.key_fault
            if fault is not None:
                self.pool.disable(key, fault)
                log.error("key %s taken out of rotation: %s", mask(key), fault)
                continue
            if status >= 500:
                self.pool.record_failure(key, "upstream_5xx", error.reason_text())
                raise BadGateway(
                    f"Gemini failed after {key_attempts} attempt(s): HTTP {status}: "
                    f"{error.message}"
                )
            self.pool.record_failure(key, "client_error", error.reason_text())
            if status == 404:
                raise ModelNotFound(error.message)
            raise UpstreamRejected(
                status, error.message, code=(error.status or "").lower() or None
            )

    def _send(self, key: str, payload: dict, deadline: float) -> tuple[int, bytes, int]:
        """One call with one key (urllib3 retries 5xx and connect errors inside it)."""
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise GatewayTimeout("REQUEST_DEADLINE passed before Gemini answered.")
        timeout = (
            min(self.settings.upstream_connect_timeout, remaining),
            min(self.settings.upstream_read_timeout, remaining),
        )
        try:
            response = self.session.post(
                self._url,
                json=payload,
                headers={"Authorization": f"Bearer {key}"},
                timeout=timeout,
                stream=True,
            )
        except requests.exceptions.ReadTimeout:
            self.pool.record_failure(key, "timeout", "read timeout")
            raise GatewayTimeout("Gemini did not answer within the read timeout.") from None
        except requests.exceptions.RequestException as exc:
            self.pool.record_failure(key, "connection", type(exc).__name__)
            raise BadGateway(f"Could not get an answer from Gemini ({_describe(exc)}).") from None
        with response:
            retries = getattr(response.raw, "retries", None)
            attempts = 1 + len(retries.history) if retries is not None else 1
            body = self._read_body(key, response, deadline)
            return response.status_code, body, attempts

    def _read_body(self, key: str, response: requests.Response, deadline: float) -> bytes:
        limit = self.settings.max_upstream_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise UpstreamTooLarge(f"Gemini's answer is larger than {limit} bytes.")
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.raw.stream(CHUNK_BYTES, decode_content=True):
                size += len(chunk)
                if size > limit:
                    raise UpstreamTooLarge(f"Gemini's answer is larger than {limit} bytes.")
                if self._monotonic() > deadline:
                    raise GatewayTimeout("REQUEST_DEADLINE passed while Gemini was answering.")
                chunks.append(chunk)
        except ReadTimeoutError:
            self.pool.record_failure(key, "timeout", "read timeout in body")
            raise GatewayTimeout("Gemini stopped sending within the read timeout.") from None
        except (Urllib3Error, OSError) as exc:
            self.pool.record_failure(key, "connection", type(exc).__name__)
            raise BadGateway("The connection to Gemini broke while it was answering.") from None
        return b"".join(chunks)


def images_from(body: bytes) -> dict:
    """The OpenAI answer from Gemini's 200 body; zero images means the safety filter spoke."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadGateway("Gemini answered 200 with a body that is not JSON.") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise BadGateway("Gemini answered 200 without a list of images.")
    images = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str) and item["b64_json"]:
            image = {"b64_json": item["b64_json"]}
            if isinstance(item.get("revised_prompt"), str):
                image["revised_prompt"] = item["revised_prompt"]
            images.append(image)
    if not images:
        raise ContentPolicyViolation(
            "Gemini returned no image for this prompt; its safety filters may have blocked "
            "the prompt or the result. Rephrase the prompt and try again."
        )
    created = document.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        created = int(time.time())
    return {"created": created, "data": images}


def _describe(exc: requests.exceptions.RequestException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        if "refused" in text or "newconnectionerror" in text or "name resolution" in text:
            return "could not connect"
        return "connection dropped"
    return type(exc).__name__


def _deadline_guard(seconds: float) -> contextlib.AbstractContextManager:
    """An exact deadline when running under gevent; elsewhere the checks in ``_send`` do."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return contextlib.nullcontext()
    if not monkey.is_module_patched("socket"):
        return contextlib.nullcontext()
    import gevent

    return gevent.Timeout(
        seconds, GatewayTimeout("REQUEST_DEADLINE passed before Gemini finished answering.")
    )
