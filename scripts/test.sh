#!/usr/bin/env bash
# The whole test suite, as README.md and .ci/run call it. It needs nothing running: the Go tests
# start their own throwaway PostgreSQL cluster (or use DATABASE_URL when set), and the browser tests
# get Debian's chromium installed here when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== postgres for the database tests"
./scripts/ensure-postgres.sh

echo "== browser for the UI tests"
./scripts/ensure-chromium.sh

echo "== deployment files"
./scripts/check-deploy.sh

echo "== go test -race"
go test -race -count=1 -timeout 12m ./... 2>&1 | tee /tmp/pathbot-test.log | grep -v '^=== \(RUN\|PAUSE\|CONT\)'
status=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' /tmp/pathbot-test.log || true)
failed=$(grep -c '^FAIL' /tmp/pathbot-test.log || true)
echo "packages: ${passed} passed, ${failed} failed"
exit "$status"
