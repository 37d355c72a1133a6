"""No byte a client controls may start a log line or reach a terminal raw (issue 11)."""

import json
import logging
import re

import pytest
import responses

from tests import gemini_bodies as gemini
from tests.conftest import IMAGES_URL, TOKENS

AUTH = {"Authorization": f"Bearer {TOKENS[0]}"}
FORGED = "1999-01-01 00:00:00,000 INFO [1] gateway.access [-] GET /admin 200 FORGED"
# A text line starts with its time; a traceback's lines are indented.
TEXT_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ |    )")
RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def lines_written(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert not RAW_CONTROLS.search(err), "a raw control character reached the log"
    return err.split("\n")[:-1]  # only \n ends a line: anything else would be raw above


def test_a_forged_line_in_the_path_stays_inside_its_access_line(make_app, capsys):
    client = make_app().test_client()
    client.get("/%0D%0A" + FORGED.replace(" ", "%20") + "%1B[2J%E2%80%A8x")
    lines = lines_written(capsys)
    assert lines and all(TEXT_LINE.match(line) for line in lines)
    (access,) = [line for line in lines if " gateway.access " in line and "404" in line]
    assert "\\r\\n1999-01-01" in access and "\\x1b[2J" in access and "\\u2028x" in access
    assert not any(line.startswith("1999") for line in lines)


def test_dropped_field_names_at_debug_are_escaped(make_app, capsys):
    with responses.RequestsMock() as upstream:
        upstream.post(IMAGES_URL, json=gemini.images())
        make_app(LOG_LEVEL="debug").test_client().post(
            "/v1/images/generations", headers=AUTH,
            json={"prompt": "x", "seed\n" + FORGED: 1, "style\u2028": 2})
    lines = lines_written(capsys)
    assert all(TEXT_LINE.match(line) for line in lines)
    (dropped,) = [line for line in lines if "ignored parameters" in line]
    assert "seed\\n1999-01-01" in dropped and "style\\u2028" in dropped


def test_json_lines_are_one_object_each_with_nothing_raw(make_app, capsys):
    make_app(LOG_FORMAT="json").test_client().get("/%0A" + FORGED.replace(" ", "%20")
                                                   + "%E2%80%A9%C2%85%1B")
    lines = lines_written(capsys)
    records = [json.loads(line) for line in lines]
    (access,) = [r for r in records if r["logger"] == "gateway.access"]
    assert access["path"] == "/\n" + FORGED + "\u2029\x85\x1b"  # the value is intact


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_cannot_forge_a_line_either(make_app, capsys, log_format):
    make_app(LOG_FORMAT=log_format)
    log = logging.getLogger("gateway.test")
    try:
        raise ValueError("bad value\n" + FORGED)
    except ValueError:
        log.exception("failed on %r", "x\ry")
    lines = lines_written(capsys)
    if log_format == "json":
        (record,) = [json.loads(line) for line in lines]
        assert FORGED in record["exception"]
    else:
        assert lines[0].endswith("failed on 'x\\ry'")
        assert all(TEXT_LINE.match(line) for line in lines)
        assert any(line == "    " + FORGED for line in lines)
