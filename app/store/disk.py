"""The image store as a folder: one file per image, expiry from its modification time.

No cron: every write sweeps the folder, removing expired files and then, while the folder
holds more than ``max_bytes``, the oldest ones; a read of an expired file removes it.
Writes are atomic (a temporary file renamed into place), so a reader never sees half an
image, whichever worker wrote it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable

from ..errors import StoreUnavailable
from . import CONTENT_TYPES, StoredFile, new_name, valid_name

log = logging.getLogger("gateway.store")
INCOMING_PREFIX = ".incoming-"


def default_directory() -> str:
    return os.path.join(tempfile.gettempdir(), "gemini-image-gateway-images")


class DiskStore:
    def __init__(self, directory: str, ttl: float, max_bytes: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._clock = clock

    def put(self, image: Iterable[bytes], image_format: str) -> str:
        name = new_name(image_format)
        temp = None
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=INCOMING_PREFIX)
            with os.fdopen(handle, "wb") as out:
                for chunk in image:
                    out.write(chunk)
            os.replace(temp, os.path.join(self.directory, name))
            temp = None
        except OSError as exc:
            raise StoreUnavailable(
                "The gateway could not store the image for a URL "
                f"({exc.strerror or type(exc).__name__}). Retry, or ask for "
                "response_format 'b64_json'.") from None
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        self.sweep(keep=name)
        return name

    def get(self, name: str) -> StoredFile | None:
        if not valid_name(name):
            return None
        path = os.path.join(self.directory, name)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable("The image store cannot be read "
                                   f"({exc.strerror or type(exc).__name__}).") from None
        expires_in = stat.st_mtime + self.ttl - self._clock()
        if expires_in <= 0:
            self._remove(path)
            return None
        return StoredFile(name, CONTENT_TYPES[name.rpartition(".")[2]], stat.st_size,
                          expires_in, path=path)

    def sweep(self, keep: str | None = None) -> None:
        """Remove expired files (and abandoned temporary ones), then the oldest while the
        folder is over ``max_bytes``; never ``keep``, the image just written."""
        now = self._clock()
        live: list[tuple[float, int, str]] = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        total = 0
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.st_mtime + self.ttl <= now:
                self._remove(entry.path)
                continue
            total += stat.st_size
            if entry.name != keep and valid_name(entry.name):
                live.append((stat.st_mtime, stat.st_size, entry.path))
        for _, size, path in sorted(live):
            if total <= self.max_bytes:
                break
            self._remove(path)
            total -= size

    @staticmethod
    def _remove(path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass  # another worker swept it first
        except OSError as exc:
            log.warning("could not remove %s from the image store: %s",
                        os.path.basename(path), exc.strerror)
