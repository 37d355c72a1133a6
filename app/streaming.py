"""``stream: true``: OpenAI's image events over server-sent events, as Gemini answers.

The n native calls run at once (greenlets under gevent, threads elsewhere), each reading
Gemini's ``streamGenerateContent`` SSE as it arrives (``gemini/sse.py``) and putting what
it gets on one queue: draft images (sent as ``partial_image`` events, up to
``partial_images`` per image) and finished answers (one ``completed`` event per image, with
its usage). While nothing comes, an SSE comment goes out every ``STREAM_KEEPALIVE`` s so idle
proxies and Heroku's router (55 s rolling window) keep the connection.

The view waits for the first thing to send (or the first keep-alive) before answering, so
errors that come quickly (every key cooling, a refused prompt, no slot) are ordinary JSON
errors with their status; errors after the stream began arrive as an ``error`` event.

A client that leaves frees its slots at once: the wait polls the client's socket, and
``close()`` (which the WSGI server calls when a write fails) cancels the calls, killing
their greenlets under gevent; under threads the sink stops at the next chunk.
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

from .errors import ClientDisconnected, GatewayError
from .gemini.native import ImageData, NativeAnswer, add_usage, openai_usage, read_answer
from .gemini.sse import SseAnswer
from .generation import ImageGenerator, Made, most_telling
from .image_pieces import event_image
from .upstream import UpstreamTrace
from .validation import ImageRequest

log = logging.getLogger("gateway.stream")
# How often a waiting stream checks that its client is still there (tests shrink it); the
# keep-alive interval is STREAM_KEEPALIVE (15 s).
POLL_SECONDS = 0.5  # how often a waiting stream checks that its client is still there
KEEPALIVE = b": keep-alive\n\n"


class _SseBody:
    """What both kinds of SSE body share: the request, the queue their calls fill, the
    cancel flag, keep-alives, and whether the client left (read by the access line)."""

    def __init__(self, request: ImageRequest, kind: str, trace: UpstreamTrace,
                 redact: Callable[[str], str], keepalive: float,
                 client_gone: Callable[[], bool] | None) -> None:
        self.kind = kind
        self.client_gone = False
        self.usage: dict | None = None  # Gemini's tokens over the calls that answered
        self._request = request
        self._trace = trace
        self._redact = redact
        self._keepalive = keepalive
        self._socket_gone = client_gone or (lambda: False)
        self._queue: queue.Queue = queue.Queue()
        self._cancel = threading.Event()
        self._closed = self._started = self._ended = False
        self._greet = False  # prime() waited a whole interval: a keep-alive goes first


class ImageStream(_SseBody):
    """The SSE body of one streaming request; iterate it once, then ``close()`` it."""

    def __init__(self, generator: ImageGenerator, request: ImageRequest, parts: list[dict],
                 kind: str, trace: UpstreamTrace, redact: Callable[[str], str],
                 client_gone: Callable[[], bool] | None = None) -> None:
        _model, self._plan, path, body = generator.prepared(request, parts, streaming=True)
        super().__init__(request, kind, trace, redact, generator.settings.stream_keepalive,
                         client_gone)
        self._buffered: list[tuple] = []
        self._pending = request.n
        self._errors: list[BaseException] = []
        self._answers: list[NativeAnswer] = []
        self._images = 0
        self._traces = [UpstreamTrace() for _ in range(request.n)]
        self._drafts_sent = [0] * request.n
        upstream = generator.upstream

        def call(index: int) -> None:
            sink = functools.partial(
                SseAnswer, on_draft=functools.partial(self._draft, index),
                cancelled=self._cancel.is_set, budget=generator.spool_budget)
            try:
                answer = upstream.call("POST", path, body, read_answer, self._traces[index],
                                       client_gone=self._gone, sink=sink)
            except BaseException as exc:
                self._queue.put(("failed", index, exc))
                return
            if self._cancel.is_set():
                answer.close()  # made after the client left: nobody will send it
                return
            self._queue.put(("made", index, answer))

        self._tasks = [_spawn(call, index) for index in range(request.n)]

    # The view's part: wait for something to say before committing to a 200.
    def prime(self) -> None:
        """Wait up to the keep-alive interval for a first event; raise the request's error if
        every call failed by then (the view turns it into a JSON error)."""
        deadline = time.monotonic() + self._keepalive
        failed: list[BaseException] = []
        while len(failed) < self._request.n and (left := deadline - time.monotonic()) > 0:
            item = self._next(left)
            if self.client_gone:
                self.close()
                raise ClientDisconnected("The client closed the connection.")
            if item is None:
                continue
            self._buffered.append(item)
            if item[0] != "failed":
                return
            failed.append(item[2])
        if len(failed) == self._request.n:
            self.close()
            raise most_telling(failed)
        # Nothing to send after a whole interval (at most some of the calls failed): the
        # first byte must go out now (Heroku's router drops a request silent for 30 s).
        self._greet = True

    def __iter__(self) -> Iterator[bytes]:
        created = int(time.time())
        self._started = True
        try:
            if self._greet:
                yield KEEPALIVE
            while self._buffered or self._pending:
                item = self._buffered.pop(0) if self._buffered else self._next(self._keepalive)
                if item is None:
                    if self.client_gone:
                        return
                    yield KEEPALIVE
                    continue
                kind, _index, payload = item
                if kind == "draft":
                    image, partial_index = payload
                    try:
                        pieces = event_image(self._event_fields("partial_image", created, {
                            "partial_image_index": partial_index}), image, self._request)
                    except GatewayError as exc:
                        log.warning("a partial image was not sent: %s", exc.message)
                        continue
                    yield from pieces
                    continue
                self._pending -= 1
                if kind == "failed":
                    self._errors.append(payload)
                    continue
                self._answers.append(payload)
                usage = openai_usage(payload.usage)
                self.usage = add_usage(self.usage, usage)
                for image in payload.images:
                    try:
                        pieces = event_image(self._event_fields("completed", created, {
                            "usage": usage}), image, self._request)
                    except GatewayError as exc:
                        self._errors.append(exc)
                        continue
                    self._images += 1
                    yield from pieces
                payload.close()
            if not self._images:
                yield self._error_event(most_telling(self._errors) if self._errors else
                                        GatewayError("Gemini made no image."))
            self._ended = True
        except Exception:
            self._ended = True  # a failure of ours, not a departure: the server logs it
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Free everything; the WSGI server calls it when the response ends, also when it
        stopped iterating because a write to the client failed (the client left)."""
        if not _shut(self):
            return
        while True:  # answers that arrived after the client left
            try:
                kind, _index, payload = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "made":
                payload.close()
        for answer in self._answers:
            answer.close()
        self._trace.attempts += sum(t.attempts for t in self._traces)
        self._trace.key = next((t.key for t in reversed(self._traces) if t.key),
                               self._trace.key)
        self._trace.images = self._images

    # Helpers
    def _gone(self) -> bool:
        return self._cancel.is_set()

    def _draft(self, index: int, image: ImageData) -> None:
        """A draft image from call ``index``: read now (a draft is small; the call's spool
        may be gone by the time it is sent), sent if the client wants more partials."""
        sent = self._drafts_sent[index]
        if sent >= self._request.partial_images:
            return
        self._drafts_sent[index] = sent + 1
        copy = ImageData(image.mime_type, inline=b"".join(image.b64_chunks()))
        self._queue.put(("draft", index, (copy, sent)))

    def _next(self, timeout: float) -> tuple | None:
        """The next item within ``timeout``, checking every ``POLL_SECONDS`` that the
        client is still there; None on timeout, or when the client has left (then the
        calls are cancelled and ``client_gone`` is set)."""
        item = _wait_for(self._queue, timeout, self._socket_gone)
        if item is _GONE:
            log.info("the client left mid-stream; cancelling %d call(s)", self._pending)
            self.client_gone = True
            self._cancel.set()
            _stop(self._tasks)
            return None
        return item

    def _event_fields(self, event: str, created: int, extra: dict) -> dict:
        return {"type": f"{self.kind}.{event}", "created_at": created,
                "quality": self._plan.quality, "background": "opaque", **extra}

    def _error_event(self, error: BaseException) -> bytes:
        return _error_event(error, self._redact)


