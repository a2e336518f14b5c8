#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real:
#   chromium    the browser of the e2e tests (Playwright drives /usr/bin/chromium)
#   postgresql  a real PostgreSQL server for the state engine's tests (started per test run)
#   haproxy     the load balancer in front of two replicas in the scale-out tests
#
# Why Debian's packages and not `playwright install` or a Docker image: CI machines have apt
# mirrors and no Docker engine, and distro packages get security updates the normal way.
#
# Idempotent: installs only what is missing. Needs root (CI runs as root and has no sudo);
# uses sudo only when it exists and we are not root.
set -euo pipefail

missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-system-packages: chromium, postgresql and haproxy already installed"
    exit 0
fi

if [[ "$(id -u)" -eq 0 ]]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo)
else
    echo "install-system-packages: ERROR: ${missing[*]} missing and apt-get needs root (or sudo)." >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-packages: ERROR: apt-get not found; install ${missing[*]} by hand." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-packages: installing ${missing[*]} with apt-get"
"${AS_ROOT[@]}" apt-get update
"${AS_ROOT[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
# Debian starts a cluster of its own on port 5432; the tests start their own servers.
if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null 2>&1; then
    for cluster in /etc/postgresql/*/main; do
        [[ -d "$cluster" ]] || continue
        version=$(basename "$(dirname "$cluster")")
        "${AS_ROOT[@]}" pg_ctlcluster "$version" main stop 2>/dev/null || true
    done
fi
echo "install-system-packages: done"
