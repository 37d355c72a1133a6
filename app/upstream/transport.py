"""One HTTP exchange with Gemini through the session's mounted ``HTTPAdapter``.

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
from collections.abc import Callable
from typing import IO

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import super_len

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
