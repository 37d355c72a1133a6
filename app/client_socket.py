"""Whether the client is still there, for a request that waited for a slot.

WSGI gives no disconnect signal, but gunicorn hands the app its socket. A socket that is
readable and yields no byte on a peek has been closed by the client.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable


def disconnect_check(environ: dict) -> Callable[[], bool] | None:
    client = environ.get("gunicorn.socket")
    if client is None:
        return None

    def client_gone() -> bool:
        try:
            readable, _, _ = select.select([client], [], [], 0)
            return bool(readable) and client.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    return client_gone
