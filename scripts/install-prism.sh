#!/usr/bin/env bash
# Install Stoplight Prism at the version tools/prism/package-lock.json pins (5.14.2) into
# tools/prism/node_modules (not committed), with `npm ci`, so every machine runs the same
# Prism: the validation proxy of tests/integration/test_prism_proxy.py and the benchmark's
# comparison (bench/run.py).
#
# Idempotent: does nothing when the installed tree is newer than the lock file (npm ci
# writes node_modules/.package-lock.json last).
set -euo pipefail
cd "$(dirname "$0")/../tools/prism"

installed=node_modules/.package-lock.json
if [[ -x node_modules/.bin/prism && -f "$installed" && ! package-lock.json -nt "$installed" ]]; then
    echo "install-prism: Prism $(node -p "require('./node_modules/@stoplight/prism-cli/package.json').version") already installed"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "install-prism: ERROR: npm not found; install Node.js 18 or later (with npm)." >&2
    exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
echo "install-prism: Prism $(node -p "require('./node_modules/@stoplight/prism-cli/package.json').version") installed into tools/prism/node_modules"
