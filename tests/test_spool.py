"""The spooling scanner reads any JSON document, split anywhere, as json.loads does, while
keeping long strings out of memory."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.gemini.spool import MemoryBudget, SpoolingScanner

THRESHOLD = 16
strings = st.text(alphabet=st.characters(codec="utf-8"), max_size=60) | st.sampled_from(
    ['\\"' * 10, "\\" * 33, 'a"b\\"c' * 5, "x" * 40 + "\\", "é\u2028\n\t" * 9])
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | strings,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(strings, inner, max_size=4),
    max_leaves=12,
)


def rebuilt(scanner, value):
    span = scanner.span(value)
    if span is not None:
        return json.loads(b'"' + span.read() + b'"')
    if isinstance(value, dict):
        return {key: rebuilt(scanner, item) for key, item in value.items()}
    if isinstance(value, list):
        return [rebuilt(scanner, item) for item in value]
    return value


@settings(max_examples=300, deadline=None)
@given(documents, st.lists(st.integers(min_value=1, max_value=50), max_size=30))
def test_any_document_split_anywhere_reads_back_the_same(document, cuts):
    raw = json.dumps(document, ensure_ascii=False).encode()
    scanner = SpoolingScanner(threshold=THRESHOLD, memory_bytes=64)
    try:
        position = 0
        for cut in cuts:
            scanner.feed(raw[position:position + cut])
            position += cut
        scanner.feed(raw[position:])
        assert rebuilt(scanner, scanner.document()) == document
    finally:
        scanner.close()


def test_long_strings_leave_the_skeleton_and_short_ones_stay():
    image = "A" * 100_000
    raw = json.dumps({"parts": [{"text": "hi"}, {"inlineData": {"data": image}}]}).encode()
    scanner = SpoolingScanner(threshold=4096, memory_bytes=1024)
    for index in range(0, len(raw), 7_000):
        scanner.feed(raw[index:index + 7_000])
    document = scanner.document()
    assert document["parts"][0] == {"text": "hi"}
    span = scanner.span(document["parts"][1]["inlineData"]["data"])
    assert span.length == 100_000 and b"".join(span.chunks(9_999)) == image.encode()
    assert len(scanner._skeleton) < 200
    scanner.close()


def test_text_that_spells_a_marker_stays_text():
    forged = '{"\\u0000span":0}'
    raw = json.dumps({"text": forged, "data": "B" * 5000}).encode()
    scanner = SpoolingScanner(threshold=4096)
    scanner.feed(raw)
    document = scanner.document()
    assert document["text"] == forged and scanner.span(document["text"]) is None
    assert scanner.span(document["data"]).read() == b"B" * 5000
    scanner.close()


def spooled(scanner, raw, cut=7_000):
    for index in range(0, len(raw), cut):
        scanner.feed(raw[index:index + cut])
    document = scanner.document()
    return scanner.span(document["data"])


def test_answers_sharing_a_budget_keep_what_fits_in_memory_and_the_rest_in_files():
    budget = MemoryBudget(150_000)
    images = [bytes([65 + i]) * 100_000 for i in range(3)]
    scanners = [SpoolingScanner(budget=budget) for _ in images]
    spans = [spooled(scanner, json.dumps({"data": image.decode()}).encode())
             for scanner, image in zip(scanners, images, strict=True)]
    assert budget.used <= 150_000
    for span, image in zip(spans, images, strict=True):
        assert b"".join(span.chunks(9_999)) == image and span.read() == image
        assert span.head(10) == image[:10]
    for scanner in scanners:
        scanner.close()
    assert budget.used == 0  # what closed answers held is free for the next ones


def test_a_spool_that_overflows_the_budget_mid_string_reads_back_whole():
    budget = MemoryBudget(50_000)
    image = bytes(range(48, 58)) * 20_000  # 200 KB of digits, fed in chunks of 7,000
    scanner = SpoolingScanner(budget=budget)
    span = spooled(scanner, json.dumps({"data": image.decode()}).encode())
    assert budget.used == 0  # all moved to the file when it no longer fitted
    assert b"".join(span.chunks()) == image and span.read() == image
    scanner.close()
