"""Edits on the native backend: the input images as parts of the user turn, n calls, and
the mask kept by compositing (see masks.py).

The upstream body is written once into a spooled file with each image's base64 streamed
from its upload (json_body.py): a large edit costs disk cache, not several copies in
memory. Every refusal (too many images, a bad mask) happens before any upstream call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .edit_request import EditRequest, RemoteImage
from .errors import InvalidRequest
from .generation import ImageGenerator, Made
from .image_files import MIME_TYPES
from .json_body import SpooledBody
from .masks import Mask, composite, read_mask
from .upstream import UpstreamTrace

# Inputs allowed for a model the table does not know: OpenAI's own limit; Gemini judges.
MAX_INPUTS_UNKNOWN_MODEL = 16


@dataclass
class CompositedImage:
    """An answer image after the mask was applied: base64 in memory, as answer_body reads it."""

    mime_type: str
    data: bytes

    @property
    def b64_length(self) -> int:
        return len(self.data)

    def b64_chunks(self):
        yield self.data

    def b64_head(self, size: int) -> bytes:
        return self.data[:size]


class Editor:
    def __init__(self, images: ImageGenerator) -> None:
        self.images = images

    def make(self, edit: EditRequest, trace: UpstreamTrace,
             client_gone: Callable[[], bool] | None = None) -> Made:
        self._check_count(edit)
        mask = self._mask(edit)
        prompt = edit.image.prompt
        if mask is not None:
            prompt = f"{prompt}\n\n{mask.instruction()}"
        parts = [{"text": prompt}, *(_part(image) for image in edit.inputs)]
        made = self.images.make(edit.image, parts, trace, client_gone,
                                encode=SpooledBody.json)
        if mask is not None:
            try:
                self._apply(made, edit, mask)
            except BaseException:
                made.close()
                raise
        return made

    def _check_count(self, edit: EditRequest) -> None:
        model = self.images.names.resolve(edit.image.model)
        spec = self.images.table.get(model)
        limit = spec.max_input_images if spec is not None else MAX_INPUTS_UNKNOWN_MODEL
        if len(edit.inputs) > limit:
            raise InvalidRequest(
                f"{len(edit.inputs)} input images were sent; {model} accepts at most "
                f"{limit} in one request.", param="image", code="too_many_images")

    def _mask(self, edit: EditRequest) -> Mask | None:
        if edit.mask is None:
            return None
        first = edit.inputs[0]
        if isinstance(first, RemoteImage):
            raise InvalidRequest("A 'mask' needs the first image sent as data (a file or a "
                                 "data URL): the gateway applies the mask to it and never "
                                 "fetches a URL.", param="mask", code="unsupported_value")
        if edit.mask.mime_type != "image/png":
            raise InvalidRequest("'mask' must be a PNG image with an alpha channel.",
                                 param="mask", code="invalid_mask")
        return _off_the_hub(read_mask, edit.mask.read(), first.read())

    def _apply(self, made: Made, edit: EditRequest, mask: Mask) -> None:
        """Every image made, pasted into the first input through the mask. Lossless PNG
        unless the client named another format (then answer_body need not convert it)."""
        output_format = edit.image.output_format or "png"
        original = edit.inputs[0].read()  # type: ignore[union-attr]  # checked in _mask
        for answer in made.answers:
            answer.images = [
                CompositedImage(MIME_TYPES[output_format], _off_the_hub(
                    composite, original, image.b64_chunks(), mask, output_format,
                    edit.image.output_compression))
                for image in answer.images]


def _off_the_hub(func: Callable, *args):
    """``func(*args)`` in gevent's thread pool when running under gevent: Pillow releases
    the GIL while it decodes, resizes and encodes, so the worker's other requests go on
    meanwhile (a 2K composite takes a good part of a second)."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        return func(*args)
    import gevent

    def caught():
        # Returned, not raised: gevent prints every exception a pool task raises, and a
        # client's bad mask is no traceback.
        try:
            return func(*args), None
        except Exception as exc:
            return None, exc

    result, error = gevent.get_hub().threadpool.apply(caught)
    if error is not None:
        raise error
    return result


def _part(image) -> dict:
    if isinstance(image, RemoteImage):
        reference = {"fileUri": image.url}
        if image.mime_type:
            reference["mimeType"] = image.mime_type
        return {"fileData": reference}
    # The base64 itself is written into the body from the upload, chunk by chunk.
    return {"inlineData": {"mimeType": image.mime_type, "data": image}}
