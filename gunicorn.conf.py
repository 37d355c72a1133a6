"""Gunicorn settings. Runs in the master, before any worker is forked or patched by gevent.

It reads the environment (and `.env`, where real variables win), validates every setting
so a bad value stops the master with one line instead of a worker restart loop, and
creates no locks, sessions or sockets: each worker builds its own in create_app().
"""

import glob
import math
import os
import shutil
import signal
import sys
import tempfile

from dotenv import load_dotenv

from app.config import ConfigError, Settings
from app.logs import gunicorn_logger_class
from app.malloc_tuning import keep_freed_memory

load_dotenv(override=False)


def _fail(*problems):
    for problem in problems:
        sys.stderr.write(f"gemini-image-gateway: configuration error: {problem}\n")
    sys.stderr.flush()
    # SystemExit passes through gunicorn's config loader without a traceback.
    sys.exit(2)


_problems = []
try:
    _settings = Settings.from_environ(os.environ)
except ConfigError as error:
    _problems.extend(error.problems)

_web_concurrency = os.environ.get("WEB_CONCURRENCY", "1").strip() or "1"
if not _web_concurrency.isdigit() or not 1 <= int(_web_concurrency) <= 64:
    _problems.append(
        f"WEB_CONCURRENCY must be a whole number from 1 to 64, got {_web_concurrency!r}")
if _problems:
    _fail(*_problems)  # every one of them: an operator fixes them in one go

# Metrics: each worker writes its samples to files in this folder and /metrics merges
# them, whichever worker answers. Emptied at start so a previous run's counts do not leak.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
_own_metrics_dir = not _metrics_dir
if _own_metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="gateway-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
else:
    os.makedirs(_metrics_dir, exist_ok=True)
    for _stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
        os.remove(_stale)

# Loopback only when real keys would be served to anyone without a token (HOST and
# ALLOW_OPEN say otherwise); see Settings.bind_host.
_host = _settings.bind_host
bind = [f"[{_host}]:{_settings.port}" if ":" in _host else f"{_host}:{_settings.port}"]
worker_class = "gevent"
# Heroku sets WEB_CONCURRENCY by dyno size. Without REDIS_URL each worker has its own key
# pool and its own MAX_CONCURRENT slots: the gateway-wide cap is workers x MAX_CONCURRENT.
# With REDIS_URL they share one view and one cap (each worker connects after the fork).
workers = int(_web_concurrency)
# Waiting clients cost a greenlet each, not a thread: allow thousands.
worker_connections = 4000
# Under gevent this is only a liveness check of the worker's event loop; the upstream
# timeouts and REQUEST_DEADLINE bound each request.
timeout = 30
# SIGTERM lets in-flight generations finish: the longest one waits QUEUE_TIMEOUT for a
# slot and then spends up to REQUEST_DEADLINE upstream.
graceful_timeout = math.ceil(_settings.queue_timeout + _settings.request_deadline) + 5
keepalive = 5
# Behind a router (Heroku, a load balancer) requests arrive from its addresses; nothing
# here trusts the client address for access control.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
preload_app = False
proc_name = "gemini-image-gateway"
# gunicorn's runtime control socket is not used; off, it is one less thing to secure
# and several gateways on one machine do not fight over its path.
control_socket_disable = True
errorlog = "-"
loglevel = _settings.log_level
# gunicorn's own lines in the gateway's format (LOG_FORMAT), control characters escaped.
logger_class = gunicorn_logger_class(_settings.log_format)


def when_ready(server):
    addresses = ", ".join(str(listener) for listener in server.LISTENERS)
    s = _settings
    server.log.info(
        "gemini-image-gateway starting on %s: %d Gemini key(s), client auth %s, "
        "%d worker(s), %s",
        addresses, len(s.gemini_api_keys),
        f"ON ({len(s.proxy_auth_keys)} token(s))" if s.auth_enabled else "OFF",
        workers,
        f"state shared through Redis, MAX_CONCURRENT {s.max_concurrent} for the deployment"
        if s.redis_url else f"per-process state, MAX_CONCURRENT {s.max_concurrent} a worker",
    )
    if s.upstream_api == "gemini" and s.upstream_root != s.gemini_base_url:
        server.log.info(
            "GEMINI_BASE_URL ends in /openai (the compatibility layer, whose images route no "
            "longer serves current models): calling native generateContent at %s",
            s.upstream_root,
        )
    server.log.info("upstream API %s, default model %s", s.upstream_api, s.default_model)
    if s.demo:
        server.log.warning(
            "DEMO MODE: requests are answered by the built-in offline demo upstream; "
            "nothing reaches Gemini. Set GEMINI_API_KEYS (and unset DEMO) for real images."
        )
    if s.auth_enabled:
        return
    if s.bind_host in ("127.0.0.1", "::1", "localhost"):
        server.log.warning(
            "PROXY_AUTH_KEYS is empty: listening on this machine only (%s), so no one else "
            "spends your Gemini quota. Set PROXY_AUTH_KEYS to serve the network, or HOST=0.0.0.0 "
            "or ALLOW_OPEN=true to serve it without tokens.", s.bind_host,
        )
    else:
        server.log.warning(
            "PROXY_AUTH_KEYS is empty: the gateway is OPEN to anyone who can reach it%s",
            "" if s.demo else ", spending your Gemini quota. Set PROXY_AUTH_KEYS.",
        )


def post_worker_init(worker):
    # Answers are megabytes: keep freed heap for the next one (app/malloc_tuning.py).
    keep_freed_memory()
    # A terminal's Ctrl-C signals every process of its group. The master stops the workers
    # (SIGQUIT) on its SIGINT; a worker acting on its own SIGINT too quits twice, and gevent
    # prints the second quit, during shutdown, as a SystemExit traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def worker_exit(server, worker):
    # In the worker, once it has stopped serving: writes it queued for Redis (slots given
    # back, key counters, client usage) go out now rather than with a flush that never comes.
    app = getattr(worker, "wsgi", None)
    gateway = getattr(app, "extensions", {}).get("gateway")
    link = getattr(gateway, "redis", None)
    if link is not None:
        link.flush()


def child_exit(server, worker):
    # What prometheus_client's mark_process_dead does, without importing the library into
    # the master: a dead worker's live gauges (in-flight calls, key states) must go.
    for path in glob.glob(os.path.join(_metrics_dir, f"gauge_live*_{worker.pid}.db")):
        os.remove(path)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
