"""``GET /v1/images/files/<name>``: the images of ``response_format: url`` answers.

No token: clients such as Open WebUI fetch the URL without headers, so the unguessable
name is the credential. The answer is immutable for its life: long caching, an ETag,
conditional and range requests (werkzeug's ``send_file`` does both).
"""

from __future__ import annotations

import io
import math

from flask import Blueprint, current_app, send_file

from .errors import ImageNotFound

bp = Blueprint("files", __name__, url_prefix="/v1")
ROUTE = "/images/files/"


@bp.get(ROUTE + "<name>")
def image_file(name: str):
    gateway = current_app.extensions["gateway"]
    stored = gateway.store.get(name)
    if stored is None:
        raise ImageNotFound(
            "No image by that name: it never existed or its URL expired (URLs live "
            f"IMAGE_URL_TTL = {gateway.settings.image_url_ttl:g} seconds). Generate it again.")
    max_age = max(1, math.floor(stored.expires_in))
    source = stored.path if stored.path is not None else io.BytesIO(stored.data or b"")
    response = send_file(source, mimetype=stored.content_type, conditional=True,
                         etag=stored.name.partition(".")[0], max_age=max_age)
    # The bytes behind a name never change: a browser need not revalidate within max-age.
    response.cache_control.immutable = True
    # send_file passes the file straight to the server, which then never calls close():
    # no access line, no request metrics. Iterated by werkzeug instead, close() runs.
    response.direct_passthrough = False
    return response
