"""Around every request: its id, CORS, the access line and the request metrics."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, request

from .redaction import BodyMasker, MaskedBody
from .request_ids import HEADER, request_id_from
from .upstream import UpstreamTrace

access_log = logging.getLogger("gateway.access")
# Load balancers and Prometheus ask every few seconds: their lines would drown the rest.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
CLIENT_CLOSED = 499


def install(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> Response | None:
    g.started = time.perf_counter()
    g.request_id = request_id_from(request.headers.get(HEADER))
    g.trace = UpstreamTrace()
    g.prompt = None
    return current_app.extensions["gateway"].cors.preflight()


def _finish(response: Response) -> Response:
    gateway = current_app.extensions["gateway"]
    request_id = getattr(g, "request_id", None) or request_id_from(None)
    response.headers[HEADER] = request_id
    gateway.cors.decorate(response)
    _mask_secrets(response, gateway.settings.secrets)

    started = getattr(g, "started", time.perf_counter())
    trace = getattr(g, "trace", None) or UpstreamTrace()
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "attempts": trace.attempts,
    }
    if gateway.settings.log_prompts and g.get("prompt") is not None:
        fields["prompt"] = g.prompt
    if g.get("error") is not None:
        fields["error"] = g.error
    level = logging.DEBUG if route in QUIET_ROUTES and response.status_code < 500 \
        else logging.INFO
    delivery = g.get("delivery")  # a stream, which may lose its client mid-way

    def log_when_sent() -> None:
        # Runs when the server closes the response: the latency includes sending the body.
        seconds = time.perf_counter() - started
        # Read now: a relayed answer counts its images as they pass.
        fields["key"], fields["images"] = trace.key, trace.images
        fields["attempts"] = trace.attempts  # a stream makes its calls after the view returned
        if delivery is not None and delivery.client_gone:
            # As nginx logs it: the client closed the connection before the answer ended.
            fields["status"], fields["client_gone"] = CLIENT_CLOSED, True
        gateway.metrics.request_done(route, fields["method"], fields["status"], seconds)
        fields["latency_ms"] = round(seconds * 1000, 1)
        access_log.log(level, _access_text(fields), extra={"request_id": request_id,
                                                           "access": fields})

    response.call_on_close(log_when_sent)
    return response


def _mask_secrets(response: Response, secrets: tuple[str, ...]) -> None:
    """The last line of defence: a body (Gemini's answer, a model list, an error) that
    echoes a key or a token leaves with it masked, its length unchanged."""
    masker = BodyMasker(secrets)
    if response.is_streamed:
        response.response = MaskedBody(response.response, masker)
        return
    body = response.get_data()
    masked = masker.feed(body) + masker.finish()
    if masked != body:
        response.set_data(masked)


def _access_text(fields: dict) -> str:
    text = (f'{fields["method"]} {fields["path"]} {fields["status"]} {fields["latency_ms"]}ms '
            f'attempts={fields["attempts"]} key={fields["key"] or "-"} '
            f'images={fields["images"] if fields["images"] is not None else "-"}')
    if fields.get("client_gone"):
        text += " client_gone=true"
    if "prompt" in fields:
        text += f" prompt={fields['prompt']!r}"
    if "error" in fields:
        text += f" error={fields['error']!r}"
    return text
