"""Deliver the images of a request the way its client asked: ``b64_json`` in the JSON
answer, ``url`` to the image store, or ``stream: true`` as server-sent events.

One seam for every images route (generations, edits): a view parses its request, builds
the user turn's parts, and returns ``deliver(request, parts, kind)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Response, current_app, g, jsonify, request

from .auth import Client
from .client_socket import disconnect_check
from .generation import Made, answer_body
from .image_pieces import deliverable
from .store import decoded
from .streaming import ImageStream, MadeStream
from .upstream import UpstreamTrace
from .validation import ImageRequest

FILES_PATH = "/v1/images/files/"
SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # nginx buffers proxied answers unless told not to; a buffered stream is no stream.
    "X-Accel-Buffering": "no",
}


def deliver(image_request: ImageRequest, parts: list[dict] | None,
            kind: str = "image_generation", *, caller: Client | None = None,
            make: Callable[[UpstreamTrace, Callable[[], bool]], Made] | None = None
            ) -> Response:
    """The response for ``image_request`` whose user turn is ``parts``; ``kind`` names the
    stream's events (``image_generation`` or ``image_edit``). ``make(trace, client_gone)``
    replaces the plain generation where the images need more (an edit's spooled body and
    mask): its stream then sends no partial images. ``caller``'s usage (images and Gemini's
    tokens) is recorded for CLIENT_IMAGE_QUOTA and /admin/usage."""
    gateway = current_app.extensions["gateway"]
    client_gone = disconnect_check(request.environ)
    trace = g.trace

    def record(images: int, usage: dict | None) -> None:
        if caller is not None:
            gateway.clients.record(caller, images, usage, key=trace.key)

    if image_request.stream:
        if make is None:
            stream = ImageStream(gateway.images, image_request, parts, kind, g.trace,
                                 gateway.redact, client_gone)
        else:
            stream = MadeStream(make, image_request, kind, g.trace, gateway.redact,
                                gateway.settings.stream_keepalive, client_gone)
        g.delivery = stream  # the access line reads whether the client stayed
        stream.prime()
        response = Response(stream, content_type="text/event-stream", headers=SSE_HEADERS)
        # Counted when the stream ends: what was sent, also if the client left.
        response.call_on_close(lambda: record(trace.images or 0, stream.usage))
        return response
    if make is not None:
        made = make(g.trace, client_gone)
    else:
        made = gateway.images.make(image_request, parts, g.trace, client_gone)
    if image_request.response_format == "url":
        try:
            answer = _url_answer(made, image_request, gateway)
        finally:
            made.close()
        record(len(answer["data"]), answer.get("usage"))
        return jsonify(answer)
    try:
        body = answer_body(made, image_request)
    except BaseException:
        made.close()
        raise
    # Not direct_passthrough: close() must run (it frees the spools, writes the access line).
    response = Response(body, content_type="application/json")
    response.content_length = body.content_length
    record(body.images, body.usage)
    return response


def _url_answer(made, image_request: ImageRequest, gateway) -> dict:
    base = gateway.settings.public_base_url or request.root_url.rstrip("/")
    data, first = [], None
    for answer in made.answers:
        for image in answer.images:
            ready = deliverable(image, image_request)
            first = first or ready
            # Stored before the answer is written: a failure is a 503, never a dead link.
            name = gateway.store.put(decoded(ready.b64_chunks()), ready.format)
            item = {"url": base + FILES_PATH + name}
            if answer.text:
                item["revised_prompt"] = answer.text
            data.append(item)
    body: dict = {"created": int(time.time()), "data": data, "background": "opaque",
                  "output_format": first.format if first else None,
                  "quality": made.plan.quality}
    if first and first.size:
        body["size"] = first.size
    if made.usage is not None:
        body["usage"] = made.usage
    return body
