"""gunicorn's own lines follow LOG_FORMAT and escape what a client sent (issue 11)."""

import json
import re
import socket

import pytest

pytestmark = pytest.mark.integration

RAW_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def send_raw(gateway, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as client:
        client.sendall(data)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_every_line_of_the_server_follows_the_format(start_gateway, log_format):
    gateway = start_gateway(LOG_FORMAT=log_format)
    # A malformed request line: gunicorn itself answers 400 and logs a warning.
    answer = send_raw(gateway, b"GE\x1bT /\r\n1999-01-01 FORGED HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    gateway.stop()
    output = gateway.output()
    assert not RAW_CONTROLS.search(output)
    lines = output.splitlines()
    if log_format == "json":
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        messages = " ".join(r["message"] for r in records)
    else:
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ", line)
                   for line in lines), output
        messages = output
    assert "Booting worker" in messages and "Invalid request" in messages
    assert "gemini-image-gateway starting on" in messages
