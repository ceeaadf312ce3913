#!/usr/bin/env bash
# Measure the simulator: rows/s per table, total time, peak RSS.
#   bench/generate.sh [HOUSEHOLDS=100000] [MONTHS=24] [FORMAT=csv]
# Builds povrisk into bench/.data/gen/, writes the drop there (gitignored),
# prints a table and removes nothing (delete bench/.data/gen yourself).
set -euo pipefail
N=${1:-100000}
M=${2:-24}
FMT=${3:-csv}
cd "$(dirname "$0")/.."
BIN=bench/.data/gen/povrisk
mkdir -p bench/.data/gen
GOFLAGS=-mod=mod go build -tags duckdb_arrow -o "$BIN" ./cmd/povrisk
OUT=bench/.data/gen/drop-$N-$FMT
rm -rf "$OUT" "$OUT.truth.csv" "$OUT.relapse.csv" "$OUT.defects.csv"
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
LOG=bench/.data/gen/time-$N-$FMT.log
/usr/bin/time -v "$BIN" generate --households "$N" --months "$M" --seed 1 --format "$FMT" --out "$OUT" >"$LOG.out" 2>"$LOG"
SECS=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$LOG")
RSS=$(awk -F': ' '/Maximum resident set size/{print $2}' "$LOG")
CPU=$(awk -F': ' '/Percent of CPU/{print $2}' "$LOG")
echo "households=$N months=$M format=$FMT wall=${SECS}s cpu=$CPU peak_rss=$((RSS/1024))MiB"
printf '%-20s %12s %12s %10s\n' table rows rows/s MiB
TOTAL=0
while read -r name rows _; do
  f=$(ls "$OUT/$name".* 2>/dev/null | head -1)
  size=$(( $(stat -c %s "$f") / 1048576 ))
  printf '%-20s %12d %12.0f %10d\n' "$name" "$rows" "$(echo "$rows / $SECS" | bc -l)" "$size"
  TOTAL=$((TOTAL+rows))
done < <(grep -E '^  [a-z_]+ +[0-9]+ rows' "$LOG.out" | awk '{print $1, $2}')
printf '%-20s %12d %12.0f\n' total "$TOTAL" "$(echo "$TOTAL / $SECS" | bc -l)"
