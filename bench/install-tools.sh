#!/usr/bin/env bash
# make bench: install the Debian packages the benchmark drives, and only those missing.
# nginx (upstream and proxy_pass contender), wrk (load), util-linux (taskset, to pin cores),
# redis-server (the S4 run with REDIS_URL, python -m bench.redis_compare).
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "make bench needs these Debian packages: ${missing[*]} (install them as root)" >&2
    exit 2
fi
echo "installing ${missing[*]}"
apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
