#!/usr/bin/env bash
# What the tests need from Debian, installed only when missing (idempotent; CI runs as root).
# One line per need: ensure <command> <debian-package>.
set -euo pipefail

updated=no
ensure() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null 2>&1; then
        return
    fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        sudo=sudo
    fi
    if [ "$updated" = no ]; then
        $sudo apt-get update -qq
        updated=yes
    fi
    echo "test-deps: installing $package (for $command)"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$package" >/dev/null
}

# The Redis image store and shared state are tested against a real server.
ensure redis-server redis-server
# The Node SDK's streaming test (npm installs the openai package into a cache folder).
ensure node nodejs
ensure npm npm
