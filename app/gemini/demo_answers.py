"""What the demo upstream answers: ``generateContent`` bodies, their SSE form, model pages.

Shapes follow upstream-facts.md §2 and §4: thought parts before the final image (to be
dropped), a ``thoughtSignature`` on the final image, ``usageMetadata`` with Gemini's image
token counts, and streams whose final image arrives whole in one chunk.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from .demo_pictures import picture, pixel_size
from .demo_rules import DemoRequest, invalid
from .models import ModelSpec, ModelTable

IMAGE_TOKENS = {"512": 560, "1K": 1120, "2K": 1680, "4K": 2520}
INPUT_IMAGE_TOKENS = 560
DRAFT_TOKENS = 258
DRAFT_SIDE = 256
MAX_PAGE_SIZE = 3  # smaller than any client asks for, so paging is always exercised
# Models that are not image models, so that a client's filtering has something to filter.
OTHER_MODELS = (
    ("gemini-2.5-flash", ["generateContent", "countTokens", "createCachedContent",
                          "batchGenerateContent"]),
    ("gemini-embedding-001", ["embedContent", "countTextTokens", "countTokens",
                              "asyncBatchEmbedContent"]),
    ("text-embedding-004", ["embedContent"]),
)


def generate(request: DemoRequest) -> list[dict]:
    """The answer as stream chunks: thoughts, the final image, then usage and finish."""
    parts_thought = [{"text": _thought_text(request), "thought": True}]
    if request.include_thoughts:
        for index in range(_draft_count(request)):
            parts_thought.append({"inlineData": {"mimeType": "image/jpeg",
                                                 "data": _draft(request, index)},
                                  "thought": True})
    parts_final: list[dict] = []
    if "TEXT" in request.modalities:
        parts_final.append({"text": f"Here is your picture: {request.prompt}"})
    if "IMAGE" in request.modalities:
        parts_final.append({"inlineData": {"mimeType": "image/jpeg", "data": _final(request)},
                            "thoughtSignature": _signature(request)})
    common = {"modelVersion": request.model, "responseId": secrets.token_urlsafe(16)}
    chunks = [{"candidates": [_candidate([part])], **common} for part in parts_thought]
    chunks.append({"candidates": [_candidate(parts_final)], **common})
    chunks.append({"candidates": [{**_candidate([{"text": ""}]), "finishReason": "STOP"}],
                   "usageMetadata": usage(request, len(parts_thought) - 1), **common})
    return chunks


def merged(chunks: list[dict]) -> dict:
    """The non-streamed answer: every chunk's parts in one candidate."""
    parts = [part for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]
             if part != {"text": ""}]
    last = chunks[-1]
    return {"candidates": [{**_candidate(parts), "finishReason": "STOP"}],
            "usageMetadata": last["usageMetadata"], "modelVersion": last["modelVersion"],
            "responseId": last["responseId"]}


def sse(chunks: list[dict]) -> bytes:
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in chunks)


def usage(request: DemoRequest, drafts: int) -> dict:
    text_tokens = _tokens(request.prompt)
    image_inputs = len(request.inputs) * INPUT_IMAGE_TOKENS
    prompt_details = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_inputs:
        prompt_details.append({"modality": "IMAGE", "tokenCount": image_inputs})
    output_details = []
    if "IMAGE" in request.modalities:
        output_details.append({"modality": "IMAGE", "tokenCount": IMAGE_TOKENS[request.tier]})
    if "TEXT" in request.modalities:
        output_details.append({"modality": "TEXT",
                               "tokenCount": _tokens(f"Here is your picture: {request.prompt}")})
    candidates = sum(detail["tokenCount"] for detail in output_details)
    thoughts = _tokens(_thought_text(request)) + drafts * DRAFT_TOKENS
    prompt = text_tokens + image_inputs
    return {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
            "totalTokenCount": prompt + candidates + thoughts, "thoughtsTokenCount": thoughts,
            "promptTokensDetails": prompt_details, "candidatesTokensDetails": output_details}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _candidate(parts: list[dict]) -> dict:
    return {"content": {"role": "model", "parts": parts}, "index": 0}


def _thought_text(request: DemoRequest) -> str:
    return (f"**Planning the picture**\n\nA {request.ratio} composition at {request.tier} "
            f"showing: {request.prompt[:200]}")


def _draft_count(request: DemoRequest) -> int:
    """One or two drafts, as Gemini 3 models send; the same prompt always gets the same."""
    return 1 + hashlib.sha256(request.prompt.encode("utf-8", "surrogatepass")).digest()[0] % 2


def _base(request: DemoRequest):
    return request.inputs[0].image if request.inputs else None


def _label(request: DemoRequest) -> str:
    if request.inputs and request.inputs[0].uri:
        return f"{request.prompt} [{request.inputs[0].uri}]"
    return request.prompt


def _final(request: DemoRequest) -> str:
    size = pixel_size(request.ratio, request.tier)
    caption = f"demo · {request.model} · {request.ratio} · {request.tier}"
    return _b64(picture(_label(request), size, _base(request), caption))


def _draft(request: DemoRequest, index: int) -> str:
    width, height = pixel_size(request.ratio, "1K")
    scale = DRAFT_SIDE / max(width, height)
    size = (max(16, int(width * scale)), max(16, int(height * scale)))
    return _b64(picture(f"draft {index + 1}: {_label(request)}", size, _base(request),
                        quality=60))


def _signature(request: DemoRequest) -> str:
    return _b64(hashlib.sha256(f"{request.model}|{request.prompt}".encode()).digest())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def model_entry(model_id: str, methods: list[str], spec: ModelSpec | None = None) -> dict:
    entry = {"name": f"models/{model_id}", "version": "001",
             "displayName": model_id.replace("-", " ").title(),
             "description": (spec.note or "An image model.") if spec else "Not an image model.",
             "inputTokenLimit": 65536 if spec else 1048576,
             "outputTokenLimit": 32768 if spec else 65536,
             "supportedGenerationMethods": methods}
    if spec and spec.thinking_levels:
        entry["thinking"] = True
    return entry


def all_models(table: ModelTable) -> list[dict]:
    image = [model_entry(spec.id, ["generateContent", "countTokens", "batchGenerateContent"],
                         spec) for spec in table if not spec.retired]
    return image + [model_entry(model_id, methods) for model_id, methods in OTHER_MODELS]


def models_page(table: ModelTable, page_size: str | None, page_token: str | None) -> dict:
    """One page of ``GET /models``; the token is the offset, opaque to clients."""
    try:
        size = 50 if page_size is None else int(page_size)
        start = int(base64.urlsafe_b64decode(page_token or "MA==").decode())
    except (ValueError, UnicodeDecodeError):
        raise invalid("Invalid value for page_size or page_token.") from None
    if size < 0 or start < 0:
        raise invalid("Invalid value for page_size or page_token.")
    models = all_models(table)
    end = start + min(size or 50, MAX_PAGE_SIZE)
    page: dict = {"models": models[start:end]}
    if end < len(models):
        page["nextPageToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return page
