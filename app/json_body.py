"""A JSON request body written once to a spooled file, its base64 image data streamed in.

An edit's ``generateContent`` body holds every input image as base64: 20 MB of uploads
make 27 MB of JSON. Building it as a dict, then a string, then bytes would hold three
copies. Here the document is written piece by piece into a ``SpooledTemporaryFile`` (on
disk past ``MEMORY_BYTES``), each image's base64 copied from its upload chunk by chunk;
each upstream call then reads the file through a reader of its own, so the n parallel
calls of one request share the one file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Protocol

MEMORY_BYTES = 1 << 20


class Base64Source(Protocol):
    """Anything that yields its base64 text in chunks (an upload, a data URL)."""

    def b64_chunks(self) -> Iterator[bytes]: ...


class SpooledBody:
    """A request body in a spooled file, sent by any number of calls, each with a reader."""

    def __init__(self, content_type: str = "application/json") -> None:
        self.content_type = content_type
        # Closed by close(): the body outlives this method.
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)  # noqa: SIM115
        self.length = 0

    @classmethod
    def json(cls, document: object) -> SpooledBody:
        """``document`` as JSON, every ``Base64Source`` in it written as a string."""
        body = cls()
        try:
            _write(body._file, document)
        except BaseException:
            body.close()
            raise
        body._file.flush()  # readers use os.pread: nothing may wait in Python's buffer
        body.length = body._file.tell()
        return body

    @classmethod
    def copied(cls, chunks: Iterator[bytes], content_type: str) -> SpooledBody:
        """The bytes of ``chunks`` (a client's body, forwarded as it came)."""
        body = cls(content_type)
        try:
            for chunk in chunks:
                body._file.write(chunk)
        except BaseException:
            body.close()
            raise
        body._file.flush()  # readers use os.pread: nothing may wait in Python's buffer
        body.length = body._file.tell()
        return body

    def reader(self) -> IO[bytes]:
        """A file-like view of the body with its own position (for one upstream call)."""
        rolled = getattr(self._file, "_rolled", True)
        if not rolled:  # still in memory: small, a copy costs nothing
            memory = io.BytesIO(self._file._file.getvalue())  # type: ignore[attr-defined]
            return _Reader(memory, self.length, self.content_type)
        return _Reader(self._file, self.length, self.content_type, shared=True)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpooledBody:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write(out: IO[bytes], node: object) -> None:
    if isinstance(node, dict):
        out.write(b"{")
        for index, (key, value) in enumerate(node.items()):
            out.write(b"%s%s:" % (b"," if index else b"", json.dumps(str(key)).encode()))
            _write(out, value)
        out.write(b"}")
    elif isinstance(node, list | tuple):
        out.write(b"[")
        for index, value in enumerate(node):
            if index:
                out.write(b",")
            _write(out, value)
        out.write(b"]")
    elif hasattr(node, "b64_chunks"):
        out.write(b'"')
        for chunk in node.b64_chunks():
            out.write(chunk)
        out.write(b'"')
    else:
        out.write(json.dumps(node).encode())


class _Reader(io.RawIOBase):
    """Reads ``length`` bytes of a file from its own position. A shared file is read with
    ``os.pread``, which never moves the file's offset, so parallel readers do not collide."""

    def __init__(self, file: IO[bytes], length: int, content_type: str, *,
                 shared: bool = False) -> None:
        super().__init__()
        self.content_type = content_type  # the upstream client sends it as Content-Type
        self._file = file
        self._fd = file.fileno() if shared else None
        self._length = length
        self._position = 0

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + offset))
        return self._position

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._position
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        if self._fd is not None:
            data = os.pread(self._fd, size, self._position)
        else:
            self._file.seek(self._position)
            data = self._file.read(size)
        self._position += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
