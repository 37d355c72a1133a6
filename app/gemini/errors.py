"""Read what Gemini said when it said no.

Gemini answers errors in two envelopes: the OpenAI-compatibility layer sends a JSON
*array* of one object (``[{"error": {...}}]``), the native API a plain object
(``{"error": {...}}``). A front end may also send HTML, or nothing. ``parse_error``
accepts all of them and never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_RETRY_IN_MESSAGE = re.compile(r"retry in (\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
_MAX_MESSAGE = 500
# Gemini's longest quota window is a day. A longer delay is garbled, and an endless one
# (a 400-digit number reads as infinity) would cool a key for ever and break Retry-After.
MAX_RETRY_DELAY = 86_400.0

# Reasons (google.rpc.ErrorInfo) that say the key or its project is unusable.
KEY_FAULT_REASONS = frozenset(
    {
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED",
        "API_KEY_ANDROID_APP_BLOCKED",
        "API_KEY_IOS_APP_BLOCKED",
        "SERVICE_DISABLED",
        "CONSUMER_SUSPENDED",
        "CONSUMER_INVALID",
        "BILLING_DISABLED",
    }
)
# Phrases in a 401/403 message that say the same when no reason is attached.
_KEY_FAULT_PHRASES = (
    "api key",  # "API key not valid", "...use API Key...", "API key expired"
    "reported as leaked",
    "unregistered callers",
    "suspended",
    "project has been denied",
    "denied access",
    "has not been used in project",
    "is disabled",
)


@dataclass(frozen=True)
class GeminiError:
    http_status: int
    message: str
    status: str | None = None
    reasons: frozenset[str] = field(default_factory=frozenset)
    retry_delay: float | None = None
    quota_ids: tuple[str, ...] = ()

    @property
    def is_daily_quota(self) -> bool:
        return any("perday" in quota.lower() for quota in self.quota_ids)

    @property
    def key_fault(self) -> str | None:
        """Why the key (or its project) should leave rotation, or None if it is not its fault."""
        if self.http_status == 401:
            return self.reason_text()
        if self.http_status not in (400, 403):
            return None
        for reason in sorted(self.reasons & KEY_FAULT_REASONS):
            return f"{reason}: {self.message}"
        if self.http_status == 400:
            # A 400 is the request's fault unless Gemini says the key is invalid.
            return self.message if "api key not valid" in self.message.lower() else None
        lowered = self.message.lower()
        if any(phrase in lowered for phrase in _KEY_FAULT_PHRASES):
            return self.reason_text()
        return None

    def reason_text(self) -> str:
        prefix = ", ".join(sorted(self.reasons)) or self.status or f"HTTP {self.http_status}"
        return f"{prefix}: {self.message}"


def parse_duration(value: object) -> float | None:
    """A protobuf duration such as ``"53s"`` or ``"45.837906927s"`` in seconds."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    return min(float(match.group(1)), MAX_RETRY_DELAY) if match else None


def parse_error(http_status: int, body: bytes) -> GeminiError:
    """Interpret an upstream error body of any shape."""
    error = _error_object(body)
    if error is None:
        text = "no body" if not body.strip() else "a body that is not a Gemini error"
        return GeminiError(http_status, f"Gemini answered HTTP {http_status} with {text}")

    message = error.get("message")
    message = _shortened(message) if isinstance(message, str) else None
    status = error.get("status") if isinstance(error.get("status"), str) else None
    reasons: set[str] = set()
    retry_delay: float | None = None
    quota_ids: list[str] = []
    details = error.get("details")
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("google.rpc.ErrorInfo") and isinstance(detail.get("reason"), str):
            reasons.add(detail["reason"])
        elif kind.endswith("google.rpc.RetryInfo"):
            retry_delay = parse_duration(detail.get("retryDelay"))
        elif kind.endswith("google.rpc.QuotaFailure"):
            violations = detail.get("violations")
            for violation in violations if isinstance(violations, list) else ():
                if isinstance(violation, dict) and isinstance(violation.get("quotaId"), str):
                    quota_ids.append(violation["quotaId"])
    if retry_delay is None and message:
        found = _RETRY_IN_MESSAGE.search(message)
        retry_delay = min(float(found.group(1)), MAX_RETRY_DELAY) if found else None
    return GeminiError(
        http_status=http_status,
        message=message or f"Gemini answered HTTP {http_status} ({status or 'no message'})",
        status=status,
        reasons=frozenset(reasons),
        retry_delay=retry_delay,
        quota_ids=tuple(quota_ids),
    )


def _shortened(message: str) -> str:
    """At most ``_MAX_MESSAGE`` characters, cut at whitespace. A secret Gemini echoes
    (secrets hold no whitespace) is then kept whole, for the redactor to mask, or left out
    whole: never cut to a piece that no redactor recognises."""
    if len(message) <= _MAX_MESSAGE:
        return message
    head = message[: _MAX_MESSAGE + 1]
    cut = max((i for i, ch in enumerate(head) if ch.isspace()), default=0)
    kept = head[:cut].rstrip()
    return kept + " …" if kept else ""


def _error_object(body: bytes) -> dict | None:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(document, list) and document:
        document = document[0]
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        return document["error"]
    return None
