#!/usr/bin/env bash
# What the tests need from Debian, installed only when missing (make test runs this; CI
# runs it as root on a clean machine). One `ensure <command> <debian-package...>` per tool.
set -euo pipefail

missing=()

ensure() {
    local command="$1"
    shift
    if ! command -v "$command" >/dev/null 2>&1; then
        missing+=("$@")
    fi
}

# The shared-state tests (tests/shared/, tests/integration/test_several_instances.py)
# start a real Redis on a loopback port.
ensure redis-server redis-server
# The browser tests (tests/browser/) drive Debian's headless Chromium through its
# chromedriver; selenium never downloads a browser.
# Fonts: --no-install-recommends leaves Chromium without any, and text would lay out
# as nothing (the pages' tests read what a person would see).
ensure chromium chromium fonts-liberation
ensure chromedriver chromium-driver
# The Node SDK's tests (npm installs the openai package into .cache/).
ensure node nodejs
ensure npm npm

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi
echo "test-deps: installing ${missing[*]}" >&2
# Wait for another apt run (a parallel job) rather than fail on its lock.
lock=(-o DPkg::Lock::Timeout=600)
"${sudo[@]}" apt-get "${lock[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get "${lock[@]}" install -y -qq \
    --no-install-recommends \
    "${missing[@]}" >/dev/null
