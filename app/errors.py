"""The gateway's exceptions, each knowing the OpenAI-shaped error it becomes.

    GatewayError
    ├── InvalidRequest            400 invalid_request_error (bad parameter, bad JSON)
    ├── RequestTimeout            408 the body came too slowly (CLIENT_BODY_TIMEOUT)
    ├── RequestTooLarge           413 an upload over MAX_EDIT_BODY_BYTES or MAX_IMAGE_BYTES
    ├── ContentPolicyViolation    400 content_policy_violation (Gemini returned no image)
    ├── AuthenticationFailed      401 (missing or wrong client token)
    ├── UpstreamRejected          Gemini's 4xx for this request, relayed with its status
    │   └── ModelNotFound         404 model_not_found
    ├── RateLimited               429 every usable key is cooling down; Retry-After
    ├── NoUsableKey               503 every key is out of rotation
    ├── QueueFull                 503 no concurrency slot within QUEUE_TIMEOUT; Retry-After
    ├── StoreUnavailable          503 the image store cannot write or read (disk full, Redis down)
    ├── ImageNotFound             404 no stored image by that name (unknown or expired)
    ├── BadGateway                502 5xx after retries, garbage body, dropped connection
    │   ├── UpstreamTooLarge      502 body over MAX_UPSTREAM_BYTES
    │   └── NoImageMade           502 Gemini answered 200 without an image (not its filters)
    ├── GatewayTimeout            504 read timeout or REQUEST_DEADLINE passed
    └── ClientDisconnected        499 the client left before Gemini was called

A single Flask error handler turns any of them into
``{"error": {"message", "type", "param", "code"}}``, with the headers the OpenAI SDKs act
on: ``Retry-After`` and ``retry-after-ms`` when a wait is known, and ``x-should-retry:
false`` where a retry cannot help or would pay for another image.
"""

from __future__ import annotations

import math

# The OpenAI SDKs honour a Retry-After of up to a minute; past it they retry after their own
# short backoff, which only spends the client's retries against keys that are still cooling.
MAX_SDK_WAIT = 60.0


class GatewayError(Exception):
    status = 500
    error_type = "server_error"
    code: str | None = None
    # None: the SDK's own rule (retry 408, 409, 429, 5xx); False: tell it not to.
    should_retry: bool | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.retry_after = retry_after

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after)))
            headers["retry-after-ms"] = str(max(1, math.ceil(self.retry_after * 1000)))
        if self.should_retry is False or (
                self.retry_after is not None and self.retry_after > MAX_SDK_WAIT):
            headers["x-should-retry"] = "false"
        return headers


class InvalidRequest(GatewayError):
    status = 400
    error_type = "invalid_request_error"


class RequestTimeout(GatewayError):
    """The client sent its body too slowly (CLIENT_BODY_TIMEOUT between two reads)."""

    status = 408
    error_type = "invalid_request_error"
    code = "request_timeout"
    # No "Connection: close" here: gunicorn drops hop-by-hop headers an app sets. It
    # closes the connection itself when the rest of the body does not come.


class RequestTooLarge(GatewayError):
    """An edit's body or one of its images is over its limit; the message names the limit."""

    status = 413
    error_type = "invalid_request_error"
    code = "request_too_large"
    should_retry = False

    def headers(self) -> dict[str, str]:
        # The rest of a large body may still be coming: do not read it to reuse the
        # connection.
        return {**super().headers(), "Connection": "close"}


class ContentPolicyViolation(GatewayError):
    status = 400
    error_type = "invalid_request_error"
    code = "content_policy_violation"
    should_retry = False


class AuthenticationFailed(GatewayError):
    status = 401
    error_type = "invalid_request_error"
    code = "invalid_api_key"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class UpstreamRejected(GatewayError):
    """Gemini refused the request itself (not the key): the client's to fix."""

    error_type = "invalid_request_error"

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class ModelNotFound(UpstreamRejected):
    def __init__(self, message: str) -> None:
        super().__init__(404, message, code="model_not_found")


class RateLimited(GatewayError):
    status = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"


class NoUsableKey(GatewayError):
    status = 503
    error_type = "server_error"
    code = "no_usable_key"
    should_retry = False  # only the operator can fix it


class QueueFull(GatewayError):
    status = 503
    error_type = "server_error"
    code = "server_busy"


class StoreUnavailable(GatewayError):
    """The image store failed: no answer may point at an image that was not stored."""

    status = 503
    error_type = "server_error"
    code = "image_store_unavailable"


class ImageNotFound(GatewayError):
    status = 404
    error_type = "invalid_request_error"
    code = "image_not_found"


class BadGateway(GatewayError):
    status = 502
    error_type = "upstream_error"
    code = "bad_gateway"


class UpstreamTooLarge(BadGateway):
    code = "upstream_response_too_large"


class NoImageMade(BadGateway):
    """Gemini answered 200 without an image, for a reason that is not its filters."""

    code = "no_image_generated"
    should_retry = False  # each try is billed; the client decides whether to pay again


class ClientDisconnected(GatewayError):
    """The client closed its connection before the gateway called Gemini (nginx's 499)."""

    status = 499
    error_type = "invalid_request_error"
    code = "client_closed_request"


class GatewayTimeout(GatewayError):
    status = 504
    error_type = "upstream_error"
    code = "upstream_timeout"
    # The request reached Gemini, which may still be generating (and billing) the image:
    # the SDK's automatic retries would start a second and a third one.
    should_retry = False
