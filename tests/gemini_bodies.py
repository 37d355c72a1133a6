"""Bodies shaped like what Gemini really sends (see shared/upstream-facts.md)."""

import json

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def images(count=1, created=1_790_000_000):
    return {"created": created, "data": [{"b64_json": PNG_B64} for _ in range(count)]}


def error(code, status, message, details=(), *, array=True):
    """The compat layer wraps the error in a JSON array; the native API does not."""
    body = {"error": {"code": code, "message": message, "status": status}}
    if details:
        body["error"]["details"] = list(details)
    return json.dumps([body] if array else body)


def rate_limited(retry_delay="53s", *, daily=False, array=True):
    details = []
    if daily:
        details.append({"@type": QUOTA_FAILURE, "violations": [
            {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]})
    if retry_delay is not None:
        details.append({"@type": RETRY_INFO, "retryDelay": retry_delay})
    return error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                 details, array=array)


def invalid_key(*, array=True):
    return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                 [{"@type": ERROR_INFO, "reason": "API_KEY_INVALID",
                   "domain": "googleapis.com"}], array=array)


def leaked_key():
    return error(403, "PERMISSION_DENIED",
                 "Your API key was reported as leaked. Please use another API key.")


def overloaded():
    return error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")


def internal():
    return error(500, "INTERNAL", "An internal error has occurred.")
