"""Request ids: the client's ``X-Request-ID`` when it is safe to echo, else a new one."""

from __future__ import annotations

import re
import uuid

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def request_id_from(header_value: str | None) -> str:
    if header_value and _ACCEPTABLE.match(header_value):
        return header_value
    return uuid.uuid4().hex
