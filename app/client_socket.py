"""The client's end of the connection: whether it is still there, and how long a
streamed answer may wait for it.

WSGI gives no disconnect signal, but gunicorn hands the app its socket. A peek at it
that finds the end of the stream means the client closed its connection.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Callable, Iterator
from typing import Protocol

from werkzeug.exceptions import ClientDisconnected

from .errors import RequestTimeout


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


class ClientTooSlow(ConnectionResetError):
    """The client did not take a streamed answer in time. A reset (ECONNRESET), so that
    gunicorn drops the connection quietly, as it does for a client that went away."""

    def __init__(self) -> None:
        super().__init__(errno.ECONNRESET, "the client did not take the answer in time")


def send_deadline(seconds: float) -> Timer | None:
    """Under gevent, a started timer that raises ``ClientTooSlow`` in this greenlet after
    ``seconds`` wherever it waits: in a write to the client too, which the server makes
    between two chunks of a streamed answer, outside any code of ours. ``cancel()`` it once
    the answer is through. None without gevent (tests): nothing to bound there."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        return None
    import gevent

    return gevent.Timeout.start_new(max(seconds, 0.001), ClientTooSlow())


class Timer(Protocol):
    pending: bool

    def cancel(self) -> None: ...


@contextlib.contextmanager
def body_deadline(environ: dict, seconds: float) -> Iterator[None]:
    """Reading a request body with no pause longer than ``seconds`` between two reads
    (CLIENT_BODY_TIMEOUT): gunicorn drops a connection whose headers dawdle, not one whose
    body does, so without this a client dripping its body holds a connection for ever."""
    client = environ.get("gunicorn.socket")
    previous = client.gettimeout() if client is not None else None
    if client is not None:
        client.settimeout(seconds)
    try:
        yield
    except ClientDisconnected as exc:
        # werkzeug reports any failed read as a disconnect; a timeout stays its context.
        if isinstance(exc.__context__, TimeoutError):
            raise RequestTimeout(
                "The request body did not arrive in time (CLIENT_BODY_TIMEOUT between reads)."
            ) from None
        raise
    finally:
        if client is not None:
            client.settimeout(previous)