def _shut(stream) -> bool:
    """The first ``close()`` of either stream: mark it closed, note a client that left
    before the end, cancel its calls. False when it was closed already."""
    if stream._closed:
        return False
    stream._closed = True
    if stream._started and not stream._ended:
        stream.client_gone = True
    stream._cancel.set()
    _stop(stream._tasks)
    return True


_GONE = object()  # what _wait_for returns when the client has left


def _wait_for(items: queue.Queue, timeout: float, socket_gone: Callable[[], bool]):
    """The next of ``items`` within ``timeout`` (None if none came), looking every
    ``POLL_SECONDS`` whether the client is still there (``_GONE`` if not)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            return items.get(timeout=min(left, POLL_SECONDS))
        except queue.Empty:
            pass
        if socket_gone():
            return _GONE
    return None


def _spawn(target: Callable[[int], None], index: int):
    if _under_gevent():
        import gevent

        return gevent.spawn(target, index)
    thread = threading.Thread(target=target, args=(index,), daemon=True)
    thread.start()
    return thread


def _stop(tasks: list) -> None:
    """Under gevent, kill the calls now (the slot is freed as the kill unwinds them);
    threads cannot be killed and stop at their next chunk (the cancel flag)."""
    if _under_gevent():
        import gevent

        gevent.killall([t for t in tasks if not t.dead], block=True, timeout=2)


@functools.cache
def _under_gevent() -> bool:
    from gevent import monkey

    return monkey.is_module_patched("socket")


class MadeStream(_SseBody):
    """The SSE body of a request whose images come whole from ``make(trace, client_gone)``
    (an edit: its body is spooled once for the n calls and its mask applied after): no
    partial images, keep-alives while it runs, then one ``completed`` event per image."""

    def __init__(self, make: Callable[[UpstreamTrace, Callable[[], bool]], Made],
                 request: ImageRequest, kind: str, trace: UpstreamTrace,
                 redact: Callable[[str], str], keepalive: float,
                 client_gone: Callable[[], bool] | None = None) -> None:
        super().__init__(request, kind, trace, redact, keepalive, client_gone)
        self._result: tuple | None = None

        def run(_index: int) -> None:
            try:
                made = make(trace, self._cancel.is_set)
            except BaseException as exc:
                self._queue.put(("failed", exc))
                return
            if self._closed:
                made.close()  # made after the client left (threads cannot be killed)
                return
            self._queue.put(("made", made))

        self._tasks = [_spawn(run, 0)]

    def prime(self) -> None:
        """As ``ImageStream.prime``: an error within the first interval is a JSON error."""
        self._result = self._wait(self._keepalive)
        if self.client_gone:
            self.close()
            raise ClientDisconnected("The client closed the connection.")
        if self._result is not None and self._result[0] == "failed":
            self.close()
            raise self._result[1]
        self._greet = self._result is None

    def __iter__(self) -> Iterator[bytes]:
        created = int(time.time())
        self._started = True
        try:
            if self._greet:
                yield KEEPALIVE
            while self._result is None:
                self._result = self._wait(self._keepalive)
                if self.client_gone:
                    return
                if self._result is None:
                    yield KEEPALIVE
            kind, payload = self._result
            if kind == "failed":
                yield _error_event(payload, self._redact)
            else:
                yield from self._completed(payload, created)
            self._ended = True
        except Exception:
            self._ended = True
            raise
        finally:
            self.close()

    def close(self) -> None:
        if not _shut(self):
            return
        result = self._result
        if result is None:
            try:
                result = self._queue.get_nowait()
            except queue.Empty:
                result = None
        if result is not None and result[0] == "made":
            result[1].close()

    def _completed(self, made: Made, created: int) -> Iterator[bytes]:
        fields = {"type": f"{self.kind}.completed", "created_at": created,
                  "quality": made.plan.quality, "background": "opaque"}
        self.usage = made.usage
        sent = 0
        for answer in made.answers:
            usage = openai_usage(answer.usage)
            for image in answer.images:
                try:
                    pieces = event_image({**fields, "usage": usage}, image, self._request)
                except GatewayError as exc:
                    yield _error_event(exc, self._redact)
                    continue
                sent += 1
                self._trace.images = sent
                yield from pieces
        if not sent:
            yield _error_event(GatewayError("Gemini made no image."), self._redact)

    def _wait(self, timeout: float) -> tuple | None:
        item = _wait_for(self._queue, timeout, self._socket_gone)
        if item is _GONE:
            log.info("the client left mid-stream; cancelling the edit")
            self.client_gone = True
            self._cancel.set()
            _stop(self._tasks)
            return None
        return item


def _error_event(error: BaseException, redact: Callable[[str], str]) -> bytes:
    if isinstance(error, GatewayError):
        body = error.body()
        body["error"]["message"] = redact(error.message)
    else:
        log.error("stream failed: %s", type(error).__name__)
        body = {"error": {"message": "Internal error in the gateway.",
                          "type": "server_error", "param": None, "code": None}}
    return b"data: " + json.dumps({"type": "error", **body}).encode() + b"\n\n"
