"""What the demo upstream accepts: a ``generateContent`` body checked the way Gemini checks it.

Every refusal carries Gemini's status and, where upstream-facts.md quotes it, Gemini's text,
so the gateway meets in the demo the same 400s and 404s it meets in production. Field names
are accepted in camelCase and snake_case, as Google's JSON parser does.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from PIL import Image

from .demo_pictures import nearest_ratio, open_input
from .models import THINKING_LEVELS, ModelSpec, ModelTable

BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
REQUEST_FIELDS = {"contents", "model", "tools", "toolConfig", "safetySettings",
                  "systemInstruction", "generationConfig", "cachedContent"}
GENERATION_FIELDS = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
                     "responseModalities", "candidateCount", "maxOutputTokens", "temperature",
                     "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
                     "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
                     "thinkingConfig", "imageConfig", "mediaResolution"}
# personGeneration, outputMimeType and compression are Vertex-only: unknown on this API.
IMAGE_FIELDS = {"aspectRatio", "imageSize"}
THINKING_FIELDS = {"includeThoughts", "thinkingBudget", "thinkingLevel"}
CONTENT_FIELDS = {"role", "parts"}
PART_FIELDS = {"text", "inlineData", "fileData", "thought", "thoughtSignature", "functionCall",
               "functionResponse", "executableCode", "codeExecutionResult", "videoMetadata",
               "mediaResolution"}
BLOB_FIELDS = {"mimeType", "data"}
FILE_FIELDS = {"mimeType", "fileUri"}
MODALITIES = ("TEXT", "IMAGE", "AUDIO")
INPUT_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
ENUM_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta"


class Refusal(Exception):
    """An error Gemini would answer, as ``{"error": {"code", "message", "status"}}``."""

    def __init__(self, code: int, status: str, message: str, details: list | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.details = code, status, message, details

    def document(self) -> dict:
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(message: str, details: list | None = None) -> Refusal:
    return Refusal(400, "INVALID_ARGUMENT", message, details)


def not_found(model: str, method: str) -> Refusal:
    return Refusal(404, "NOT_FOUND",
                   f"models/{model} is not found for API version v1beta, or is not supported "
                   f"for {method}. Call ListModels to see the list of available models and "
                   "their supported methods.")


@dataclass
class InputImage:
    mime_type: str
    image: Image.Image | None = None  # decoded inline data
    uri: str | None = None  # a fileData URI, never fetched


@dataclass
class DemoRequest:
    model: str
    spec: ModelSpec
    prompt: str
    inputs: list[InputImage] = field(default_factory=list)
    ratio: str = "1:1"
    tier: str = "1K"
    include_thoughts: bool = False
    modalities: tuple[str, ...] = ("TEXT", "IMAGE")


def read_request(model: str, body: object, table: ModelTable, method: str) -> DemoRequest:
    """The request, or the Refusal Gemini would answer."""
    spec = table.get(model)
    if spec is None or spec.retired:
        raise not_found(model, method)
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    _known_fields(body, REQUEST_FIELDS, None)
    config = _object(body.get("generationConfig", body.get("generation_config")),
                     "generation_config")
    _known_fields(config, GENERATION_FIELDS, "generation_config")
    image_config = _object(_get(config, "imageConfig"), "generation_config.image_config")
    _known_fields(image_config, IMAGE_FIELDS, "generation_config.image_config")
    thinking = _get(config, "thinkingConfig")
    thinking_config = _object(thinking, "generation_config.thinking_config")
    _known_fields(thinking_config, THINKING_FIELDS, "generation_config.thinking_config")

    candidates = _get(config, "candidateCount")
    if candidates is not None:
        if isinstance(candidates, bool) or not isinstance(candidates, int):
            raise invalid("Invalid value at 'generation_config.candidate_count' (TYPE_INT32), "
                          f"{_show(candidates)}")
        if candidates > 1:
            raise invalid(f"Multiple candidates is not enabled for models/{model}")
    modalities = _modalities(_get(config, "responseModalities"))
    include_thoughts = _thinking(model, spec, thinking, thinking_config)
    prompt, inputs = _contents(body.get("contents"), spec)
    ratio = _aspect_ratio(_get(image_config, "aspectRatio"), spec, inputs)
    tier = _image_size(model, _get(image_config, "imageSize"), spec)
    return DemoRequest(model, spec, prompt, inputs, ratio, tier, include_thoughts, modalities)


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), name)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def _get(document: dict, name: str):
    value = document.get(name)
    return document.get(_snake(name)) if value is None else value


def _known_fields(document: dict, allowed: set[str], where: str | None) -> None:
    unknown = [name for name in document if _camel(name) not in allowed]
    if not unknown:
        return
    at = f" at '{where}'" if where else ""
    texts = [f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'
             for name in unknown]
    raise invalid("\n".join(texts), [{"@type": BAD_REQUEST, "fieldViolations": [
        {"field": where or "", "description": text} for text in texts]}])


def _object(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid value at '{where}', {_show(value)}")
    return value


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower()


def _modalities(value: object) -> tuple[str, ...]:
    if value is None:
        return ("TEXT", "IMAGE")
    if not isinstance(value, list):
        raise invalid(f"Invalid value at 'generation_config.response_modalities', {_show(value)}")
    for index, item in enumerate(value):
        if item not in MODALITIES:
            raise invalid(f"Invalid value at 'generation_config.response_modalities[{index}]' "
                          f"({ENUM_TYPE}.GenerationConfig.Modality), {_show(item)}")
    if "AUDIO" in value:
        raise invalid("Model does not support the requested response modalities: audio")
    return tuple(value) or ("TEXT", "IMAGE")


def _thinking(model: str, spec: ModelSpec, given: object, config: dict) -> bool:
    if given is None:
        return False
    if thinking_refused(model):
        raise invalid(f"Thinking is not enabled for models/{model}")
    level = _get(config, "thinkingLevel")
    if level is not None:
        if level not in THINKING_LEVELS:
            raise invalid("Invalid value at 'generation_config.thinking_config.thinking_level' "
                          f"({ENUM_TYPE}.ThinkingConfig.ThinkingLevel), {_show(level)}")
        if not spec.thinking_levels:
            raise invalid(f"Thinking level is not supported for models/{model}: its thinking "
                          "cannot be controlled.")
        if level not in spec.thinking_levels:
            accepted = ", ".join(f"'{name}'" for name in spec.thinking_levels)
            raise invalid("* GenerateContentRequest.generation_config.thinking_config."
                          f"thinking_level: thinking_level must be one of {accepted}\n")
    return _get(config, "includeThoughts") is True


def thinking_refused(model: str) -> bool:
    """Gemini 2.5's image model has no thinking at all: any thinkingConfig is a 400."""
    return model.startswith("gemini-2.5-flash-image")


