"""The image models the gateway knows (``models.toml``), and the names clients use for them.

The table says what each model accepts, so a request can be mapped to the nearest thing the
model supports and a 404 can tell a retired model from a typo. ``MODELS_FILE`` replaces or
extends entries without a release. A model not in the table is forwarded as it is.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

log = logging.getLogger("gateway.models")

STATUSES = ("ga", "preview", "deprecated", "legacy", "retired")
THINKING_LEVELS = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
ALL_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
              "1:4", "4:1", "1:8", "8:1")
IMAGE_SIZES = ("512", "1K", "2K", "4K")
# OpenAI's names and every Imagen id (all shut down) go to DEFAULT_MODEL unless the operator
# says otherwise: clients such as LangChain, LibreChat and Open WebUI send them by default.
BUILTIN_ALIASES = ("dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5",
                   "chatgpt-image-latest")
BUILTIN_ALIAS_PREFIXES = ("gpt-image-", "imagen-")


class ModelTableError(ValueError):
    """The model table (or MODELS_FILE) is malformed; the message says where."""


@dataclass(frozen=True)
class ModelSpec:
    id: str
    status: str
    aspect_ratios: tuple[str, ...]
    image_sizes: tuple[str, ...]
    thinking_levels: tuple[str, ...]
    default_thinking: str | None
    max_input_images: int
    note: str | None = None

    @property
    def retired(self) -> bool:
        return self.status == "retired"


class ModelTable:
    """Known models by id. Read-only once built."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs = {spec.id: spec for spec in specs}

    def get(self, model: str) -> ModelSpec | None:
        return self._specs.get(model)

    def __iter__(self):
        return iter(self._specs.values())

    @classmethod
    def load(cls, models_file: str | None = None) -> ModelTable:
        """The packaged table, with ``models_file``'s entries replacing or extending it."""
        packaged = resources.files(__package__).joinpath("models.toml").read_text("utf-8")
        specs = _parse(tomllib.loads(packaged), "the packaged models.toml")
        if models_file:
            try:
                with open(models_file, "rb") as handle:
                    document = tomllib.load(handle)
            except OSError as exc:
                raise ModelTableError(f"cannot read {models_file}: {exc.strerror}") from None
            except tomllib.TOMLDecodeError as exc:
                raise ModelTableError(f"{models_file} is not valid TOML: {exc}") from None
            specs.update(_parse(document, models_file))
        return cls(specs.values())


def _parse(document: Mapping, where: str) -> dict[str, ModelSpec]:
    models = document.get("models")
    if not isinstance(models, dict):
        raise ModelTableError(f"{where} needs a [models.\"<id>\"] table per model")
    return {model_id: _spec(model_id, entry, where) for model_id, entry in models.items()}


def _spec(model_id: str, entry: object, where: str) -> ModelSpec:
    def fail(what: str) -> ModelTableError:
        return ModelTableError(f"{where}: model {model_id!r}: {what}")

    if not isinstance(entry, dict):
        raise fail("must be a table")
    status = entry.get("status", "ga")
    if status not in STATUSES:
        raise fail(f"status must be one of {', '.join(STATUSES)}")
    ratios = _strings(entry.get("aspect_ratios", list(ALL_RATIOS)), fail, "aspect_ratios")
    if not ratios or any(ratio not in ALL_RATIOS for ratio in ratios):
        raise fail(f"aspect_ratios must be a non-empty list drawn from {', '.join(ALL_RATIOS)}")
    sizes = _strings(entry.get("image_sizes", []), fail, "image_sizes")
    if any(size not in IMAGE_SIZES for size in sizes):
        raise fail(f"image_sizes must be drawn from {', '.join(IMAGE_SIZES)}")
    levels = _strings(entry.get("thinking_levels", []), fail, "thinking_levels")
    if any(level not in THINKING_LEVELS for level in levels):
        raise fail(f"thinking_levels must be drawn from {', '.join(THINKING_LEVELS)}")
    default_thinking = entry.get("default_thinking")
    if default_thinking is not None and default_thinking not in levels:
        raise fail("default_thinking must be one of its thinking_levels")
    max_inputs = entry.get("max_input_images", 14)
    if isinstance(max_inputs, bool) or not isinstance(max_inputs, int) or not 1 <= max_inputs <= 64:
        raise fail("max_input_images must be a whole number from 1 to 64")
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        raise fail("note must be a string")
    return ModelSpec(model_id, status, ratios, sizes, levels, default_thinking, max_inputs, note)


def _strings(value: object, fail, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"{name} must be a list of strings")
    return tuple(value)


class ModelNames:
    """Turns the model name a client sent into the model Gemini is asked for.

    Order: the operator's exact aliases, the built-in exact names, the operator's prefix
    aliases (``name*=target``), the built-in prefixes; else the name itself.
    """

    def __init__(self, default_model: str, aliases: Iterable[tuple[str, str]] = ()) -> None:
        self.default_model = default_model
        self._exact: dict[str, str] = {name: default_model for name in BUILTIN_ALIASES}
        self._prefixes: list[tuple[str, str]] = []
        for name, target in aliases:
            if name.endswith("*"):
                self._prefixes.append((name[:-1], target))
            else:
                self._exact[name] = target
        self._prefixes += [(prefix, default_model) for prefix in BUILTIN_ALIAS_PREFIXES]

    def resolve(self, name: str) -> str:
        target = self._exact.get(name)
        if target is None:
            target = next((t for prefix, t in self._prefixes if name.startswith(prefix)), name)
        if target != name:
            log.debug("model %s resolved to %s", name, target)
        return target

    def aliases(self) -> dict[str, str]:
        """The exact aliases, for ``/v1/models``."""
        return dict(self._exact)
