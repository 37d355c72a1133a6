"""Builds the Flask app and the long-lived resources of one worker."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from flask import Flask

from . import admin, api, edits, files, probes, request_lifecycle, web
from .auth import TokenChecker
from .client_limits import ClientLimits
from .config import Settings
from .cors import Cors
from .error_handlers import register_error_handlers
from .gemini.demo import DEMO_BASE_URL, DEMO_ROOT, DemoUpstreamAdapter
from .gemini.models import ModelNames, ModelTable
from .gemini.verdict import judge
from .generation import ImageGenerator
from .key_pool import KeyPool
from .keys.redis_states import RedisStates
from .keys.reprobe import Reprober
from .logs import configure_logging, mask_gunicorn_output, route_through_gateway_handler
from .metrics import Metrics
from .models_catalog import ModelCatalog
from .redaction import Redactor
from .redis_link import RedisLink
from .store import ImageStore
from .store import from_settings as image_store_from_settings
from .upstream import UpstreamClient, build_session
from .upstream.client import BearerKey, GoogApiKey
from .upstream.redis_slots import RedisSlots
from .upstream.slots import LocalSlots, Slots

__all__ = ["Gateway", "create_app"]


@dataclass
class Gateway:
    """The long-lived resources of one app (one gunicorn worker)."""

    settings: Settings
    pool: KeyPool
    tokens: TokenChecker
    admin_tokens: TokenChecker
    upstream: UpstreamClient
    images: ImageGenerator
    models: ModelCatalog
    metrics: Metrics
    cors: Cors
    redact: Redactor
    clients: ClientLimits
    store: ImageStore
    reprober: Reprober
    redis: RedisLink | None = None


def create_app(config: Settings | Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``config``: settings, an environment mapping, or ``os.environ``."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_environ(os.environ if config is None else config)
    if settings.demo:
        # The demo speaks both APIs: its compat URL, whose native root is DEMO_ROOT.
        settings = replace(settings, gemini_base_url=DEMO_BASE_URL)

    configure_logging(settings)
    app = Flask(__name__)
    route_through_gateway_handler(app.logger)
    mask_gunicorn_output()
    # Werkzeug answers 413 when a body is larger, before we read it.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.json.compact = True

    table = ModelTable.load(settings.models_file)
    session = build_session(settings)
    if settings.demo:
        session.mount(DEMO_ROOT, DemoUpstreamAdapter(table))
    link = RedisLink(settings.redis_url, settings.redis_prefix) if settings.redis_url else None
    pool = KeyPool(settings.gemini_api_keys,
                   shared=RedisStates(link, settings.gemini_api_keys) if link else None)
    metrics = Metrics(pool)
    native = settings.upstream_api == "gemini"
    upstream = UpstreamClient(settings, pool, session, judge=judge, observer=metrics,
                              base_url=settings.upstream_root,
                              auth=GoogApiKey if native else BearerKey,
                              slots=_slots(settings, link))
    names = ModelNames(settings.default_model, settings.model_aliases)
    app.extensions["gateway"] = Gateway(
        settings=settings,
        pool=pool,
        tokens=TokenChecker(settings.proxy_auth_keys),
        admin_tokens=TokenChecker([settings.admin_token] if settings.admin_token else [],
                                  named="the ADMIN_TOKEN value"),
        upstream=upstream,
        images=ImageGenerator(settings, upstream, table, names),
        models=ModelCatalog(upstream, settings.models_cache_ttl, names, native=native),
        metrics=metrics,
        cors=Cors(settings.cors_origins),
        redact=Redactor(settings.secrets),
        clients=ClientLimits(settings.client_rate_limit, settings.client_image_quota, link,
                             observer=metrics),
        reprober=Reprober(pool, session, settings, link),
        redis=link,
        store=image_store_from_settings(settings),
    )

    for blueprint in (api.bp, edits.bp, files.bp, probes.bp, admin.bp, web.bp):
        app.register_blueprint(blueprint)
    request_lifecycle.install(app)
    register_error_handlers(app)
    app.before_request(app.extensions["gateway"].reprober.poke)
    return app


# A lease outlives the longest call it can cover, so only a dead worker's lease expires.
LEASE_MARGIN = 5.0


def _slots(settings: Settings, link: RedisLink | None) -> Slots:
    """MAX_CONCURRENT for the deployment with Redis, for this worker without."""
    if link is None:
        return LocalSlots(settings.max_concurrent)
    return RedisSlots(link, settings.max_concurrent, settings.request_deadline + LEASE_MARGIN)
