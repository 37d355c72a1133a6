"""The image models on offer at ``/v1/models``: Gemini's live list (cached for
``MODELS_CACHE_TTL``) plus the gateway's aliases."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from .errors import BadGateway, GatewayError, ModelNotFound
from .gemini.models import ModelNames
from .gemini.native import models_page
from .upstream import UpstreamClient

log = logging.getLogger("gateway.models")
PAGE_SIZE = 1000
MAX_PAGES = 20  # a thousand models a page: a list longer than this is not Gemini's


def is_image_model(model_id: str) -> bool:
    """By name: Gemini's image models say "image" (or are Nano Bananas); ``predict``-only
    Imagen ids are filtered out by their methods on the native list."""
    return model_id.startswith("imagen") or "image" in model_id or "nano-banana" in model_id


class ModelCatalog:
    def __init__(self, upstream: UpstreamClient, ttl: float, names: ModelNames, *,
                 native: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self._upstream = upstream
        self._ttl = ttl
        self._names = names
        self._native = native
        self._clock = clock
        self._models: list[dict] | None = None
        self._fetched_at = 0.0
        # One fetch at a time: concurrent misses wait and then read the fresh cache.
        self._lock = threading.Lock()

    def image_models(self) -> list[dict]:
        if self._fresh():
            return self._models
        with self._lock:
            if self._fresh():
                return self._models
            try:
                listed = self._native_ids() if self._native else self._compat_ids()
            except GatewayError as exc:
                if self._models is not None:
                    log.warning("serving a stale model list: %s", exc.message)
                    return self._models
                raise BadGateway(f"Could not fetch the model list from Gemini: {exc.message}") \
                    from None
            self._models = self._openai_models(listed)
            self._fetched_at = self._clock()
            return self._models

    def model(self, model_id: str) -> dict:
        for model in self.image_models():
            if model["id"] == model_id:
                return model
        raise ModelNotFound(f"The model '{model_id}' does not exist here; GET /v1/models "
                            "lists the image models and aliases on offer.")

    def _fresh(self) -> bool:
        return self._models is not None and self._clock() - self._fetched_at < self._ttl

    def _native_ids(self) -> list[str]:
        """Every page of ``GET {root}/models``: the models that make images with
        ``generateContent``."""
        ids, token = [], None
        for _ in range(MAX_PAGES):
            path = f"/models?pageSize={PAGE_SIZE}"
            if token:
                path += f"&pageToken={quote(token, safe='')}"
            page, token = self._upstream.call("GET", path, None, models_page)
            ids += [m["id"] for m in page
                    if is_image_model(m["id"]) and "generateContent" in m["methods"]]
            if token is None:
                break
        return ids

    def _compat_ids(self) -> list[str]:
        ids = [item["id"].removeprefix("models/") for item in self._upstream.list_models()]
        return [model_id for model_id in ids if is_image_model(model_id)]

    def _openai_models(self, ids: list[str]) -> list[dict]:
        created = int(time.time())  # Gemini's list has no dates; when we first saw it
        models = [{"id": model_id, "object": "model", "created": created, "owned_by": "google"}
                  for model_id in dict.fromkeys(ids)]
        if self._native:
            listed = {m["id"] for m in models}
            models += [{"id": alias, "object": "model", "created": created,
                        "owned_by": "gemini-image-gateway", "alias_of": target}
                       for alias, target in self._names.aliases().items()
                       if alias not in listed]
        return models
