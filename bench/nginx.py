"""nginx configurations: the zero-latency upstream and the ``proxy_pass`` contender.

Each runs as its own nginx master (``daemon off``, one worker), so the runner can pin it to
a core with taskset and stop it by its process id.
"""

from __future__ import annotations

import os
from pathlib import Path

from .endpoints import NATIVE_ANSWER_FILE, UPSTREAM_PATH

_COMMON = """\
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 65536;
{user}pid {run_dir}/nginx.pid;
error_log {run_dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {run_dir}/client_body;
    proxy_temp_path {run_dir}/proxy;
    fastcgi_temp_path {run_dir}/fastcgi;
    uwsgi_temp_path {run_dir}/uwsgi;
    scgi_temp_path {run_dir}/scgi;
    # nginx closes a client connection after 1,000 requests by default: wrk would then
    # measure reconnects too, which none of the other contenders makes it do.
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    tcp_nodelay on;
{server}
}}
"""

# Static files answer 405 to POST; error_page turns that into an internal GET of the same
# URI, which serves the prepared body with a 200 (and nginx drains the request body).
# sendfile without tcp_nopush: with TCP_CORK on this path a quarter of the answers wait
# for the 40 ms delayed ACK. Any model's :generateContent is rewritten to the one native
# answer's file, which then takes the same 405 → GET path.
_STATIC_SERVER = """\
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        default_type application/json;
        location / {{
            error_page 405 =200 $uri;
        }}
        location ~ :generateContent$ {{
            rewrite ^ {native_answer} last;
        }}
    }}"""

# The cost floor of a pass-through proxy: HTTP/1.1 with pooled upstream connections (as
# many idle ones kept as the gateway's MAX_CONCURRENT pool) and the body streamed through
# one 256 KiB buffer. Of the settings tried on 2 MB bodies, this was nginx's fastest:
# 4 KiB unbuffered ~0.3x, default buffering ~0.5x (it spills to a temporary file),
# 64 x 64 KiB buffers ~0.9x.
_PROXY_SERVER = """\
    upstream gemini {{
        server 127.0.0.1:{upstream_port};
        keepalive {keepalive};
        keepalive_requests 10000000;
        keepalive_timeout 75s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location / {{
            proxy_pass http://gemini;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
            proxy_buffering off;
            proxy_buffer_size 256k;
            proxy_buffers 4 256k;  # unused unbuffered; nginx checks them against the next
            proxy_busy_buffers_size 512k;
        }}
    }}"""


def static_upstream_conf(run_dir: Path, port: int, body: bytes, *, native: bool) -> Path:
    """Write the body where the gateway will POST for it, and the config serving it."""
    root = run_dir / "www"
    target = root / (NATIVE_ANSWER_FILE if native else UPSTREAM_PATH).lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    server = _STATIC_SERVER.format(port=port, root=root, native_answer=NATIVE_ANSWER_FILE)
    return _write(run_dir, server)


def proxy_conf(run_dir: Path, port: int, upstream_port: int, *, keepalive: int) -> Path:
    server = _PROXY_SERVER.format(port=port, upstream_port=upstream_port, keepalive=keepalive)
    return _write(run_dir, server)


def nginx_command(conf: Path) -> list[str]:
    # -e: the error log before the config is read; Debian's default path may not be writable.
    return ["nginx", "-p", str(conf.parent), "-e", str(conf.parent / "error.log"),
            "-c", str(conf)]


def _write(run_dir: Path, server: str) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    # Workers drop to `nobody` unless told otherwise; as root keep them able to read our
    # temporary directory (mode 0700).
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = run_dir / "nginx.conf"
    conf.write_text(_COMMON.format(user=user, run_dir=run_dir, server=server))
    return conf
