#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when no Chromium is on the machine. The tests
# skip only when PATHBOT_SKIP_BROWSER=1 is set explicitly; otherwise a missing browser is an error.
set -euo pipefail
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then echo "using $(command -v "$b")"; exit 0; fi
done
if [ "${PATHBOT_SKIP_BROWSER:-}" = 1 ]; then echo "no chromium; browser tests will skip (PATHBOT_SKIP_BROWSER=1)"; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium is missing: install it (e.g. sudo apt-get install chromium) or set PATHBOT_SKIP_BROWSER=1" >&2
  exit 1
fi
echo "installing chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fonts-noto-color-emoji >/dev/null
command -v chromium
