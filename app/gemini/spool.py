"""Read a JSON answer of many megabytes without holding or parsing its big strings.

Gemini's image answers are a small JSON document around one or more base64 strings of
1 to 30 MB. ``SpoolingScanner`` is fed the answer chunk by chunk as it arrives: it keeps
the document's skeleton in memory and moves every string longer than ``threshold`` into a
spool (memory while a ``MemoryBudget`` allows, then an unlinked temporary file), leaving
``{"\\u0000span": i}`` in its place. ``json.loads`` then parses a few hundred bytes, and
the image bytes are read back from the spool only to be sent, in chunks.

The marker is an object where the document had a string: no string content (a prompt a
model echoes, say) can forge one.
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import BadGateway

SPAN_KEY = "\x00span"
_QUOTE = 0x22
_BACKSLASH = 0x5C
_OPEN_OBJECT = ord("{")
_COMMA = ord(",")
_OPENERS = b"{["
_CLOSERS = b"}]"
_WHITESPACE = b" \t\r\n"
# bytes.translate deletes these, leaving a segment's brackets: a few, where looping over
# every byte of the skeleton in Python cost most of reading a small answer.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _OPENERS + _CLOSERS)
READ_BYTES = 256 * 1024


@dataclass(frozen=True)
class Span:
    """A big string of the document: ``length`` bytes at ``offset`` in ``spool``."""

    spool: Spool
    offset: int
    length: int

    def chunks(self, size: int = READ_BYTES) -> Iterator[bytes]:
        yield from self.spool.pieces(self.offset, self.length, size)

    def head(self, size: int) -> bytes:
        return self.spool.read_at(self.offset, min(size, self.length))

    def read(self) -> bytes:
        return self.spool.read_at(self.offset, self.length)


class MemoryBudget:
    """Bytes that spools sharing it may hold in memory together; past it they use files.

    One per worker: a few answers in flight stay in memory (no file written and read back:
    a fifth of the worker's CPU on 2 MB answers), a hundred 8 MB ones cost disk cache.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()  # answers of one request are read by parallel calls

    def take(self, size: int) -> bool:
        with self._lock:
            if self.used + size > self.limit:
                return False
            self.used += size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self.used -= size


class Spool:
    """Where the big strings of one answer wait: memory while the budget allows, then an
    unlinked temporary file. In memory the pieces are kept as received, so a piece that
    was a whole chunk of the answer is sent on without a copy."""

    def __init__(self, budget: MemoryBudget) -> None:
        self._budget = budget
        self._pieces: list[bytes] | None = []
        self._starts: list[int] = []  # offset of each piece
        self._in_memory = 0  # bytes taken from the budget
        self._file = None
        self.size = 0

    def append(self, data) -> None:
        if self._pieces is not None:
            if self._budget.take(len(data)):
                self._in_memory += len(data)
                self._starts.append(self.size)
                self._pieces.append(_own_bytes(data))
                self.size += len(data)
                return
            self._roll_over()
        self._write(data)
        self.size += len(data)

    def read_at(self, offset: int, size: int) -> bytes:
        return b"".join(self.pieces(offset, size, size))

    def pieces(self, offset: int, length: int, size: int) -> Iterator[bytes]:
        """``length`` bytes from ``offset`` in pieces of at most ``size`` bytes."""
        position, end = offset, offset + length
        while position < end:
            piece = self._piece_at(position, min(size, end - position))
            if not piece:
                raise BadGateway("The spooled answer ended early.")
            position += len(piece)
            yield piece

    def _piece_at(self, offset: int, size: int) -> bytes:
        if self._pieces is None:
            return os.pread(self._file.fileno(), size, offset)
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return b""
        piece, start = self._pieces[index], offset - self._starts[index]
        if start == 0 and size >= len(piece):
            return piece
        return piece[start:start + size]

    def _roll_over(self) -> None:
        self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 (closed in close())
        for piece in self._pieces:
            self._write(piece)
        self._pieces, self._starts = None, []
        self._budget.give(self._in_memory)
        self._in_memory = 0

    def _write(self, data) -> None:
        view = memoryview(data)
        while view:  # unbuffered: a write may take less than it was given
            view = view[self._file.write(view):]

    def close(self) -> None:
        if self._pieces is not None:
            self._pieces, self._starts = [], []
        if self._in_memory:
            self._budget.give(self._in_memory)
            self._in_memory = 0
        if self._file is not None:
            self._file.close()

    def __del__(self) -> None:
        # An answer dropped without close() (its request cut short) gives its share back.
        self.close()


def _own_bytes(data) -> bytes:
    """``data`` as bytes that stay valid: a view of a whole bytes object is that object."""
    if isinstance(data, memoryview) and isinstance(data.obj, bytes) \
            and data.nbytes == len(data.obj):
        return data.obj
    return bytes(data)


class SpoolingScanner:
    """Fed a JSON document in chunks; ``document()`` parses its skeleton with spans in it."""

    def __init__(self, *, threshold: int = 4096, memory_bytes: int = 1 << 20,
                 budget: MemoryBudget | None = None) -> None:
        """``budget``: shared with other answers; else ``memory_bytes`` for this one alone."""
        self.spool = Spool(budget if budget is not None else MemoryBudget(memory_bytes))
        self._threshold = threshold
        self._skeleton = bytearray()
        self._spans: list[Span] = []
        self._in_string = False
        self._pending = bytearray()  # the current string while it is still short
        self._spilled_at: int | None = None  # its spool offset once it proved long
        self._backslashes = 0  # backslashes ending what was read of the current string
        # Object keys must stay strings: track the open containers and the last token.
        self._containers = bytearray()
        self._last = 0
        self._is_key = False

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        position, end = 0, len(chunk)
        while position < end:
            if not self._in_string:
                quote = chunk.find(b'"', position)
                if quote == -1:
                    self._structure(view[position:])
                    return
                self._structure(view[position:quote])
                self._is_key = self._last == _OPEN_OBJECT or (
                    self._last == _COMMA and self._containers[-1:] == b"{")
                self._in_string, self._backslashes = True, 0
                self._pending.clear()
                self._spilled_at = None
                position = quote + 1
                continue
            quote = chunk.find(b'"', position)
            while quote != -1 and self._escaped(chunk, position, quote):
                quote = chunk.find(b'"', quote + 1)
            if quote != -1 and quote - position <= self._threshold and not self._pending \
                    and self._spilled_at is None:
                # A short string whole in this chunk (most of them): straight to the skeleton.
                self._skeleton += b'"%s"' % view[position:quote]
                self._in_string, self._last = False, _QUOTE
                position = quote + 1
                continue
            stop = end if quote == -1 else quote
            self._string_content(chunk, view, position, stop)
            if quote == -1:
                return
            self._end_string()
            position = quote + 1

    def document(self) -> object:
        """The parsed document; big strings appear as ``{SPAN_KEY: index}`` (see ``span``)."""
        if self._in_string:
            raise BadGateway("Gemini's answer ended inside a string.")
        try:
            return json.loads(self._skeleton)
        except (ValueError, RecursionError):
            raise BadGateway("Gemini answered 200 with a body that is not JSON.") from None

    def span(self, value: object) -> Span | None:
        """The span a marker stands for, or None if ``value`` is not a marker."""
        return span_of(value, self._spans)

    def close(self) -> None:
        self.spool.close()

    def _structure(self, segment: memoryview) -> None:
        """Skeleton bytes between strings: a few punctuation marks, numbers and literals."""
        self._skeleton += segment
        data = segment.tobytes()
        for byte in data.translate(None, _NOT_BRACKETS):
            if byte in _OPENERS:
                self._containers.append(byte)
            else:
                del self._containers[-1:]
        significant = data.rstrip(_WHITESPACE)
        if significant:
            self._last = significant[-1]

    def _escaped(self, chunk: bytes, start: int, quote: int) -> bool:
        """Whether the quote at ``quote`` follows an odd run of backslashes."""
        index = quote - 1
        while index >= start and chunk[index] == _BACKSLASH:
            index -= 1
        run = quote - 1 - index
        if index < start:  # the run reaches back into earlier chunks of this string
            run += self._backslashes
        return run % 2 == 1

    def _string_content(self, chunk: bytes, view: memoryview, start: int, stop: int) -> None:
        if stop == start:
            return
        if chunk[stop - 1] == _BACKSLASH:
            index = stop - 1
            while index >= start and chunk[index] == _BACKSLASH:
                index -= 1
            run = stop - 1 - index
            self._backslashes = run + (self._backslashes if index < start else 0)
        else:
            self._backslashes = 0
        if self._spilled_at is not None:
            self.spool.append(view[start:stop])
            return
        self._pending += view[start:stop]
        if len(self._pending) > self._threshold and not self._is_key:
            self._spilled_at = self.spool.size
            self.spool.append(self._pending)
            self._pending.clear()

    def _end_string(self) -> None:
        self._in_string, self._last = False, _QUOTE
        if self._spilled_at is None:
            self._skeleton += b'"' + self._pending + b'"'
            return
        self._spans.append(Span(self.spool, self._spilled_at, self.spool.size - self._spilled_at))
        self._skeleton += b'{"\\u0000span":%d}' % (len(self._spans) - 1)


def span_of(value: object, spans: list[Span]) -> Span | None:
    """The span of ``spans`` the marker ``value`` stands for, or None if it is not one."""
    if isinstance(value, dict) and len(value) == 1:
        index = value.get(SPAN_KEY)
        if isinstance(index, int) and 0 <= index < len(spans):
            return spans[index]
    return None
