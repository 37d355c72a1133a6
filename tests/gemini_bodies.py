"""Bodies shaped like what Gemini really sends (see shared/upstream-facts.md)."""

import base64
import functools
import io
import json

from PIL import Image

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
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


# --- The native API (generateContent) ------------------------------------------------------
# Answers are dicts (like images() above); errors are JSON text of one plain object, never
# the compat layer's array.

IMAGE_TOKENS = {"1K": 1120, "2K": 1680, "4K": 2520}
NOT_FOUND_HINT = ("Call ListModels to see the list of available models and their supported "
                  "methods.")


@functools.lru_cache(maxsize=32)
def jpeg_bytes(width=8, height=8, colour=(200, 120, 40)):
    """A real JPEG of the given size, made once."""
    return _encoded("JPEG", width, height, colour)


@functools.lru_cache(maxsize=32)
def png_bytes(width=8, height=8, colour=(40, 120, 200)):
    """A real PNG of the given size, made once."""
    return _encoded("PNG", width, height, colour)


def jpeg_b64(width=8, height=8):
    return base64.b64encode(jpeg_bytes(width, height)).decode("ascii")


def png_b64(width=8, height=8):
    return base64.b64encode(png_bytes(width, height)).decode("ascii")


def _encoded(image_format, width, height, colour):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, image_format)
    return out.getvalue()


def native_usage(prompt_tokens=12, images=1, tier="1K", thoughts=264, text_tokens=0,
                 input_image_tokens=0):
    """``usageMetadata`` as Gemini counts it: totalTokenCount includes the thoughts."""
    image_tokens = IMAGE_TOKENS[tier] * images
    output = [{"modality": "IMAGE", "tokenCount": image_tokens}] if images else []
    if text_tokens:
        output.append({"modality": "TEXT", "tokenCount": text_tokens})
    prompt = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    if input_image_tokens:
        prompt.append({"modality": "IMAGE", "tokenCount": input_image_tokens})
    prompt_total = prompt_tokens + input_image_tokens
    candidates = image_tokens + text_tokens
    usage = {"promptTokenCount": prompt_total, "candidatesTokenCount": candidates,
             "candidatesTokensDetails": output, "promptTokensDetails": prompt,
             "totalTokenCount": prompt_total + candidates + thoughts}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


def native_image_answer(images=None, thought_images=0, thought_text="Planning the composition…",
                        text=None, usage=None, finish="STOP", model="gemini-nano-banana-2.1"):
    """A 200 from generateContent: thought parts (to drop), optional text, the images.

    ``images`` is a list of ``(mime_type, b64)``; by default one small real JPEG.
    """
    if images is None:
        images = [("image/jpeg", jpeg_b64())]
    parts = []
    if thought_text is not None:
        parts.append({"text": thought_text, "thought": True})
    parts += [{"inlineData": {"mimeType": "image/jpeg", "data": jpeg_b64(4, 4)}, "thought": True}
              for _ in range(thought_images)]
    if text is not None:
        parts.append({"text": text})
    parts += [{"inlineData": {"mimeType": mime, "data": data}, "thoughtSignature": "c2lnbmF0dXJl"}
              for mime, data in images]
    candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate],
            "usageMetadata": usage or native_usage(images=len(images),
                                                   thoughts=264 + 258 * thought_images),
            "modelVersion": model, "responseId": "dGVzdC1yZXNwb25zZS1pZA"}


def prompt_blocked(reason="SAFETY", model="gemini-nano-banana-2.1"):
    """A 200 with no candidates: Gemini refused the prompt itself."""
    return {"promptFeedback": {"blockReason": reason},
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12,
                              "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}]},
            "modelVersion": model, "responseId": "YmxvY2tlZC1wcm9tcHQ"}


def finished_without_image(reason="IMAGE_SAFETY", message=None, text=None,
                           model="gemini-nano-banana-2.1"):
    """A 200 whose candidate carries no image: blocked output (IMAGE_SAFETY…), NO_IMAGE,
    or ``STOP`` with text only (pass ``text``)."""
    candidate = {"finishReason": reason, "index": 0}
    if text is not None:
        candidate["content"] = {"role": "model", "parts": [{"text": text}]}
    if message is not None:
        candidate["finishMessage"] = message
    output = [{"modality": "TEXT", "tokenCount": 9}] if text else []
    return {"candidates": [candidate],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 9 if text else 0,
                              "candidatesTokensDetails": output, "totalTokenCount": 21 if text
                              else 12},
            "modelVersion": model, "responseId": "bm8taW1hZ2UtaGVyZQ"}


def model_not_found(model, method="generateContent"):
    return error(404, "NOT_FOUND",
                 f"models/{model} is not found for API version v1beta, or is not supported for "
                 f"{method}. {NOT_FOUND_HINT}", array=False)


def bad_aspect_ratio(accepted=("1:1", "1:4", "1:8", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5",
                               "5:4", "8:1", "9:16", "16:9", "21:9")):
    listed = ", ".join(f"'{ratio}'" for ratio in accepted)
    return error(400, "INVALID_ARGUMENT",
                 "* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
                 f"aspect_ratio must be one of {listed}\n", array=False)


def multiple_candidates(model="gemini-nano-banana-2.1"):
    return error(400, "INVALID_ARGUMENT", f"Multiple candidates is not enabled for models/{model}",
                 array=False)


def unknown_field(name, where="generation_config"):
    text = (f'Invalid JSON payload received. Unknown name "{name}" at \'{where}\': '
            "Cannot find field.")
    return error(400, "INVALID_ARGUMENT", text, [
        {"@type": BAD_REQUEST, "fieldViolations": [{"field": where, "description": text}]}],
        array=False)


def suspended_key(key):
    """A 403 whose message quotes the key itself: the gateway must never pass it on."""
    return error(403, "PERMISSION_DENIED", f"Consumer 'api_key:{key}' has been suspended.",
                 [{"@type": ERROR_INFO, "reason": "CONSUMER_SUSPENDED",
                   "domain": "googleapis.com",
                   "metadata": {"consumer": f"projects/api_key:{key}",
                                "service": "generativelanguage.googleapis.com"}}], array=False)


def native_models_page(ids, next_token=None):
    """One page of ``GET {root}/models``; names carry the ``models/`` prefix."""
    page = {"models": [
        {"name": f"models/{model_id}", "version": "001", "displayName": model_id,
         "supportedGenerationMethods": (["embedContent"] if "embedding" in model_id
                                        else ["generateContent", "countTokens"])}
        for model_id in ids]}
    if next_token:
        page["nextPageToken"] = next_token
    return page


def native_sse(answer):
    """``answer`` as ``streamGenerateContent?alt=sse`` sends it: thought parts one chunk each,
    then the rest of the parts (the whole final image) in one chunk, then finish and usage."""
    candidate = answer["candidates"][0]
    parts = candidate["content"]["parts"]
    common = {"modelVersion": answer["modelVersion"], "responseId": answer["responseId"]}
    thoughts = [part for part in parts if part.get("thought")]
    rest = [part for part in parts if not part.get("thought")]
    chunks = [{"candidates": [{"content": {"role": "model", "parts": [part]}, "index": 0}],
               **common} for part in thoughts]
    chunks.append({"candidates": [{"content": {"role": "model", "parts": rest}, "index": 0}],
                   **common})
    chunks.append({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]},
                                   "finishReason": candidate.get("finishReason", "STOP"),
                                   "index": 0}],
                   "usageMetadata": answer["usageMetadata"], **common})
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n" for chunk in chunks)