def _contents(contents: object, spec: ModelSpec) -> tuple[str, list[InputImage]]:
    if not contents:
        raise invalid("* GenerateContentRequest.contents: contents is not specified\n")
    if not isinstance(contents, list):
        raise invalid(f"Invalid value at 'contents', {_show(contents)}")
    texts: list[str] = []
    inputs: list[InputImage] = []
    for turn_index, turn in enumerate(contents):
        where = f"contents[{turn_index}]"
        turn = _object(turn, where)
        _known_fields(turn, CONTENT_FIELDS, where)
        role = turn.get("role", "user")
        if role not in ("user", "model"):
            raise invalid("Please use a valid role: user, model.")
        parts = turn.get("parts")
        if not parts or not isinstance(parts, list):
            raise invalid(f"* GenerateContentRequest.{where}.parts: contents.parts must not be "
                          "empty.\n")
        for part_index, part in enumerate(parts):
            _part(_object(part, f"{where}.parts[{part_index}]"), f"{where}.parts[{part_index}]",
                  role == "user", texts, inputs)
    if len(inputs) > spec.max_input_images:
        raise invalid(f"Too many input images: models/{spec.id} accepts at most "
                      f"{spec.max_input_images} images in one request.")
    return " ".join(texts).strip(), inputs


def _part(part: dict, where: str, from_user: bool, texts: list[str],
          inputs: list[InputImage]) -> None:
    _known_fields(part, PART_FIELDS, where)
    inline, file = _get(part, "inlineData"), _get(part, "fileData")
    if "text" not in part and inline is None and file is None:
        raise invalid(f"* GenerateContentRequest.{where}.data: required oneof field 'data' "
                      "must have one initialized field\n")
    if isinstance(part.get("text"), str) and from_user and not part.get("thought"):
        texts.append(part["text"])
    if inline is not None:
        blob = _object(inline, f"{where}.inline_data")
        _known_fields(blob, BLOB_FIELDS, f"{where}.inline_data")
        mime_type = _get(blob, "mimeType")
        if mime_type not in INPUT_TYPES:
            raise invalid(f"Unsupported MIME type: {mime_type}")
        try:
            data = base64.b64decode(str(blob.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise invalid(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 "
                          "decoding failed") from None
        if from_user:
            inputs.append(_decoded(mime_type, data))
    if file is not None:
        reference = _object(file, f"{where}.file_data")
        _known_fields(reference, FILE_FIELDS, f"{where}.file_data")
        uri = _get(reference, "fileUri")
        if not isinstance(uri, str) or not uri.startswith("https://"):
            raise invalid(f"Invalid or unsupported file uri: {uri}")
        if from_user:
            inputs.append(InputImage(_get(reference, "mimeType") or "", uri=uri))


def _decoded(mime_type: str, data: bytes) -> InputImage:
    if mime_type in ("image/heic", "image/heif"):
        return InputImage(mime_type)  # Pillow cannot read these; the gradient stands in
    try:
        return InputImage(mime_type, open_input(data))
    except ValueError:
        raise invalid("Unable to process input image. Please retry or report in "
                      "https://developers.generativeai.google/guide/troubleshooting") from None


def _aspect_ratio(value: object, spec: ModelSpec, inputs: list[InputImage]) -> str:
    if value is None:
        first = next((i.image for i in inputs if i.image is not None), None)
        if first is None:
            return "1:1"
        return nearest_ratio(first.width, first.height, spec.aspect_ratios)
    if value not in spec.aspect_ratios:
        accepted = ", ".join(f"'{ratio}'" for ratio in sorted(spec.aspect_ratios, key=_ratio_key))
        raise invalid("* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
                      f"aspect_ratio must be one of {accepted}\n")
    return value


def _ratio_key(ratio: str) -> tuple[int, int]:
    width, _, height = ratio.partition(":")
    return int(width), int(height)


def _image_size(model: str, value: object, spec: ModelSpec) -> str:
    if value is None:
        return "1K"
    if not spec.image_sizes:
        raise invalid(f"Image size is not supported for models/{model}.")
    if value not in spec.image_sizes:
        accepted = ", ".join(f"'{size}'" for size in spec.image_sizes)
        raise invalid("* GenerateContentRequest.generation_config.image_config.image_size: "
                      f"image_size must be one of {accepted}\n")
    return value
