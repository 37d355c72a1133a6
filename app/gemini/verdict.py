"""What a Gemini refusal means for the key that got it, and for the client.

``judge`` reads a non-2xx answer and says which of four things happened:

    cool     429: the key rests until ``until`` (retryDelay, or the daily reset); try another
    disable  the key or its project is unusable (invalid, leaked, blocked); try another
    failure  Gemini itself failed (5xx after urllib3's retries): a 502 for the client
    reject   the request was refused (bad argument, unknown model, region): the client's

The upstream client acts on the verdict and knows nothing of Gemini's error formats.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadGateway, GatewayError, ModelNotFound, UpstreamRejected
from .cooldown import cooldown_until
from .errors import parse_error


@dataclass(frozen=True)
class Verdict:
    action: str  # cool | disable | failure | reject
    reason: str  # for the key's record: Gemini's status or reasons, and its message
    until: float | None = None  # cool: when the key is usable again (epoch seconds)
    error: GatewayError | None = None  # failure, reject: what the client is told
    quota: str = ""  # cool: the quota ids Gemini named, for the log


def judge(status: int, body: bytes, now: float) -> Verdict:
    error = parse_error(status, body)
    if status == 429:
        return Verdict("cool", error.reason_text(), until=cooldown_until(error, now),
                       quota=", ".join(error.quota_ids) or "no quota id")
    fault = error.key_fault
    if fault is not None:
        return Verdict("disable", fault)
    if status >= 500:
        return Verdict("failure", error.reason_text(),
                       error=BadGateway(f"HTTP {status}: {error.message}"))
    if status == 404:
        return Verdict("reject", error.reason_text(), error=ModelNotFound(error.message))
    return Verdict("reject", error.reason_text(), error=UpstreamRejected(
        status, error.message, code=(error.status or "").lower() or None))
