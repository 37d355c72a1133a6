"""How bytes reach Gemini: one exchange through the session's mounted adapter, and that
adapter's sockets.

``Session.request`` merges cookies, environment settings, session headers and hooks into
every call, and ``Session.send`` then stores cookies and looks for a redirect: together
14 % of a small generation's CPU in the gateway (issue 8's N1 profile), for nothing the
gateway wants. It sends no cookies (one key's cookie must never ride along with another
key's request), reads no proxy settings from the environment (``trust_env`` is off) and
never follows a redirect. So the request is prepared here, with the session's own headers,
and handed to the adapter the session mounted for its URL: the same connection pool, the
same urllib3 ``Retry``, the same timeouts and exceptions as ``session.request``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import IO

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers, super_len
from urllib3.connection import HTTPConnection

JSON = "application/json"


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    payload: object,
    auth: Callable[[requests.PreparedRequest], requests.PreparedRequest],
    timeout: tuple[float, float],
) -> requests.Response:
    """``payload``: a JSON document, a file-like body with ``content_type``, or None.

    The answer is streamed (``response.raw``), never read here; redirects are not followed.
    """
    prepared = requests.PreparedRequest()
    prepared.method = method
    prepared.prepare_url(url, None)  # quoting as requests does it: paths name models
    headers = CaseInsensitiveDict(session.headers)
    body: bytes | IO[bytes] | None = None
    if hasattr(payload, "read"):
        body = payload  # an edit's uploads, in a file: sent from where the caller seeked
        headers["Content-Type"] = payload.content_type
        headers["Content-Length"] = str(super_len(payload))
    elif payload is not None:
        # What requests' json= sends: no NaN (not JSON), UTF-8.
        body = json.dumps(payload, allow_nan=False).encode()
        headers["Content-Type"] = JSON
        headers["Content-Length"] = str(len(body))
    prepared.headers = headers
    prepared.body = body
    prepared.hooks = {"response": []}
    prepared = auth(prepared)
    adapter = session.get_adapter(prepared.url)
    return adapter.send(prepared, stream=True, timeout=timeout, verify=session.verify,
                        cert=session.cert, proxies={})


# Gemini's answers are megabytes of base64. With a receive buffer that holds a good part of
# one, the kernel takes an answer in while the worker serves others, and the worker reads
# it in a few large gulps instead of many wake-ups (N3 in `make bench`: a fifth less CPU
# a 2 MB answer). 1 MiB measured best; 2 and 4 MiB cost more again.
RECEIVE_BUFFER = 1 << 20
_RMEM_MAX = "/proc/sys/net/core/rmem_max"


def socket_options(rmem_max: int | None = None) -> list[tuple[int, int, int]]:
    """urllib3's defaults (no Nagle), plus the receive buffer where the kernel grants it.

    Setting SO_RCVBUF turns off the kernel's own sizing of the buffer for that socket. Where
    ``net.core.rmem_max`` is below RECEIVE_BUFFER the request would be cut to that cap,
    which could be smaller than what the kernel would have grown to: leave it alone there.
    """
    options = list(HTTPConnection.default_socket_options)
    if rmem_max is None:
        rmem_max = _read_rmem_max()
    if rmem_max >= RECEIVE_BUFFER:
        options.append((socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER))
    return options


def _read_rmem_max() -> int:
    try:
        with open(_RMEM_MAX) as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return 0  # not Linux, or not readable: the kernel's defaults


class UpstreamAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose connections carry ``socket_options()``, and which does
    less per call for the one upstream it talks to (each cut measured in N1's profile):
    the connection pool of a host is looked up once, not rebuilt from a key of thirty
    fields every call (1.6 %), and answers fill no cookie jar (1 %)."""

    def __init__(self, *args, **kwargs) -> None:
        self._pools: dict[tuple, object] = {}
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs.setdefault("socket_options", socket_options())
        self._pools = {}
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        url = request.url
        origin = url[:url.find("/", url.find("//") + 2)]  # scheme://host:port
        key = (origin, verify, cert, bool(proxies))
        pool = self._pools.get(key)
        # A pool the manager has since dropped (past pool_connections hosts) is closed.
        if pool is None or pool.pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            if not proxies:
                self._pools[key] = pool
        return pool

    def build_response(self, req, resp):
        response = requests.Response()
        response.status_code = getattr(resp, "status", None)
        response.headers = CaseInsensitiveDict(getattr(resp, "headers", {}))
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url
        response.request = req
        response.connection = self
        return response  # no extract_cookies_to_jar: the gateway keeps no cookies

    def close(self) -> None:
        self._pools = {}
        super().close()
