"""OpenAI-compatible image generation in front of Google's Gemini API.

``create_app()`` builds a Flask app; ``gunicorn -c gunicorn.conf.py 'app:create_app()'``
serves it with gevent workers.

This module imports nothing heavy on purpose: gunicorn.conf.py imports ``app.config`` in
the master, before gevent patches the workers, and importing requests or ssl there
would leave them unpatched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flask import Flask

    from .config import Settings


def create_app(config: Settings | Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``config``: settings, an environment mapping, or ``os.environ``."""
    from .factory import create_app as build

    return build(config)
