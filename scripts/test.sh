#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), then runs every
# Go test (real DuckDB, Parquet, Chromium, LibreOffice), a short fuzz run of
# the CSV row parser, and every notebook headless.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/install.sh test
export PATH=/usr/local/go/bin:$HOME/go/bin:$PATH
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export CGO_ENABLED=1

echo "== go vet"
go vet -tags duckdb_arrow ./...
echo "== go test"
go test -tags duckdb_arrow -count=1 -timeout 25m ./...
echo "== fuzz (30s): CSV row parser"
go test -tags duckdb_arrow -run '^$' -fuzz '^FuzzParseRow$' -fuzztime 30s ./engine/ingest
echo "== notebooks"
bash notebooks/run.sh
echo "all tests passed"
