"""The image-capable models Gemini offers, cached (``MODELS_CACHE_TTL``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .errors import BadGateway, GatewayError
from .upstream import UpstreamClient

log = logging.getLogger("gateway.models")


def is_image_model(model_id: str) -> bool:
    return model_id.startswith("imagen") or "image" in model_id


class ModelCatalog:
    def __init__(self, upstream: UpstreamClient, ttl: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._upstream = upstream
        self._ttl = ttl
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
                listed = self._upstream.list_models()
            except GatewayError as exc:
                if self._models is not None:
                    log.warning("serving a stale model list: %s", exc.message)
                    return self._models
                raise BadGateway(f"Could not fetch the model list from Gemini: {exc.message}") \
                    from None
            self._models = self._openai_models(listed)
            self._fetched_at = self._clock()
            return self._models

    def _fresh(self) -> bool:
        return self._models is not None and self._clock() - self._fetched_at < self._ttl

    @staticmethod
    def _openai_models(listed: list[dict]) -> list[dict]:
        created = int(time.time())  # Gemini's list has no dates; when we first saw it
        models = []
        for item in listed:
            model_id = item["id"].removeprefix("models/")
            if is_image_model(model_id):
                owner = item.get("owned_by")
                models.append({"id": model_id, "object": "model", "created": created,
                               "owned_by": owner if isinstance(owner, str) else "google"})
        return models
