#!/usr/bin/env bash
# Measure the ingest: rows/s overall and per table, peak RSS.
#   bench/ingest.sh [HOUSEHOLDS=1000000] [MONTHS=24] [FORMAT=csv] [DIRTY=0]
#   DROP=existing/drop bench/ingest.sh     (measure an existing drop; read only)
# Builds povrisk, generates the drop once (cached under bench/.data/ingest-*,
# gitignored), then ingests it into a fresh warehouse under bench/.data with
# /usr/bin/time -v (apt-get install -y time). Run it with nice on a shared box.
set -euo pipefail
N=${1:-1000000}
M=${2:-24}
FMT=${3:-csv}
DIRTY=${4:-0}
cd "$(dirname "$0")/.."
BIN=bench/.data/povrisk-ingest
mkdir -p bench/.data
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
GOFLAGS=-mod=mod go build -tags duckdb_arrow -o "$BIN" ./cmd/povrisk
# DROP=dir uses an existing drop as it is (never generated nor removed).
if [ -z "${DROP:-}" ]; then
  DROP=bench/.data/ingest-$N-$M-$FMT-$DIRTY
  if [ ! -f "$DROP.complete" ]; then
    rm -rf "$DROP"
    "$BIN" generate --households "$N" --months "$M" --seed 1 --format "$FMT" --dirty "$DIRTY" --out "$DROP" >/dev/null
    touch "$DROP.complete"
  fi
fi
WH=bench/.data/wh-ingest-$N
rm -rf "$WH"
KEY=$(mktemp); chmod 600 "$KEY"; echo "bench-key-0123456789abcdef" >"$KEY"
LOG=$(mktemp)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
/usr/bin/time -v "$BIN" ingest --drop "$DROP" --warehouse "$WH" --key-file "$KEY" --json >"$LOG.json" 2>"$LOG"
SECS=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$LOG")
RSS=$(awk -F': ' '/Maximum resident set size/{print $2}' "$LOG")
CPU=$(awk -F': ' '/Percent of CPU/{print $2}' "$LOG")
BYTES=$(du -sb "$DROP" | cut -f1)
CPUS=$(awk -F': ' '/User time \(seconds\)/{u=$2} /System time \(seconds\)/{s=$2} END{print u+s}' "$LOG")
echo "households=$N months=$M format=$FMT dirty=$DIRTY drop=$((BYTES/1048576))MiB wall=${SECS}s cpu=$CPU cpu_seconds=$CPUS peak_rss=$((RSS/1024))MiB"
echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %12s %10s %10s %12s\n' table read rejected seconds rows/s
# per-table lines: "<table>: <file> read R accepted A rejected J in S.s (X rows/s)"
grep -E '^[a-z_]+: .* read [0-9]+ ' "$LOG" | sed -E 's/^([a-z_]+): [^ ]+ read ([0-9]+) accepted [0-9]+ rejected ([0-9]+)( in ([0-9.]+)s \(([0-9]+) rows\/s\))?.*/\1 \2 \3 \5 \6/' |
  while read -r t r j s x; do printf '%-20s %12d %10d %10s %12s\n' "$t" "$r" "$j" "$s" "$x"; done
TOTAL=$(grep -oE '"read": [0-9]+' "$LOG.json" | awk '{s+=$2} END{print s}')
printf '%-20s %12d %10s %10s %12.0f\n' total "$TOTAL" "" "$SECS" "$(echo "$TOTAL / $SECS" | bc -l)"
# CPU time is steadier than wall time on a shared machine.
printf 'cpu_seconds_per_million_rows=%.2f rows_per_cpu_second=%.0f\n' "$(echo "$CPUS * 1000000 / $TOTAL" | bc -l)" "$(echo "$TOTAL / $CPUS" | bc -l)"
rm -f "$LOG" "$LOG.json" "$KEY"
