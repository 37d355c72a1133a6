"""Hostile clients, run in their own process so they cost the measuring client nothing:
connections that send their headers a byte at a time, that send a body a byte at a time,
or that sit idle. Like a real attacker, it opens a new one whenever the server drops one,
so COUNT are always there.

    python -m tests.robustness.hostile_clients PORT COUNT SECONDS TOKEN

prints ``ready N`` once N connections are open, drips a byte into each every round,
and after SECONDS (or when its standard input closes) prints one line of JSON: how
many are open after a last round (fewer than N: the server refused new ones) and how
many of each kind the server dropped. Loopback only.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from collections import Counter

ROUND_SECONDS = 1.0  # a byte a second from each: slow, as such clients are
KINDS = ("slow_headers", "slow_body", "idle")


class Hostile:
    def __init__(self, port: int, kind: str, token: str) -> None:
        self.kind = kind
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        body = b'{"prompt": "' + b"s" * 2000 + b'"}'
        head = (f"POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.pending = {"slow_headers": head + body, "slow_body": body, "idle": b""}[kind]
        if kind == "slow_body":
            self.socket.sendall(head)  # the headers at once: the request reaches the app

    def drip(self) -> bool:
        """Send one more byte; False once the server has closed the connection."""
        try:
            readable, _, _ = select.select([self.socket], [], [], 0)
            if readable and self.socket.recv(1, socket.MSG_PEEK) == b"":
                return False
            if self.pending:
                self.socket.send(self.pending[:1])
                self.pending = self.pending[1:]
        except OSError:
            return False
        return True


def keep_up(clients: list[Hostile], index: int, port: int, token: str,
            dropped: Counter[str]) -> None:
    """Drip into one connection; if the server dropped it, open another of its kind."""
    client = clients[index]
    if not client.drip():
        dropped[client.kind] += 1
        client.socket.close()
        clients[index] = Hostile(port, client.kind, token)


def main(port: int, count: int, seconds: float, token: str) -> None:
    clients = [Hostile(port, KINDS[i % len(KINDS)], token) for i in range(count)]
    dropped: Counter[str] = Counter()
    print(f"ready {len(clients)}", flush=True)
    deadline = time.monotonic() + seconds
    done = False
    while not done and time.monotonic() < deadline:
        # Spread over the round, as independent clients would be, not all at one instant.
        for index in range(len(clients)):
            keep_up(clients, index, port, token, dropped)
            readable, _, _ = select.select([sys.stdin], [], [], ROUND_SECONDS / len(clients))
            if readable and not sys.stdin.readline():
                done = True  # the test is done with us
                break
    for index in range(len(clients)):
        keep_up(clients, index, port, token, dropped)
    still_open = sum(client.drip() for client in clients)
    print(json.dumps({"open": still_open, "dropped": dict(dropped)}), flush=True)
    for client in clients:
        client.socket.close()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
