"""OpenAI's ``size`` and ``quality`` in Gemini's terms: an aspect ratio, a tier, a thinking level.

``size`` (``WxH``) picks the model's nearest supported ratio, compared in log space so that
2:1 and 1:2 are equally far from 1:1, and a tier from the long edge. ``quality`` picks a
tier floor and a thinking level from one table. Both are clamped to what the model
supports, and the answer reports what was really asked of Gemini.

    quality           tier at least   thinking level
    low               1K              the model's lowest (MINIMAL)
    medium, standard  1K              the model's default
    high, hd          2K              HIGH
    xhigh, max        4K              HIGH
    auto / absent     (size decides)  the model's default
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InvalidRequest
from .models import ALL_RATIOS, IMAGE_SIZES, THINKING_LEVELS, ModelSpec

QUALITIES = ("low", "medium", "high", "xhigh", "max", "auto", "standard", "hd")
# A requested shape further than this from every supported ratio is refused, not squared.
RATIO_TOLERANCE = 0.05
TIER_ORDER = IMAGE_SIZES  # "512" < "1K" < "2K" < "4K"
_QUALITY_TABLE: dict[str, tuple[str | None, str | None]] = {
    # quality: (tier at least, thinking level; "lowest" = the model's lowest)
    "low": ("1K", "lowest"),
    "medium": ("1K", None),
    "standard": ("1K", None),
    "high": ("2K", "HIGH"),
    "hd": ("2K", "HIGH"),
    "xhigh": ("4K", "HIGH"),
    "max": ("4K", "HIGH"),
    "auto": (None, None),
}


@dataclass(frozen=True)
class ImagePlan:
    """What goes into ``generationConfig`` for one request, and what the answer reports."""

    aspect_ratio: str | None  # None: Gemini's default (1:1, or an input image's ratio)
    image_size: str | None  # None: the field is left out (1K, or unsupported)
    thinking_level: str | None  # None: thinkingConfig is left out
    quality: str  # low | medium | high, as OpenAI's answers say it


def ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return int(width) / int(height)


def nearest_ratio(width: int, height: int, supported: tuple[str, ...]) -> str | None:
    """The supported ratio nearest ``width:height`` in log space, or None past the tolerance."""
    wanted = math.log(width / height)
    best = min(supported, key=lambda ratio: abs(math.log(ratio_value(ratio)) - wanted))
    if abs(math.log(ratio_value(best)) - wanted) > math.log1p(RATIO_TOLERANCE):
        return None
    return best


def tier_for_long_edge(edge: int) -> str:
    if edge <= 1024:
        return "1K"
    if edge <= 2048:
        return "2K"
    return "4K"


def plan_image(
    spec: ModelSpec | None,
    *,
    size: tuple[int, int] | None = None,
    quality: str | None = None,
    aspect_ratio: str | None = None,
    image_size: str | None = None,
) -> ImagePlan:
    """The plan for a model (``spec`` None: a model the table does not know; Gemini judges).

    Raises ``InvalidRequest`` naming the parameter when a shape fits no supported ratio or
    an explicit ``aspect_ratio``/``image_size`` is one the model refuses.
    """
    ratios = spec.aspect_ratios if spec else ALL_RATIOS
    if aspect_ratio is not None:
        if aspect_ratio not in ratios:
            raise InvalidRequest(
                f"'aspect_ratio' must be one of {', '.join(ratios)}"
                + (f" for {spec.id}." if spec else "."),
                param="aspect_ratio", code="invalid_value")
        ratio = aspect_ratio
    elif size is not None:
        ratio = nearest_ratio(size[0], size[1], ratios)
        if ratio is None:
            raise InvalidRequest(
                f"'size' {size[0]}x{size[1]} is not near any aspect ratio "
                f"{spec.id if spec else 'Gemini'} supports: {', '.join(ratios)} "
                "(e.g. '1024x1024', '1536x1024', '1792x1024').",
                param="size", code="invalid_value")
    else:
        ratio = None

    floor, thinking = _QUALITY_TABLE[quality or "auto"]
    if image_size is not None:
        if spec is not None and image_size not in spec.image_sizes:
            accepted = ", ".join(spec.image_sizes) or "none: the model makes 1K only"
            raise InvalidRequest(f"'image_size' must be one of {accepted} for {spec.id}.",
                                 param="image_size", code="invalid_value")
        tier = image_size
    else:
        wanted = [t for t in (floor, tier_for_long_edge(max(size)) if size else None) if t]
        tier = max(wanted, key=TIER_ORDER.index) if wanted else None
        if tier is not None and spec is not None:
            tier = _clamp_tier(tier, spec.image_sizes)
        if spec is None and tier == "1K" and not size:
            tier = None  # 1K is the default: send nothing a model we do not know may refuse

    level = _thinking_level(thinking, spec)
    return ImagePlan(ratio, tier, level, _reported_quality(tier, level, spec))


def _clamp_tier(wanted: str, supported: tuple[str, ...]) -> str | None:
    """The largest supported tier not above ``wanted``, else the smallest; None if the model
    takes no ``imageSize`` at all."""
    if not supported:
        return None
    ordered = sorted(supported, key=TIER_ORDER.index)
    fitting = [t for t in ordered if TIER_ORDER.index(t) <= TIER_ORDER.index(wanted)]
    return fitting[-1] if fitting else ordered[0]


def _thinking_level(wanted: str | None, spec: ModelSpec | None) -> str | None:
    if wanted is None or spec is None or not spec.thinking_levels:
        return None  # the model's default; an unknown model gets no field it may refuse
    levels = sorted(spec.thinking_levels, key=THINKING_LEVELS.index)
    if wanted == "lowest":
        return levels[0]
    if wanted in levels:
        return wanted
    index = THINKING_LEVELS.index(wanted)
    return min(levels, key=lambda level: abs(THINKING_LEVELS.index(level) - index))


def _reported_quality(tier: str | None, level: str | None, spec: ModelSpec | None) -> str:
    if tier in ("2K", "4K"):
        return "high"
    effective = level or (spec.default_thinking if spec else None)
    return "low" if effective == "MINIMAL" or tier == "512" else "medium"
