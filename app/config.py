"""Settings, parsed once from an explicit environment mapping.

Every variable has a parser that either returns a typed value or raises
``ConfigError`` naming the variable and the accepted form. Secrets (Gemini keys,
client tokens) are kept out of ``repr`` and out of every error message.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
DEFAULT_MODEL = "gemini-nano-banana-2.1"
UPSTREAM_APIS = ("gemini", "openai")
# The seed documented the OpenAI-compatibility layer's URL; the native API lives one level up.
COMPAT_SUFFIX = "/openai"
IMAGE_STORES = ("disk", "redis")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
MIB = 1024 * 1024


class ConfigError(ValueError):
    """Variables are missing or malformed: one problem for each, naming the variable and
    the accepted form, so an operator fixes them all in one go."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    gemini_api_keys: tuple[str, ...] = field(repr=False)
    proxy_auth_keys: tuple[str, ...] = field(default=(), repr=False)
    port: int = 8000
    gemini_base_url: str = DEFAULT_BASE_URL
    max_concurrent: int = 10
    max_retries: int = 3
    retry_delay_ms: int = 1000
    upstream_connect_timeout: float = 10.0
    upstream_read_timeout: float = 180.0
    request_deadline: float = 300.0
    queue_timeout: float = 30.0
    client_body_timeout: float = 30.0
    max_body_bytes: int = MIB
    max_upstream_bytes: int = 64 * MIB
    default_model: str = DEFAULT_MODEL
    log_level: str = "info"
    log_format: str = "text"
    log_prompts: bool = False
    demo: bool = False
    admin_token: str | None = field(default=None, repr=False)
    metrics_auth: bool = False
    models_cache_ttl: float = 600.0
    cors_origins: tuple[str, ...] = ()
    upstream_api: str = "gemini"
    models_file: str | None = None
    model_aliases: tuple[tuple[str, str], ...] = ()
    host: str | None = None
    allow_open: bool = False
    # Shared state (issue 12): unset = each worker keeps its own, as before.
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = "gateway:"
    client_rate_limit: int = 0  # requests per minute per client token, 0 = off
    client_image_quota: int = 0  # images per UTC day per client token, 0 = off
    key_reprobe_interval: float = 600.0  # seconds, 0 = never re-probe
    playground: bool | None = None  # None: on in demo mode and behind client tokens
    max_image_bytes: int = 20 * MIB
    max_edit_body_bytes: int = 64 * MIB
    image_store: str = "disk"
    image_store_dir: str | None = None  # None: a folder in the system's temporary directory
    image_url_ttl: float = 3600.0
    image_store_max_bytes: int = 1024 * MIB
    public_base_url: str | None = None
    stream_keepalive: float = 15.0

    @property
    def upstream_root(self) -> str:
        """Where upstream paths start: the native root for ``gemini`` (a trailing
        ``/openai`` dropped), ``GEMINI_BASE_URL`` as it is for ``openai``."""
        if self.upstream_api == "gemini":
            return self.gemini_base_url.removesuffix(COMPAT_SUFFIX)
        return self.gemini_base_url

    @property
    def playground_enabled(self) -> bool:
        """Whether ``GET /`` serves the browser playground.

        Unset, it is on where it cannot hand strangers free images: in demo mode, or when
        every call it makes needs a client token."""
        if self.playground is not None:
            return self.playground
        return self.demo or self.auth_enabled

    @property
    def auth_enabled(self) -> bool:
        return bool(self.proxy_auth_keys)

    @property
    def bind_host(self) -> str:
        """HOST when set. Otherwise every interface, unless real keys would be served to
        anyone without a token: then loopback only, until ALLOW_OPEN=true says that is meant."""
        if self.host is not None:
            return self.host
        if self.auth_enabled or self.demo or self.allow_open:
            return "0.0.0.0"
        return "127.0.0.1"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value that must never be printed."""
        admin = (self.admin_token,) if self.admin_token else ()
        # A Redis URL with a password is a secret as a whole, and so is its password.
        redis_password = urlsplit(self.redis_url).password if self.redis_url else None
        redis = (self.redis_url,) if self.redis_url and "@" in self.redis_url else ()
        redis += (redis_password,) if redis_password else ()
        return self.gemini_api_keys + self.proxy_auth_keys + admin + redis

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Parse ``environ``; raise one ``ConfigError`` listing every bad variable."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        malformed: set[str] = set()
        for name, (attribute, parse) in _PARSERS.items():
            raw = environ.get(name)
            if raw is not None and raw.strip() != "":
                try:
                    values[attribute] = parse(name, raw.strip())
                except ConfigError as error:
                    problems.extend(error.problems)
                    malformed.add(name)
        demo = values.get("demo", False)
        if demo:
            # The demo upstream ignores keys; one placeholder keeps the key pool uniform.
            values["gemini_api_keys"] = values.get("gemini_api_keys") or ("demo-key-0000",)
        elif not values.get("gemini_api_keys") and "GEMINI_API_KEYS" not in malformed:
            problems.append(
                "GEMINI_API_KEYS is required: a comma-separated list of Gemini API keys "
                "(or set DEMO=true to run on the built-in offline demo upstream)"
            )
        settings = cls(**{"gemini_api_keys": (), **values})
        if settings.metrics_auth and not settings.admin_token:
            problems.append("METRICS_AUTH=true needs ADMIN_TOKEN: the token /metrics asks for")
        if settings.image_store == "redis" and not settings.redis_url:
            problems.append("IMAGE_STORE=redis needs REDIS_URL, e.g. redis://localhost:6379/0")
        if settings.request_deadline < settings.upstream_connect_timeout:
            problems.append("REQUEST_DEADLINE must be at least UPSTREAM_CONNECT_TIMEOUT (seconds)")
        if problems:
            raise ConfigError(*problems)
        return settings


def _secret_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated, blanks trimmed, empties and duplicates dropped, order kept."""
    items = [item.strip() for item in raw.split(",")]
    unique = tuple(dict.fromkeys(item for item in items if item))
    if any(any(ch.isspace() for ch in item) for item in unique):
        raise ConfigError(f"{name} must be a comma-separated list of values without spaces")
    return unique


