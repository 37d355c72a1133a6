"""The soak's clients: ordinary requests, a few bad ones, and some that leave early.

Each request is numbered; its prompt is ``soak-<n>`` so the fake's record of what the
upstream did for it can be found. A seeded generator per number decides what kind of
client it is, so the same numbers behave the same way every run.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from dataclasses import dataclass, field

PATH = "/v1/images/generations"


@dataclass
class Outcome:
    number: int
    kind: str  # answered | short (body ended early) | left (client hung up) | lost
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    problem: str = ""


def run_client(port: int, number: int, seed: int, token: str) -> Outcome:
    rng = random.Random(f"{seed}/client/{number}")
    roll = rng.random()
    prompt = f"soak-{number}"
    body = json.dumps({"prompt": prompt, "n": rng.randint(1, 2), "size": "1024x1024"}).encode()
    if roll < 0.03:
        return _leave_after_sending(port, number, body, token, wait=rng.uniform(0, 0.3))
    if roll < 0.04:
        return _leave_mid_body(port, number, body, token)
    if roll < 0.05:
        body = b'{"prompt": "' + prompt.encode() + b'", "n": 9}'
    elif roll < 0.06:
        body = b'{"prompt": "' + prompt.encode() + b'"'  # not JSON
    return _request(port, number, body, token)


def _headers(token: str, length: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
            "Content-Length": str(length), "Connection": "close"}


def _request(port: int, number: int, body: bytes, token: str) -> Outcome:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", PATH, body, _headers(token, len(body)))
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return Outcome(number, "lost", problem=type(exc).__name__)
    outcome = Outcome(number, "answered", response.status, response.getheaders())
    try:
        outcome.body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        outcome.kind, outcome.problem = "short", type(exc).__name__
    finally:
        connection.close()
    return outcome


def _leave_after_sending(port: int, number: int, body: bytes, token: str,
                         wait: float) -> Outcome:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(_raw_request(body, token))
        time.sleep(wait)
    return Outcome(number, "left")


def _leave_mid_body(port: int, number: int, body: bytes, token: str) -> Outcome:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        raw = _raw_request(body, token)
        client.sendall(raw[: len(raw) - len(body) // 2])
        time.sleep(0.05)
    return Outcome(number, "left")


def _raw_request(body: bytes, token: str) -> bytes:
    head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in _headers(token, len(body)).items())
    return head.encode() + b"\r\n" + body
