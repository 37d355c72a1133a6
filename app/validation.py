"""Check an OpenAI image request and turn it into a neutral ``ImageRequest``.

The request says what the client asked for in OpenAI's terms; the backends (native Gemini,
or an OpenAI-compatible upstream) decide what to send. Fields OpenAI defines that mean
nothing to Gemini are accepted and ignored; their names (never values) are logged at debug.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidRequest
from .gemini.image_options import QUALITIES
from .gemini.models import ALL_RATIOS, IMAGE_SIZES

MAX_IMAGES = 10
MAX_PROMPT_CHARS = 32_000
OUTPUT_FORMATS = ("png", "jpeg", "webp")
# Model names for which OpenAI answered with a URL when response_format was left out.
URL_DEFAULT_MODELS = ("dall-e-2", "dall-e-3")
# The fields the gateway reads; every other one is accepted and ignored.
UNDERSTOOD = ("model", "prompt", "n", "size", "response_format", "quality", "output_format",
              "output_compression", "background", "aspect_ratio", "image_size", "stream",
              "partial_images")
# \Z, not $: "$" also matches before a final newline, which let "1024x1024\n" through.
_SIZE = re.compile(r"^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})\Z")
# What may stand in a URL path segment: a client must not steer the call to another route.
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str  # as the client named it (or the default), before aliases
    n: int = 1
    size: tuple[int, int] | None = None  # None: auto
    quality: str | None = None
    output_format: str | None = None  # None: whatever Gemini sends
    output_compression: int | None = None
    response_format: str = "b64_json"
    stream: bool = False
    partial_images: int = 0
    aspect_ratio: str | None = None  # Google's own extra
    image_size: str | None = None  # Google's own extra
    dropped: tuple[str, ...] = ()

    def compat_payload(self, model: str) -> dict:
        """The body for an OpenAI-compatible upstream (``UPSTREAM_API=openai``)."""
        payload: dict = {"model": model, "prompt": self.prompt, "n": self.n,
                         "response_format": "b64_json"}
        if self.size is not None:
            payload["size"] = f"{self.size[0]}x{self.size[1]}"
        return payload


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
    model = parse_model(body.get("model"), default_model)
    return ImageRequest(
        prompt=prompt,
        model=model,
        n=_n(body.get("n")),
        size=_size(body.get("size")),
        quality=_choice(body, "quality", QUALITIES),
        output_format=_output_format(body.get("output_format")),
        output_compression=_compression(body.get("output_compression")),
        response_format=_response_format(body.get("response_format"), model),
        stream=_stream(body.get("stream")),
        partial_images=_partial_images(body.get("partial_images")),
        aspect_ratio=_choice(body, "aspect_ratio", ALL_RATIOS),
        image_size=_choice(body, "image_size", IMAGE_SIZES),
        dropped=_background_and_dropped(body),
    )


def parse_model(model: object, default_model: str) -> str:
    if model is None:
        return default_model
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("'model' must be a non-empty string.", param="model")
    return model.removeprefix("models/")


def check_model_id(model: str) -> str:
    """``model`` if it is safe to put in a native URL path, else ``InvalidRequest``.

    Only the native backend needs this: the model names a path segment there, and a client
    must not steer the call to another route. OpenAI-compatible upstreams take any name.
    """
    if not _MODEL.match(model):
        raise InvalidRequest(
            "'model' must be a model id of letters, digits, '.', '_' and '-' "
            "(at most 128), such as 'gemini-nano-banana-2.1'.",
            param="model", code="invalid_value")
    return model


def _n(n: object) -> int:
    if n is None:
        return 1
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_IMAGES:
        raise InvalidRequest(
            f"'n' must be an integer from 1 to {MAX_IMAGES}.", param="n", code="invalid_value"
        )
    return n


def _size(size: object) -> tuple[int, int] | None:
    if size is None or size == "auto":
        return None
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None:
        raise InvalidRequest(
            "'size' must be 'auto' or WIDTHxHEIGHT with positive integers, "
            "e.g. '1024x1024', '1536x1024' or '1024x1536'.",
            param="size",
            code="invalid_value",
        )
    return int(match.group(1)), int(match.group(2))


def _choice(body: dict, name: str, accepted: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if value not in accepted:
        raise InvalidRequest(f"'{name}' must be one of {', '.join(accepted)}.",
                             param=name, code="invalid_value")
    return value


def _output_format(value: object) -> str | None:
    if value is None:
        return None
    if value == "jpg":
        return "jpeg"
    if value in ("gif", "svg"):
        raise InvalidRequest(
            f"'output_format': '{value}' is not supported: Gemini makes raster images only. "
            "Use png, jpeg or webp.", param="output_format", code="unsupported_value")
    if value not in OUTPUT_FORMATS:
        raise InvalidRequest("'output_format' must be png, jpeg or webp.",
                             param="output_format", code="invalid_value")
    return value


def _compression(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise InvalidRequest("'output_compression' must be an integer from 0 to 100.",
                             param="output_compression", code="invalid_value")
    return value


def _response_format(value: object, model: str) -> str:
    if value is None:
        # OpenAI's own default for its DALL·E names, which LangChain's DallEAPIWrapper and
        # other DALL·E-era clients rely on (they read data[0].url); decided on the name the
        # client sent, before aliases.
        return "url" if model in URL_DEFAULT_MODELS else "b64_json"
    if value not in ("b64_json", "url"):
        raise InvalidRequest(
            "'response_format' must be 'b64_json' or 'url'.",
            param="response_format",
            code="invalid_value",
        )
    return value


def _stream(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InvalidRequest("'stream' must be true or false.", param="stream",
                         code="invalid_value")


def _partial_images(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3:
        raise InvalidRequest("'partial_images' must be an integer from 0 to 3.",
                             param="partial_images", code="invalid_value")
    return value


def _background_and_dropped(body: dict) -> tuple[str, ...]:
    background = body.get("background")
    if background == "transparent":
        raise InvalidRequest(
            "'background': 'transparent' is not supported: Gemini makes opaque images only. "
            "Use 'auto' or 'opaque'.", param="background", code="unsupported_value")
    if background not in (None, "auto", "opaque"):
        raise InvalidRequest("'background' must be auto or opaque.", param="background",
                             code="invalid_value")
    return tuple(sorted(name for name in body if name not in (*UNDERSTOOD, "background")))
