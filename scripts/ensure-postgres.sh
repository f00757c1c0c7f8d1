#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) are on the machine: the tests
# start their own throwaway cluster from them unless DATABASE_URL is set.
set -euo pipefail
if [ -n "${DATABASE_URL:-}" ]; then echo "using DATABASE_URL"; exit 0; fi
have() {
  command -v initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if have; then echo "postgres binaries found"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "PostgreSQL server binaries are missing: install them (e.g. sudo apt-get install postgresql, or brew install postgresql@16) or set DATABASE_URL" >&2
  exit 1
fi
echo "installing PostgreSQL from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
have
