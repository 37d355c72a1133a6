"""Gemini's ``streamGenerateContent?alt=sse`` read as it arrives, in bounded memory.

Each ``data:`` event is one JSON chunk of the answer; the one holding the final image is
megabytes long, so every event gets its own ``SpoolingScanner`` (big strings go to a spool,
never into memory). As each event ends, thought images (drafts) are handed to ``on_draft``
at once, for streaming clients' partial images. When the body is over, the events read
as one answer: ``document()`` merges their parts (markers renumbered) and ``span()``
finds any event's spans, so ``native.read_answer`` reads the merged answer unchanged.

``cancelled()`` is asked before every chunk; when it says so the read stops with
``ClientDisconnected``, which frees the call's slot.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import BadGateway, ClientDisconnected
from .native import ImageData, _image
from .spool import SPAN_KEY, MemoryBudget, Span, SpoolingScanner, span_of

_DATA = b"data:"


class SseAnswer:
    """A ``Sink`` for ``UpstreamClient.call``, and the scanner ``read_answer`` reads."""

    def __init__(self, *, on_draft: Callable[[ImageData], None] | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 memory_bytes: int = 1 << 20, budget: MemoryBudget | None = None) -> None:
        self._on_draft = on_draft
        self._cancelled = cancelled
        self._memory_bytes = memory_bytes
        self._budget = budget  # shared with the worker's other answers, when given
        self._head = bytearray()  # the start of a line, until its field is known
        self._kind: str | None = None  # "data" or "skip" once known
        self._event: SpoolingScanner | None = None
        self._event_has_data = False
        self._scanners: list[SpoolingScanner] = []
        self._parts: list = []
        self._spans: list[Span] = []
        self._merged: dict = {}

    # Sink
    def feed(self, chunk: bytes) -> None:
        if self._cancelled is not None and self._cancelled():
            raise ClientDisconnected("The client left while Gemini was answering.")
        position, end = 0, len(chunk)
        while position < end:
            newline = chunk.find(b"\n", position)
            stop = end if newline == -1 else newline
            if stop > position:
                self._line_piece(chunk[position:stop])
            if newline == -1:
                return
            self._line_end()
            position = newline + 1

    def close(self) -> None:
        for scanner in self._scanners:
            scanner.close()
        if self._event is not None:
            self._event.close()

    # What read_answer asks of a scanner
    def document(self) -> dict:
        self._dispatch()  # a last event without its blank line
        if not self._scanners:
            raise BadGateway("Gemini's stream ended without an event.")
        merged = dict(self._merged)
        candidate = dict(merged.get("candidate") or {})
        candidate["content"] = {"role": "model", "parts": self._parts}
        merged.pop("candidate", None)
        merged["candidates"] = [candidate]
        return merged

    def span(self, value: object) -> Span | None:
        return span_of(value, self._spans)

    # SSE lines
    def _line_piece(self, piece: bytes) -> None:
        if self._kind == "data":
            self._event.feed(piece)  # type: ignore[union-attr]
            return
        if self._kind == "skip":
            return
        self._head += piece
        if self._head.startswith(_DATA):
            rest = bytes(self._head[len(_DATA):])
            self._kind = "data"
            if self._event is None:
                self._event = SpoolingScanner(memory_bytes=self._memory_bytes, budget=self._budget)
            elif self._event_has_data:
                self._event.feed(b"\n")  # data lines of one event join with a newline
            self._event_has_data = True
            if rest:
                self._event.feed(rest)
        elif len(self._head) >= len(_DATA) or not _DATA.startswith(bytes(self._head)):
            self._kind = "skip"  # a comment, event:, id: or retry: line

    def _line_end(self) -> None:
        blank = self._kind != "data" and not self._head.strip(b"\r")
        self._head.clear()
        self._kind = None
        if blank:
            self._dispatch()

    def _dispatch(self) -> None:
        scanner, self._event, self._event_has_data = self._event, None, False
        if scanner is None:
            return
        self._scanners.append(scanner)
        document = scanner.document()
        if not isinstance(document, dict):
            raise BadGateway("Gemini's stream held an event that is not a JSON object.")
        if isinstance(document.get("error"), dict):
            message = document["error"].get("message")
            raise BadGateway("Gemini reported an error mid-answer"
                             + (f": {message}" if isinstance(message, str) else "."))
        document = self._renumbered(document, scanner)
        for name in ("promptFeedback", "usageMetadata", "modelVersion", "responseId"):
            if name in document:
                self._merged[name] = document[name]
        candidates = document.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if not isinstance(candidate, dict):
            return
        kept = self._merged.setdefault("candidate", {})
        for name in ("finishReason", "finishMessage", "index"):
            if name in candidate:
                kept[name] = candidate[name]
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, dict) or part == {"text": ""}:
                continue
            self._parts.append(part)
            if part.get("thought") is True and self._on_draft is not None:
                draft = _image(self, part.get("inlineData"))
                if draft is not None:
                    self._on_draft(draft)

    def _renumbered(self, node: object, scanner: SpoolingScanner) -> object:
        """The event's markers pointing into this answer's list of spans."""
        span = scanner.span(node)
        if span is not None:
            self._spans.append(span)
            return {SPAN_KEY: len(self._spans) - 1}
        if isinstance(node, dict):
            return {key: self._renumbered(value, scanner) for key, value in node.items()}
        if isinstance(node, list):
            return [self._renumbered(item, scanner) for item in node]
        return node
