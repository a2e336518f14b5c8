#!/usr/bin/env bash
# Installs the npm packages of tools/ exactly as package-lock.json pins them (npm ci), and only
# when node_modules does not already hold that lock file's packages, so a second run costs
# nothing. ./scripts/test, the tests and `mock-server postman` all install through here; the
# lock makes parallel callers (pytest-xdist workers) wait for the first one instead of racing.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "tools/install.sh: Node.js and npm are needed" >&2; exit 1; }
exec 9>.install.lock
flock 9
stamp=node_modules/.installed-package-lock.json
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
