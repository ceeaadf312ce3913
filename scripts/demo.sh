#!/usr/bin/env bash
# The main job on built-in sample data: generates a drop of about 20,000
# households, ingests it, trains a model, runs two nights and writes the brief,
# all under ./povrisk-demo (or the directory given as $1).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/install.sh" run
export PATH=/usr/local/go/bin:$PATH
cd "$here"
mkdir -p bin
GOFLAGS="${GOFLAGS:-} -mod=mod" go build -tags duckdb_arrow -o bin/povrisk ./cmd/povrisk
dir=${1:-./povrisk-demo}
exec ./bin/povrisk demo --dir "$dir"
