#!/usr/bin/env bash
# Measure the feature catalog + rule screen for one as-of date.
#   bench/features.sh [HOUSEHOLDS=1000000] [MONTHS=24] [AS_OF=2025-12-31]
# Generates (povrisk generate, format parquet) and ingests (povrisk ingest)
# once, cached under bench/.data (gitignored), then times
# `povrisk features` with /usr/bin/time -v: wall time, peak RSS, rows of the
# warehouse scanned per second. Targets (1M households, 24 months, 2 cores):
# under 60 s and under 8 GB. Run it alone on the machine, with nice.
set -euo pipefail
N=${1:-1000000}
M=${2:-24}
AS_OF=${3:-2025-12-31}
cd "$(dirname "$0")/.."
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
BIN=bench/.data/povrisk
mkdir -p bench/.data
GOFLAGS=-mod=mod go build -tags duckdb_arrow -o "$BIN" ./cmd/povrisk
DROP=bench/.data/feat-drop-$N-$M
WH=bench/.data/feat-wh-$N-$M
KEY=bench/.data/bench.key
[ -f "$KEY" ] || { head -c 32 /dev/urandom > "$KEY"; chmod 600 "$KEY"; }
if [ ! -d "$DROP" ]; then
  # generate beside, then rename: an interrupted run leaves no half drop
  rm -rf "$DROP.tmp"
  nice "$BIN" generate --households "$N" --months "$M" --seed 1 --format parquet --out "$DROP.tmp" --truth "$DROP.truth.csv"
  mv "$DROP.tmp" "$DROP"
fi
if [ ! -f "$WH/CURRENT" ]; then
  nice "$BIN" ingest --drop "$DROP" --warehouse "$WH" --key-file "$KEY"
fi
ROWS=$(/usr/bin/python3 -c "
import json,sys
m=json.load(open('$WH/'+open('$WH/CURRENT').read().strip()+'/manifest.json'))
print(sum(t.get('rows',0) for t in m.get('tables',[])))")
OUT=bench/.data/features-$N-$M.parquet
LOG=$(mktemp)
nice /usr/bin/time -v "$BIN" features --warehouse "$WH" --as-of "$AS_OF" --out "$OUT" 2>"$LOG" || { cat "$LOG"; exit 1; }
grep '^features:' "$LOG" || true
SECS=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$LOG")
RSS=$(awk -F': ' '/Maximum resident set size/{print $2}' "$LOG")
CPU=$(awk -F': ' '/Percent of CPU/{print $2}' "$LOG")
USR=$(awk -F': ' '/User time/{print $2}' "$LOG")
SYS=$(awk -F': ' '/System time/{print $2}' "$LOG")
echo "households=$N months=$M as_of=$AS_OF warehouse_rows=$ROWS wall=${SECS}s cpu=$CPU user=${USR}s sys=${SYS}s peak_rss=$((RSS/1024))MiB rows_scanned/s=$(echo "$ROWS / $SECS" | bc -l | cut -d. -f1)"
rm -f "$LOG"