def _integer(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(
                f"{name} must be a whole number from {low} to {high}, got {raw!r}"
            ) from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


def _seconds(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(
                f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw!r}"
            )
        return value

    return parse


def _base_url(name: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or len(raw) < len("http://x"):
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    if any(ch.isspace() for ch in raw) or "?" in raw or "#" in raw:
        raise ConfigError(f"{name} must be a plain base URL without query or fragment")
    return raw.rstrip("/")


def _model(name: str, raw: str) -> str:
    if any(ch.isspace() for ch in raw) or len(raw) > 200:
        raise ConfigError(f"{name} must be a model id such as {DEFAULT_MODEL!r}, got {raw!r}")
    return raw


def _log_level(name: str, raw: str) -> str:
    level = raw.lower()
    if level not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level


def _secret(name: str, raw: str) -> str:
    if any(ch.isspace() for ch in raw) or len(raw) < 16:
        raise ConfigError(f"{name} must be at least 16 characters without spaces")
    return raw


def _upstream_api(name: str, raw: str) -> str:
    if raw.lower() not in UPSTREAM_APIS:
        raise ConfigError(f"{name} must be gemini (native generateContent) or openai "
                          f"(an OpenAI-compatible images API), got {raw!r}")
    return raw.lower()


def _models_file(name: str, raw: str) -> str:
    from .gemini.models import ModelTable, ModelTableError

    try:
        ModelTable.load(raw)  # read now, so a bad file stops the gateway before it serves
    except ModelTableError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return raw


def _aliases(name: str, raw: str) -> tuple[tuple[str, str], ...]:
    """``name=target,...``; a name ending in ``*`` matches every name that starts so."""
    pairs = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        alias, equals, target = (side.strip() for side in item.partition("="))
        if not equals or not alias or not target or any(
                ch.isspace() for ch in alias + target) or "*" in target or "*" in alias[:-1]:
            raise ConfigError(f"{name} must be comma-separated name=model pairs such as "
                              f"dall-e-3={DEFAULT_MODEL}, got {item!r}")
        pairs.append((alias, target))
    return tuple(pairs)


def _image_store(name: str, raw: str) -> str:
    if raw.lower() not in IMAGE_STORES:
        raise ConfigError(f"{name} must be disk (a folder, one machine) or redis (shared by "
                          f"every worker and instance), got {raw!r}")
    return raw.lower()


def _log_format(name: str, raw: str) -> str:
    if raw.lower() not in ("text", "json"):
        raise ConfigError(f"{name} must be text or json, got {raw!r}")
    return raw.lower()


def _origins(name: str, raw: str) -> tuple[str, ...]:
    """``*`` or a comma-separated list of origins such as ``https://app.example.com``."""
    origins = tuple(dict.fromkeys(o.strip().rstrip("/") for o in raw.split(",") if o.strip()))
    if origins == ("*",):
        return origins
    for origin in origins:
        scheme, _, host = origin.partition("://")
        if scheme not in ("http", "https") or not host or "/" in host or origin == "*":
            raise ConfigError(
                f"{name} must be * or comma-separated origins like https://app.example.com, "
                f"got {origin!r}"
            )
    return origins


_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def _host(name: str, raw: str) -> str:
    """An address to listen on: an IPv4 or IPv6 address or a host name."""
    try:
        return str(ipaddress.ip_address(raw.strip("[]")))
    except ValueError:
        pass
    if not _HOSTNAME.match(raw):
        raise ConfigError(f"{name} must be an address to listen on such as 0.0.0.0, 127.0.0.1 "
                          f"or ::, got {raw!r}")
    return raw


def _redis_url(name: str, raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")) or any(ch.isspace() for ch in raw):
        # The value may hold a password: never echo it.
        raise ConfigError(f"{name} must be a redis://, rediss:// or unix:// URL")
    return raw


def _redis_prefix(name: str, raw: str) -> str:
    if len(raw) > 64 or not all(ch.isalnum() or ch in ":_.-" for ch in raw):
        raise ConfigError(
            f"{name} must be up to 64 letters, digits or ':_.-' (such as 'gateway:'), got {raw!r}"
        )
    return raw


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


_PARSERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "GEMINI_API_KEYS": ("gemini_api_keys", _secret_list),
    "PROXY_AUTH_KEYS": ("proxy_auth_keys", _secret_list),
    "PORT": ("port", _integer(1, 65535)),
    "GEMINI_BASE_URL": ("gemini_base_url", _base_url),
    "MAX_CONCURRENT": ("max_concurrent", _integer(1, 100_000)),
    "MAX_RETRIES": ("max_retries", _integer(0, 10)),
    "RETRY_DELAY": ("retry_delay_ms", _integer(0, 600_000)),
    "UPSTREAM_CONNECT_TIMEOUT": ("upstream_connect_timeout", _seconds(0.1, 600)),
    "UPSTREAM_READ_TIMEOUT": ("upstream_read_timeout", _seconds(0.1, 3600)),
    "REQUEST_DEADLINE": ("request_deadline", _seconds(0.1, 3600)),
    "QUEUE_TIMEOUT": ("queue_timeout", _seconds(0, 3600)),
    "CLIENT_BODY_TIMEOUT": ("client_body_timeout", _seconds(0.1, 3600)),
    "MAX_BODY_BYTES": ("max_body_bytes", _integer(1024, 1024 * MIB)),
    "MAX_UPSTREAM_BYTES": ("max_upstream_bytes", _integer(1024, 4096 * MIB)),
    "DEFAULT_MODEL": ("default_model", _model),
    "LOG_LEVEL": ("log_level", _log_level),
    "LOG_FORMAT": ("log_format", _log_format),
    "LOG_PROMPTS": ("log_prompts", _boolean),
    "DEMO": ("demo", _boolean),
    "ADMIN_TOKEN": ("admin_token", _secret),
    "METRICS_AUTH": ("metrics_auth", _boolean),
    "MODELS_CACHE_TTL": ("models_cache_ttl", _seconds(0, 86400)),
    "CORS_ORIGINS": ("cors_origins", _origins),
    # The native Gemini backend (issue 8).
    "UPSTREAM_API": ("upstream_api", _upstream_api),
    "MODELS_FILE": ("models_file", _models_file),
    "MODEL_ALIASES": ("model_aliases", _aliases),
    # Where to listen (issue 11): loopback unless client tokens are set or this is meant.
    "HOST": ("host", _host),
    "ALLOW_OPEN": ("allow_open", _boolean),
    # Issue 12: shared state, client limits and key re-probing.
    "REDIS_URL": ("redis_url", _redis_url),
    "REDIS_PREFIX": ("redis_prefix", _redis_prefix),
    "CLIENT_RATE_LIMIT": ("client_rate_limit", _integer(0, 1_000_000)),
    "CLIENT_IMAGE_QUOTA": ("client_image_quota", _integer(0, 100_000_000)),
    "KEY_REPROBE_INTERVAL": ("key_reprobe_interval", _seconds(0, 86400)),
    # Issue 13: the browser playground at GET /.
    "PLAYGROUND": ("playground", _boolean),
    # Edits and variations (issue 9): limits for those routes only.
    "MAX_IMAGE_BYTES": ("max_image_bytes", _integer(1024, 1024 * MIB)),
    "MAX_EDIT_BODY_BYTES": ("max_edit_body_bytes", _integer(1024, 4096 * MIB)),
    # Image delivery (issue 10): response_format=url answers from an image store.
    "IMAGE_STORE": ("image_store", _image_store),
    "IMAGE_STORE_DIR": ("image_store_dir", lambda name, raw: raw),
    "IMAGE_URL_TTL": ("image_url_ttl", _seconds(10, 7 * 86400)),
    "IMAGE_STORE_MAX_BYTES": ("image_store_max_bytes", _integer(MIB, 1 << 50)),
    "PUBLIC_BASE_URL": ("public_base_url", _base_url),
    # Under Heroku's 55 s rolling window, with room for a slow write.
    "STREAM_KEEPALIVE": ("stream_keepalive", _seconds(0.05, 50)),
}

VARIABLES = tuple(_PARSERS)
