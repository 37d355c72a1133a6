"""Images for an OpenAI request: n native ``generateContent`` calls, or the compat pass-through.

Each of the n calls is a request of its own upstream: its own concurrency slot, key
rotation and failover. Images that were made are never thrown away: when some calls fail
the answer holds the images that exist; when all fail, the most telling error is raised.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .answers import ImagesAnswer, ImagesBody
from .config import Settings
from .errors import (
    ClientDisconnected,
    ContentPolicyViolation,
    GatewayError,
    GatewayTimeout,
    InvalidRequest,
    ModelNotFound,
    NoImageMade,
    NoUsableKey,
    QueueFull,
    RateLimited,
    UpstreamRejected,
)
from .gemini.image_options import ImagePlan, plan_image
from .gemini.models import ModelNames, ModelSpec, ModelTable
from .gemini.native import NativeAnswer, add_usage, generate_body, openai_usage, read_answer
from .gemini.spool import MemoryBudget, SpoolingScanner
from .image_files import MIME_FORMATS, info_from_b64, transcode_b64
from .json_body import SpooledBody
from .upstream import UpstreamClient, UpstreamTrace
from .upstream.relay import RelayedBody
from .validation import ImageRequest, check_model_id

log = logging.getLogger("gateway.images")
# The answers in flight of a worker keep their images in memory up to this much together;
# past it they wait in unlinked temporary files: a few answers in flight cost no file
# written and read back, a hundred 8 MB ones cost disk cache, not the worker's memory.
SPOOL_MEMORY_BYTES = 64 << 20
# Model families that think without showing it and refuse thinkingConfig altogether.
NO_THOUGHTS_PREFIXES = ("gemini-2.", "gemini-1.")

# When every call failed, the error that tells the client most: its own mistakes first
# (retrying cannot help), then limits with a known wait, then upstream trouble.
_MOST_TELLING = (ContentPolicyViolation, ModelNotFound, UpstreamRejected, InvalidRequest,
                 RateLimited, NoUsableKey, NoImageMade, GatewayTimeout, QueueFull,
                 ClientDisconnected, GatewayError)


@dataclass
class Made:
    """What the n calls made: the answers with images, and the usage summed over all."""

    answers: list[NativeAnswer]
    plan: ImagePlan
    usage: dict | None

    def close(self) -> None:
        for answer in self.answers:
            answer.close()


class ImageGenerator:
    def __init__(self, settings: Settings, upstream: UpstreamClient, table: ModelTable,
                 names: ModelNames) -> None:
        self.settings = settings
        self.upstream = upstream
        self.table = table
        self.names = names
        self.spool_budget = MemoryBudget(SPOOL_MEMORY_BYTES)

    def generate(self, request: ImageRequest, trace: UpstreamTrace,
                 client_gone: Callable[[], bool] | None = None
                 ) -> ImagesBody | ImagesAnswer | RelayedBody:
        if self.settings.upstream_api == "openai":
            # Pass-through: the upstream speaks OpenAI's API and its own model names.
            return self.upstream.generate_images(request.compat_payload(request.model), trace,
                                                 client_gone=client_gone)
        made = self.make(request, [{"text": request.prompt}], trace, client_gone)
        try:
            return answer_body(made, request)
        except BaseException:
            made.close()
            raise

    def make(self, request: ImageRequest, parts: list[dict], trace: UpstreamTrace,
             client_gone: Callable[[], bool] | None = None, *,
             encode: Callable[[dict], SpooledBody] | None = None) -> Made:
        """``request.n`` native calls with ``parts`` as the user turn. With ``encode`` the
        body is written once into a file the n calls read (an edit's large images)."""
        model, plan, path, body = self.prepared(request, parts)
        encoded = encode(body) if encode is not None else None

        def one_call(call_trace: UpstreamTrace) -> NativeAnswer:
            payload = encoded.reader() if encoded is not None else body
            return self.upstream.call("POST", path, payload, read_answer, call_trace,
                                      client_gone=client_gone, sink=self._scanner)

        try:
            outcomes = fan_out(one_call, request.n, trace)
        finally:
            if encoded is not None:
                encoded.close()
        answers = [o for o in outcomes if isinstance(o, NativeAnswer)]
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if not answers:
            raise self._explained(most_telling(errors), model)
        if errors:
            log.warning("%d of %d calls failed; answering with the %d image(s) made (%s)",
                        len(errors), request.n, sum(len(a.images) for a in answers),
                        errors[0].message if isinstance(errors[0], GatewayError) else "error")
        usage = None
        for answer in answers:
            usage = add_usage(usage, openai_usage(answer.usage))
        trace.images = sum(len(a.images) for a in answers)
        return Made(answers, plan, usage)

    def prepared(self, request: ImageRequest, parts: list[dict], *, streaming: bool = False
                 ) -> tuple[str, ImagePlan, str, dict]:
        """(model, plan, path, body) of the native call for ``request``. Streaming calls ask
        for Gemini's draft images (``includeThoughts``) when the client wants partials and
        the model can show its thoughts."""
        model = check_model_id(self.names.resolve(request.model))
        spec = self.table.get(model)
        plan = plan_image(spec, size=request.size, quality=request.quality,
                          aspect_ratio=request.aspect_ratio, image_size=request.image_size)
        thoughts = streaming and request.partial_images > 0 and shows_thoughts(spec)
        body = generate_body(parts, plan, include_thoughts=thoughts)
        method = "streamGenerateContent?alt=sse" if streaming else "generateContent"
        return model, plan, f"/models/{model}:{method}", body

    def _scanner(self) -> SpoolingScanner:
        return SpoolingScanner(budget=self.spool_budget)

    def _explained(self, error: BaseException, model: str) -> BaseException:
        """A 404 that names the model, says whether it was retired, and offers the default."""
        if not isinstance(error, ModelNotFound):
            return error
        spec = self.table.get(model)
        default = self.settings.default_model
        if spec is not None and spec.retired:
            why = f"was retired ({spec.note})" if spec.note else "was retired"
            return ModelNotFound(f"The model '{model}' {why}. Use '{default}' (the gateway's "
                                 "default), or another model from GET /v1/models.")
        return ModelNotFound(f"Gemini has no image model '{model}' (it answered: "
                             f"{error.message}). The gateway's default is '{default}'; "
                             "GET /v1/models lists what is available.")


def shows_thoughts(spec: ModelSpec | None) -> bool:
    """Whether a model takes ``includeThoughts``: those with thinking levels, and the 3.x
    models that always think. Gemini 2.x refuses any thinkingConfig (a 400), and a model
    the table does not know is not risked."""
    if spec is None:
        return False
    return bool(spec.thinking_levels) or not spec.id.startswith(NO_THOUGHTS_PREFIXES)


def fan_out(call: Callable[[UpstreamTrace], object], n: int, trace: UpstreamTrace) -> list:
    """``call`` run ``n`` times at once (greenlets under gevent), each with its own trace,
    merged into ``trace``; results and exceptions in order."""
    traces = [UpstreamTrace() for _ in range(n)]
    outcomes: list = [None] * n

    def run(index: int) -> None:
        try:
            outcomes[index] = call(traces[index])
        except BaseException as exc:
            outcomes[index] = exc

    if n == 1:
        run(0)
    else:
        # Each call runs in a copy of this context, so its log lines keep the request id.
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(run, i),
                                    daemon=True) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    trace.attempts += sum(t.attempts for t in traces)
    trace.key = next((t.key for t in reversed(traces) if t.key), trace.key)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome  # a timeout or an exit: not an upstream outcome to report
    return outcomes


def most_telling(errors: list[BaseException]) -> BaseException:
    for kind in _MOST_TELLING:
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def answer_body(made: Made, request: ImageRequest) -> ImagesBody:
    """The OpenAI answer for what was made, its images streamed from their spools."""
    images = [(image, answer.text) for answer in made.answers for image in answer.images]
    first = images[0][0]
    info = info_from_b64(first.b64_head, first.b64_length)
    actual = info.format if info else MIME_FORMATS.get(first.mime_type, "jpeg")
    wanted = request.output_format or actual
    sources = []
    for image, text in images:
        if wanted != MIME_FORMATS.get(image.mime_type, actual):
            # Only here is an image decoded: the client asked for a format Gemini did not send.
            sources.append((transcode_b64(b"".join(image.b64_chunks()), wanted,
                                          request.output_compression), text))
        else:
            sources.append((image, text))
    fields = {"background": "opaque", "output_format": wanted, "quality": made.plan.quality}
    if info is not None:
        fields["size"] = info.size
    if made.usage is not None:
        fields["usage"] = made.usage
    return ImagesBody(int(time.time()), sources, fields,
                      on_close=[answer.close for answer in made.answers])
