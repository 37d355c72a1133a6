"""Check an OpenAI edit or variation request and turn it into a neutral ``EditRequest``.

Two forms arrive: the SDKs' ``multipart/form-data`` (``image`` or repeated ``image[]``,
``mask``, the rest as text fields) and the newer JSON body (``images: [{"image_url"}]``,
``mask: {"image_url"}``). Every field that generations know is checked by the same code
(``parse_image_request``); form fields are text, so numbers and booleans are read first.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from werkzeug.datastructures import FileStorage, MultiDict

from .errors import InvalidRequest, RequestTooLarge
from .uploads import ACCEPTED, Upload, checked_upload, sniff
from .validation import ImageRequest, parse_image_request

IMAGE_FIELDS = ("image", "image[]")
# A fixed instruction: variations (DALL·E 2's endpoint) carry no prompt.
VARIATION_PROMPT = ("Make a variation of this image: the same subject, kind of scene and "
                    "style, with fresh details and composition.")
_INTEGER_FIELDS = ("n", "output_compression", "partial_images")
_INTEGER = re.compile(r"^-?[0-9]{1,9}\Z")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_DATA_URL = re.compile(r"^data:([^;,]{0,100})(;[^,]{0,200})?,")
_URL_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
              "webp": "image/webp", "heic": "image/heic", "heif": "image/heif"}
MAX_URL_CHARS = 2048
B64_CHUNK = 1 << 20


@dataclass
class InlineImage:
    """An image that came as base64 in a data URL: sent on as it is, never re-encoded."""

    param: str
    mime_type: str
    size: int  # decoded bytes
    text: str
    start: int  # where the base64 begins in ``text``

    def b64_chunks(self) -> Iterator[bytes]:
        for offset in range(self.start, len(self.text), B64_CHUNK):
            yield self.text[offset:offset + B64_CHUNK].encode("ascii")

    def read(self) -> bytes:
        return base64.b64decode(self.text[self.start:])


@dataclass
class RemoteImage:
    """A public ``https://`` image: Gemini fetches it (``fileData``), the gateway never does."""

    url: str
    mime_type: str | None


InputImage = Upload | InlineImage | RemoteImage


@dataclass
class EditRequest:
    image: ImageRequest  # prompt, model, n, size, formats: as for generations
    inputs: list[InputImage]
    mask: Upload | InlineImage | None = None


def parse_edit_form(form: MultiDict, files: MultiDict, default_model: str,
                    max_image_bytes: int) -> EditRequest:
    """The SDKs' multipart edit: ``image`` / ``image[]`` files, an optional ``mask``."""
    inputs = [checked_upload(name, storage.stream, max_image_bytes)
              for name, storage in files.items(multi=True)
              if name in IMAGE_FIELDS and _is_file(storage)]
    if not inputs:
        raise InvalidRequest("'image' is required: send one image as 'image' or several as "
                             "'image[]' (multipart/form-data).", param="image")
    mask_file = files.get("mask")
    mask = checked_upload("mask", mask_file.stream, max_image_bytes) \
        if _is_file(mask_file) else None
    fields = _typed(form)
    return EditRequest(parse_image_request(fields, default_model), inputs, mask)


def parse_variation_form(form: MultiDict, files: MultiDict, default_model: str,
                         max_image_bytes: int) -> EditRequest:
    """DALL·E 2's ``images/variations``: one ``image``, no prompt."""
    storage = files.get("image")
    if not _is_file(storage):
        raise InvalidRequest("'image' is required: the image to make variations of "
                             "(multipart/form-data).", param="image")
    upload = checked_upload("image", storage.stream, max_image_bytes)
    fields = _typed(form)
    fields.pop("prompt", None)
    request = parse_image_request({**fields, "prompt": VARIATION_PROMPT}, default_model)
    return EditRequest(request, [upload])


