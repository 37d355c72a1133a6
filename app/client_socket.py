"""Whether the client is still there, for a request that waited for a slot.

WSGI gives no disconnect signal, but gunicorn hands the app its socket. A peek at it
that finds the end of the stream means the client closed its connection.
"""

from __future__ import annotations

import socket
from collections.abc import Callable


def disconnect_check(environ: dict) -> Callable[[], bool] | None:
    client = environ.get("gunicorn.socket")
    if client is None:
        return None

    def client_gone() -> bool:
        # Not select(): it fails for descriptors past 1024, which a worker holding
        # a thousand clients and a thousand upstream connections reaches.
        previous = client.gettimeout()
        try:
            client.settimeout(0.0)  # a peek that never waits (gevent sockets too)
            return client.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            return False  # nothing to read: still connected
        except (ConnectionError, TimeoutError):
            return True
        except OSError:
            return False  # unsure: better one call too many than a live client dropped
        finally:
            client.settimeout(previous)

    return client_gone
