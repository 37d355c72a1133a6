"""Check an OpenAI image request and turn it into what Gemini accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidRequest

FORWARDED = ("model", "prompt", "n", "size", "response_format")
MAX_IMAGES = 4
MAX_PROMPT_CHARS = 32_000
# \Z, not $: "$" also matches before a final newline, which let "1024x1024\n" through.
_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})\Z")


@dataclass(frozen=True)
class ImageRequest:
    payload: dict
    dropped: tuple[str, ...]

    @property
    def model(self) -> str:
        return self.payload["model"]

    @property
    def n(self) -> int:
        return self.payload["n"]


def parse_image_request(body: object, default_model: str) -> ImageRequest:
    """Validate an OpenAI ``images/generations`` body; raise ``InvalidRequest`` naming the param."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")

    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("'prompt' is required and must be a non-empty string.", param="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"'prompt' must be at most {MAX_PROMPT_CHARS} characters.", param="prompt"
        )

    model = body.get("model", None)
    if model is None:
        model = default_model
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("'model' must be a non-empty string.", param="model")

    n = body.get("n", None)
    if n is None:
        n = 1
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
        raise InvalidRequest(
            f"'n' must be an integer from 1 to {MAX_IMAGES}.", param="n", code="invalid_value"
        )

    size = body.get("size", None)
    if size is not None and not (isinstance(size, str) and (size == "auto" or _SIZE.match(size))):
        raise InvalidRequest(
            "'size' must be 'auto' or WIDTHxHEIGHT with positive integers, "
            "e.g. '1024x1024', '1792x1024' or '1024x1792'.",
            param="size",
            code="invalid_value",
        )

    response_format = body.get("response_format", None)
    if response_format not in (None, "b64_json", "url"):
        raise InvalidRequest(
            "'response_format' must be 'b64_json' or 'url'.",
            param="response_format",
            code="invalid_value",
        )
    if response_format == "url":
        raise InvalidRequest(
            "'response_format': 'url' is not supported: Gemini returns image bytes, not "
            "hosted URLs. Use 'b64_json'.",
            param="response_format",
            code="unsupported_value",
        )

    payload = {"model": model, "prompt": prompt, "n": n, "response_format": "b64_json"}
    if size not in (None, "auto"):
        # 'auto' is the upstream's default: leave it to Gemini.
        payload["size"] = size
    dropped = tuple(sorted(name for name in body if name not in FORWARDED))
    return ImageRequest(payload, dropped)