def parse_edit_json(body: object, default_model: str, max_image_bytes: int) -> EditRequest:
    """The JSON edit: ``images: [{"image_url": "data:…" | "https://…"}]``, ``mask``."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    images = body.get("images")
    if not isinstance(images, list) or not images:
        raise InvalidRequest("'images' is required: a list of {\"image_url\": \"data:image/png;"
                             "base64,…\" or \"https://…\"}.", param="images")
    inputs = [_reference(item, "images", max_image_bytes) for item in images]
    mask = None
    if body.get("mask") is not None:
        mask = _reference(body["mask"], "mask", max_image_bytes)
        if isinstance(mask, RemoteImage):
            raise InvalidRequest("'mask' must be a data URL: the gateway applies the mask "
                                 "itself and never fetches a URL.", param="mask",
                                 code="unsupported_value")
    rest = {name: value for name, value in body.items() if name not in ("images", "mask")}
    return EditRequest(parse_image_request(rest, default_model), inputs, mask)


def _is_file(storage: object) -> bool:
    # A browser sends an empty file part for a file input left blank.
    return isinstance(storage, FileStorage) and bool(storage.filename or storage.content_type)


def _typed(form: MultiDict) -> dict:
    """Form fields (all text) as the JSON values ``parse_image_request`` checks."""
    fields: dict = {}
    for name, value in form.items():
        if name in _INTEGER_FIELDS and _INTEGER.match(value.strip()):
            fields[name] = int(value)
        elif name == "stream" and value.strip().lower() in ("true", "false"):
            fields[name] = value.strip().lower() == "true"
        else:
            fields[name] = value
    return fields


def _reference(item: object, param: str, max_image_bytes: int) -> InlineImage | RemoteImage:
    if not isinstance(item, dict) or "image_url" not in item:
        if isinstance(item, dict) and "file_id" in item:
            raise InvalidRequest(f"'{param}': file ids are not supported (the gateway has no "
                                 "file store); send an image_url.", param=param,
                                 code="unsupported_value")
        raise InvalidRequest(f"'{param}' entries must be objects with an 'image_url'.",
                             param=param)
    url = item["image_url"]
    if not isinstance(url, str):
        raise InvalidRequest(f"'{param}': 'image_url' must be a string.", param=param)
    if url.startswith("data:"):
        return _data_url(url, param, max_image_bytes)
    if url.startswith("https://"):
        return _remote(url, param)
    raise InvalidRequest(f"'{param}': 'image_url' must be a data: URL (base64) or an "
                         "https:// URL.", param=param, code="invalid_value")


def _data_url(url: str, param: str, max_image_bytes: int) -> InlineImage:
    match = _DATA_URL.match(url)
    if match is None or ";base64" not in (match.group(2) or ""):
        raise InvalidRequest(f"'{param}': a data URL must be base64, as in "
                             "'data:image/png;base64,…'.", param=param, code="invalid_value")
    start = match.end()
    length = len(url) - start
    if length % 4 or not _BASE64.match(url, start):
        raise InvalidRequest(f"'{param}': the data URL's base64 is malformed.", param=param,
                             code="invalid_value")
    size = length // 4 * 3 - (len(url) - len(url.rstrip("=")))
    if size > max_image_bytes:
        raise RequestTooLarge(f"'{param}' is {size} bytes; each image may be at most "
                              f"{max_image_bytes} bytes (MAX_IMAGE_BYTES).", param=param)
    try:
        head = base64.b64decode(url[start:start + 24])
    except (binascii.Error, ValueError):
        head = b""
    mime_type = sniff(head)
    if mime_type is None:
        raise InvalidRequest(f"'{param}' is not an image the gateway accepts: it must be "
                             f"{ACCEPTED} (judged from its bytes).", param=param,
                             code="invalid_image_format")
    return InlineImage(param, mime_type, size, url, start)


def _remote(url: str, param: str) -> RemoteImage:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "https://[x": a bracket with no IPv6 address behind it
        host = None
    if len(url) > MAX_URL_CHARS or not host or any(
            ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise InvalidRequest(f"'{param}': not a usable https:// URL (at most {MAX_URL_CHARS} "
                             "characters, with a host, without spaces).", param=param,
                             code="invalid_value")
    extension = parts.path.rpartition(".")[2].lower() if "." in parts.path else ""
    return RemoteImage(url, _URL_TYPES.get(extension))
