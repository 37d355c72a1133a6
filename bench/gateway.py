"""The gateway as deployed: real gunicorn with gevent workers, default configuration.

Only what issue 5 allows differs from the defaults: MAX_CONCURRENT=1000, one worker,
the upstream on loopback, client tokens on, and UPSTREAM_API=openai for the compat
scenarios (S1–S5); the native ones (N1–N6) run the default, native generateContent.
Keys and tokens are made up per run and never printed.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

from app.config import VARIABLES

from .endpoints import NATIVE_ROOT_PATH, UPSTREAM_BASE_PATH
from .processes import LOOPBACK, PROXY_CORE, Service, pinned

ROOT = Path(__file__).resolve().parents[1]
MAX_CONCURRENT = 1000
# Read by gunicorn itself, not by Settings: removed, so its defaults hold.
_GUNICORN_VARIABLES = ("WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS")


@dataclass(frozen=True)
class Credentials:
    """Made-up Gemini keys and a client token: not real, still never shown."""

    gemini_keys: tuple[str, ...] = field(repr=False)
    client_token: str = field(repr=False)

    @classmethod
    def generate(cls) -> Credentials:
        keys = tuple(f"bench-fake-gemini-key-{secrets.token_hex(8)}" for _ in range(2))
        return cls(keys, secrets.token_urlsafe(24))


def gateway_environ(upstream_port: int, credentials: Credentials, *,
                    native: bool = False) -> dict[str, str]:
    """This machine's environment with every project variable at its default, plus ours."""
    env = {name: value for name, value in os.environ.items()
           if name not in _GUNICORN_VARIABLES}
    # Present but blank: Settings reads blank as "use the default", and gunicorn.conf.py's
    # load_dotenv(override=False) leaves present variables alone, so a developer's .env
    # (LOG_LEVEL=debug, DEMO=true...) cannot change what is measured.
    env.update(dict.fromkeys(VARIABLES, ""))
    base_path = NATIVE_ROOT_PATH if native else UPSTREAM_BASE_PATH
    env.update(
        GEMINI_API_KEYS=",".join(credentials.gemini_keys),
        PROXY_AUTH_KEYS=credentials.client_token,
        GEMINI_BASE_URL=f"http://{LOOPBACK}:{upstream_port}{base_path}",
        MAX_CONCURRENT=str(MAX_CONCURRENT),
        WEB_CONCURRENCY="1",
    )
    if not native:
        env["UPSTREAM_API"] = "openai"  # S1-S5 measure the compat pass-through and its relay
    return env


def gateway_service(port: int, upstream_port: int, credentials: Credentials,
                    log_path: Path, *, native: bool = False) -> Service:
    command = pinned(PROXY_CORE, [
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
        "-b", f"{LOOPBACK}:{port}", "app:create_app()",
    ])
    return Service("gateway", command, log_path,
                   env=gateway_environ(upstream_port, credentials, native=native), cwd=ROOT)

