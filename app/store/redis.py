"""The image store in Redis: every worker and instance sees every image.

An image is appended chunk by chunk to a temporary key (so no worker holds a whole image
to store it), then renamed into place with its expiry in one transaction: a reader finds
the whole image or nothing. Redis expires the keys itself.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from ..errors import StoreUnavailable
from . import CONTENT_TYPES, StoredFile, new_name, valid_name

# Without these a stalled Redis would stall the requests waiting on it for ever.
SOCKET_TIMEOUT = 5.0
HEALTH_CHECK_INTERVAL = 30


class RedisStore:
    def __init__(self, client: redis.Redis, prefix: str, ttl: float) -> None:
        self.client = client
        self.prefix = prefix + "image:"
        self.ttl_ms = int(ttl * 1000)

    @classmethod
    def from_url(cls, url: str, prefix: str, ttl: float) -> RedisStore:
        client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT,
                                      socket_connect_timeout=SOCKET_TIMEOUT,
                                      health_check_interval=HEALTH_CHECK_INTERVAL)
        return cls(client, prefix, ttl)

    def put(self, image: Iterable[bytes], image_format: str) -> str:
        name = new_name(image_format)
        key = self.prefix + name
        incoming = key + ":incoming"
        try:
            first = True
            for chunk in image:
                pipe = self.client.pipeline(transaction=False)
                pipe.append(incoming, chunk)
                if first:  # an abandoned write expires too
                    pipe.pexpire(incoming, self.ttl_ms)
                    first = False
                pipe.execute()
            pipe = self.client.pipeline(transaction=True)
            pipe.rename(incoming, key)
            pipe.pexpire(key, self.ttl_ms)
            pipe.execute()
        except (redis.RedisError, OSError) as exc:
            raise StoreUnavailable(
                f"The gateway could not store the image for a URL (Redis: {_reason(exc)}). "
                "Retry, or ask for response_format 'b64_json'.") from None
        return name

    def get(self, name: str) -> StoredFile | None:
        if not valid_name(name):
            return None
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self.prefix + name)
        pipe.pttl(self.prefix + name)
        try:
            data, left_ms = pipe.execute()
        except (redis.RedisError, OSError) as exc:
            raise StoreUnavailable(f"The image store cannot be read (Redis: {_reason(exc)}).") \
                from None
        if data is None or left_ms is None or left_ms <= 0:
            return None
        return StoredFile(name, CONTENT_TYPES[name.rpartition(".")[2]], len(data),
                          left_ms / 1000, data=data)


def _reason(exc: BaseException) -> str:
    """The kind of failure, never the exception text: it may quote the URL's password."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError):
        return "unreachable"
    if isinstance(exc, redis.ResponseError) and "OOM" in str(exc):
        return "out of memory"
    return type(exc).__name__
