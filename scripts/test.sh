#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), then runs every
# Go test (real DuckDB, Parquet, Chromium, LibreOffice), a short fuzz run of
# every reader of outside bytes, and every notebook headless.
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
# Every reader of outside bytes has a fuzz target; each runs briefly here
# (the seed corpus always, then a few seconds of new inputs). Longer runs:
# FUZZTIME=5m bash scripts/test.sh
fuzztime=${FUZZTIME:-10s}
# Go's fuzzing coordinator sometimes ends a run with "context deadline
# exceeded" when a worker is still busy as the time runs out (no input
# failed, none is written): such a run is run once more. A real failure
# writes its input under testdata/fuzz and fails every time.
fuzz() { # package target
	echo "== fuzz ($fuzztime): $1 $2"
	local log
	log=$(mktemp)
	for attempt in 1 2; do
		if go test -tags duckdb_arrow -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s -parallel 1 "$1" 2>&1 | tee "$log"; then
			rm -f "$log"
			return 0
		fi
		if [ "$attempt" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "== fuzz $2: the coordinator timed out with no failing input; once more"
			continue
		fi
		break
	done
	rm -f "$log"
	return 1
}
fuzz ./engine/ingest FuzzParseRow
fuzz ./engine/ingest FuzzCSVSource
fuzz ./engine/ingest FuzzParquetSource
fuzz ./engine/ingest FuzzFields
fuzz ./engine/warehouse FuzzOpen
fuzz ./features/rules FuzzLoadPolicy
fuzz ./models/forest FuzzReadForest
fuzz ./models/kmeans FuzzReadKMeans
fuzz ./models/registry FuzzReadCard
fuzz ./models/registry FuzzReadIndex
fuzz ./engine/audit FuzzReadAuditLog
fuzz ./engine/rundir FuzzReadSummary
fuzz ./engine/rundir FuzzParseChecksums
fuzz ./engine/run FuzzLoadTopK
fuzz ./engine/brief FuzzLoadUnitCosts
fuzz ./engine/brief FuzzBriefSummary
fuzz ./engine/ingest FuzzV11Tables
fuzz ./engine/ingest FuzzPlainASCII
fuzz ./engine/ingest FuzzSplitCommas
fuzz ./engine/feedback FuzzFeedbackCSV
fuzz ./engine/feedback FuzzFeedbackXLSX
fuzz ./engine/run FuzzSheetNames
fuzz ./engine/run FuzzParseShard
fuzz ./engine/run FuzzRowDecoder
fuzz ./datasets FuzzSimulateVisitsInputs
fuzz ./engine/whatif FuzzReadAssessments
fuzz ./engine/brief FuzzWhatIfHTML
fuzz ./models/boost FuzzReadBoost
fuzz ./models/calib FuzzReadCalib
fuzz ./engine/rundir FuzzCSVLines
# The deployment manifests, strictly decoded into the Kubernetes API types
# (a module of its own: k8s.io/api stays out of povrisk's module graph).
echo "== deploy manifests"
(cd deploy/kubernetes/check && go test -count=1 ./...)
echo "== notebooks"
bash notebooks/run.sh
echo "all tests passed"
