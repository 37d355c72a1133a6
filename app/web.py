"""The gateway's own pages: the image playground (``GET /``) and the operators'
dashboard (``GET /admin``).

The pages hold no data and no secret: every call they make goes to the JSON API with the
token the person typed, sent as ``Authorization: Bearer`` from ``sessionStorage``. So the
HTML may be served without a token, there is no cookie to forge (no CSRF surface), and the
strict CSP below (no inline script or style) leaves an injected tag nothing to run.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

bp = Blueprint("web", __name__, template_folder="templates")

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "img-src 'self' data: blob:",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.get("/")
def playground():
    settings = current_app.extensions["gateway"].settings
    if not settings.playground_enabled:
        abort(404)  # PLAYGROUND=false: the gateway is an API and nothing else
    return _page("playground.html", 200, token_needed=settings.auth_enabled, demo=settings.demo)


@bp.get("/admin")
def dashboard():
    """The page itself; its data comes from ``/admin/keys`` and ``/admin/stats``, which
    ask for ``ADMIN_TOKEN`` on every call."""
    settings = current_app.extensions["gateway"].settings
    configured = settings.admin_token is not None
    return _page("dashboard.html", 200 if configured else 404, configured=configured)


def _page(template: str, status: int, **context):
    page = template.removesuffix(".html")
    return render_template(template, page=page, **context), status, PAGE_HEADERS
