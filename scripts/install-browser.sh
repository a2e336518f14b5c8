#!/usr/bin/env bash
# Install Debian's chromium for the browser (e2e) tests.
#
# Why Debian's package and not `playwright install`: the e2e tests must run offline-friendly
# CI images that already have apt mirrors, and a distro browser gets security updates through
# the normal channel. Playwright's Python client drives it via executable_path=/usr/bin/chromium.
#
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (CI runs as
# root and has no sudo); uses sudo only when it exists and we are not root.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
    echo "install-browser: $CHROMIUM already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo)
else
    echo "install-browser: ERROR: $CHROMIUM is missing and this script needs root (or sudo) to run apt-get." >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: ERROR: apt-get not found; install Chromium so that $CHROMIUM exists, or set SKIP_BROWSER_TESTS=1." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-browser: installing Debian's chromium with apt-get"
if ! "${AS_ROOT[@]}" apt-get update; then
    echo "install-browser: ERROR: apt-get update failed (no network or no apt mirror?)." >&2
    exit 1
fi
if ! "${AS_ROOT[@]}" apt-get install -y --no-install-recommends chromium; then
    echo "install-browser: ERROR: apt-get install chromium failed." >&2
    exit 1
fi

if [[ ! -x "$CHROMIUM" ]]; then
    echo "install-browser: ERROR: apt-get reported success but $CHROMIUM does not exist." >&2
    exit 1
fi
echo "install-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
