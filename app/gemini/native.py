"""Gemini's native ``generateContent``: the request body, and what a 200 answer holds.

Pure functions over dicts and the spooled answer: no HTTP here. An answer with images keeps
them as spans of the spool (base64 never decoded); an answer without one says why, as an
error the client can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import BadGateway, ContentPolicyViolation, NoImageMade
from .image_options import ImagePlan
from .spool import Span, SpoolingScanner

# finishReason / blockReason values that mean Gemini's filters refused the prompt or result.
BLOCKED_REASONS = frozenset({
    "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "OTHER_BLOCK",
})
MAX_EXCERPT = 200


@dataclass
class ImageData:
    """One image of an answer: base64 held in the spool (or, when tiny, in memory)."""

    mime_type: str
    span: Span | None = None
    inline: bytes | None = None

    @property
    def b64_length(self) -> int:
        return self.span.length if self.span is not None else len(self.inline or b"")

    def b64_chunks(self):
        if self.span is not None:
            yield from self.span.chunks()
        elif self.inline:
            yield self.inline

    def b64_head(self, size: int) -> bytes:
        if self.span is not None:
            return self.span.head(size)
        return (self.inline or b"")[:size]


@dataclass
class NativeAnswer:
    """What one ``generateContent`` call made."""

    images: list[ImageData]
    drafts: list[ImageData]  # thought images, in order: partial images for streaming
    text: str  # the non-thought text parts: the natural revised_prompt
    usage: dict  # usageMetadata as Gemini sent it
    scanner: SpoolingScanner = field(repr=False)
    model_version: str | None = None

    def close(self) -> None:
        self.scanner.close()


def generate_body(parts: list[dict], plan: ImagePlan, *, include_thoughts: bool = False) -> dict:
    """The ``generateContent`` request: one user turn, images only, the plan's config."""
    config: dict = {"responseModalities": ["IMAGE"]}
    image_config = {}
    if plan.aspect_ratio:
        image_config["aspectRatio"] = plan.aspect_ratio
    if plan.image_size:
        image_config["imageSize"] = plan.image_size
    if image_config:
        config["imageConfig"] = image_config
    thinking = {}
    if plan.thinking_level:
        thinking["thinkingLevel"] = plan.thinking_level
    if include_thoughts:
        thinking["includeThoughts"] = True
    if thinking:
        config["thinkingConfig"] = thinking
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def read_answer(scanner: SpoolingScanner) -> NativeAnswer:
    """The images of a 200 answer, or the error that says why there are none.

    Raises ``ContentPolicyViolation`` when Gemini's filters blocked the prompt or the
    result, ``NoImageMade`` for any other image-less answer, ``BadGateway`` for a body that
    is not a Gemini answer.
    """
    document = scanner.document()
    if not isinstance(document, dict):
        raise BadGateway("Gemini answered 200 with a body that is not a generateContent answer.")
    feedback = document.get("promptFeedback")
    block = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if isinstance(block, str) and block:
        raise ContentPolicyViolation(
            f"Gemini blocked the prompt ({block}). Rephrase the prompt and try again.")
    candidates = document.get("candidates")
    candidate = candidates[0] if isinstance(candidates, list) and candidates else None
    if not isinstance(candidate, dict):
        raise NoImageMade("Gemini answered without a candidate and without saying why.")
    images, drafts, texts = [], [], []
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, dict) else None
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        thought = part.get("thought") is True
        image = _image(scanner, part.get("inlineData"))
        if image is not None:
            (drafts if thought else images).append(image)
        elif not thought and isinstance(part.get("text"), str):
            texts.append(part["text"])
    text = " ".join(t.strip() for t in texts if t.strip())
    if not images:
        _explain_missing_image(candidate, text)
    usage = document.get("usageMetadata")
    version = document.get("modelVersion")
    return NativeAnswer(images, drafts, text, usage if isinstance(usage, dict) else {},
                        scanner, version if isinstance(version, str) else None)


def _image(scanner: SpoolingScanner, inline: object) -> ImageData | None:
    if not isinstance(inline, dict):
        return None
    mime = inline.get("mimeType")
    if not isinstance(mime, str) or not mime.startswith("image/"):
        return None
    data = inline.get("data")
    span = scanner.span(data)
    if span is not None:
        return ImageData(mime, span=span)
    if isinstance(data, str) and data:
        return ImageData(mime, inline=data.encode("ascii", "replace"))
    return None


def _explain_missing_image(candidate: dict, text: str) -> None:
    reason = candidate.get("finishReason")
    reason = reason if isinstance(reason, str) and reason else "unknown"
    message = candidate.get("finishMessage")
    said = f": {_excerpt(message)}" if isinstance(message, str) and message.strip() else ""
    if reason in BLOCKED_REASONS:
        raise ContentPolicyViolation(
            f"Gemini's filters blocked the image ({reason}){said}. Rephrase the prompt and "
            "try again.")
    excerpt = f' It said: "{_excerpt(text)}"' if text else ""
    raise NoImageMade(f"Gemini made no image (finishReason {reason}){said}.{excerpt}")


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT].rstrip() + "…"


def openai_usage(metadata: dict) -> dict:
    """``usageMetadata`` in OpenAI's shape; thinking tokens count as output."""
    def count(name: str) -> int:
        value = metadata.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def by_modality(name: str) -> dict[str, int]:
        details = metadata.get(name)
        totals: dict[str, int] = {}
        for item in details if isinstance(details, list) else ():
            if isinstance(item, dict) and isinstance(item.get("tokenCount"), int):
                modality = str(item.get("modality", "")).upper()
                totals[modality] = totals.get(modality, 0) + item["tokenCount"]
        return totals

    prompt = count("promptTokenCount")
    output = count("candidatesTokenCount") + count("thoughtsTokenCount")
    prompt_detail = by_modality("promptTokensDetails")
    output_images = by_modality("candidatesTokensDetails").get("IMAGE", 0)
    prompt_images = prompt_detail.get("IMAGE", 0)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"image_tokens": prompt_images,
                                 "text_tokens": max(0, prompt - prompt_images)},
        "output_tokens": output,
        "output_tokens_details": {"image_tokens": output_images,
                                  "text_tokens": max(0, output - output_images)},
        "total_tokens": count("totalTokenCount") or prompt + output,
    }


def add_usage(total: dict | None, more: dict) -> dict:
    """Two OpenAI usage dicts summed, field by field (for the n calls of one request)."""
    if total is None:
        return more
    summed = {}
    for name, value in total.items():
        other = more.get(name)
        summed[name] = add_usage(value, other) if isinstance(value, dict) else value + other
    return summed


def models_page(body: bytes) -> tuple[list[dict], str | None]:
    """One page of ``GET {root}/models``: ``[{"id", "methods"}]`` and the next page's token."""
    import json

    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadGateway("Gemini answered 200 with a model list that is not JSON.") from None
    if not isinstance(document, dict):
        raise BadGateway("Gemini answered 200 without a list of models.")
    models = []
    listed = document.get("models", [])
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            methods = item.get("supportedGenerationMethods")
            models.append({"id": item["name"].removeprefix("models/"),
                           "methods": methods if isinstance(methods, list) else []})
    token = document.get("nextPageToken")
    return models, token if isinstance(token, str) and token else None
