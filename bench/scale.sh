#!/usr/bin/env bash
# bench/scale.sh [SIZES...] — the night at province scale: for each size
# (households; default 1000000 2000000 4000000), the wall time and peak RSS
# of
#   1. a single `povrisk run` (ingest excluded), and
#   2. the same night as 4 shards run two at a time
#      (`povrisk run --shard K/4`), then `povrisk merge`,
# and whether the merged run directory is byte-identical to the single
# run's (checksums.sha256 compared). Goals (issue 15): peak RSS of a shard
# at most 3 GB whatever the size, time per household flat from 1M to 4M.
# Each step's CPU seconds (user + system) are printed beside its wall
# time, and per household: on a shared machine the wall time is the
# load's as much as povrisk's, the CPU time much less so.
#
# Drops, warehouses and the model are generated once and cached under
# $SCALE_DATA (default bench/.data/scale): 1M households take about 2 GB
# of drop and 1 GB of warehouse; 4M four times that. SHARD_HOUSEHOLDS sets
# --shard-households (default: povrisk's, 250000).
#
# The province has one county per COUNTY_HOUSEHOLDS households (default
# 40000: `povrisk generate --counties N/40000`, counties of 3 to 12
# townships, so of about 16,000 to 64,000 households), as a real province
# has (about 100 counties for 4M households). A fixed number of counties
# would make each county, which a shard never cuts, grow with the
# province. Each size's data is under $SCALE_DATA/N-cC (C counties).
set -euo pipefail
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc (idempotent)
root=$(cd "$(dirname "$0")/.." && pwd)
data=${SCALE_DATA:-$root/bench/.data/scale}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 2000000 4000000)
mkdir -p "$data"
bin=$data/povrisk
cd "$root"
echo "building povrisk" >&2
GOFLAGS="${GOFLAGS:-} -mod=mod" go build -tags duckdb_arrow -o "$bin" ./cmd/povrisk
key=$data/key
[ -f "$key" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"; chmod 600 "$key"; }
auditkey=$data/audit.key
[ -f "$auditkey" ] || "$bin" audit --new-key "$auditkey" >/dev/null
export POVRISK_AUDIT_KEY_FILE=$auditkey
policy=$root/features/rules/policy.sample.toml
hh=()
[ -n "${SHARD_HOUSEHOLDS:-}" ] && hh=(--shard-households "$SHARD_HOUSEHOLDS")

# One model for every size (the night needs a model that fits the catalog).
if [ ! -d "$data/models" ]; then
  echo "training the model on a 50,000-household drop" >&2
  [ -f "$data/train-drop/households.csv" ] || nice "$bin" generate --households 50000 --seed 2 --out "$data/train-drop" >/dev/null
  nice "$bin" ingest --drop "$data/train-drop" --warehouse "$data/train-wh" --key-file "$key" >/dev/null
  nice "$bin" train --warehouse "$data/train-wh" --models "$data/models" >/dev/null
fi

# measure LABEL ARGS...: runs povrisk under GNU time; prints "wall_s rss_kb cpu_s"
# (cpu_s: user + system seconds, the figure that a loaded machine
# disturbs least; wall time on a shared machine is the load's as much as
# povrisk's).
measure() {
  local out=$1; shift
  /usr/bin/time -v -o "$out.time" "$bin" "$@" >"$out.out" 2>"$out.err" || { echo "FAILED: $* (see $out.err)" >&2; return 1; }
  local wall rss cpu
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out.time")
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$out.time")
  cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/{s+=$2} END{print s}' "$out.time")
  echo "$wall $rss $cpu"
}

gb() { echo "scale=2; $1 / 1048576" | bc; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-30s %9s %9s %9s %12s %12s\n' size step wall_s cpu_s peak_GB us/household cpu_us/hh
for n in "${sizes[@]}"; do
  nc=$(( n / ${COUNTY_HOUSEHOLDS:-40000} ))
  [ "$nc" -ge 1 ] || nc=1
  d=$data/$n-c$nc
  mkdir -p "$d"
  # The warehouse is the cache: once ingested, the drop may be deleted
  # (SCALE_KEEP_DROP=0) to save disk; it is regenerated only to ingest.
  if [ ! -f "$d/ingested" ] && [ ! -f "$d/drop/households.csv" ]; then
    echo "generating $n households" >&2
    nice "$bin" generate --households "$n" --counties "$nc" --seed 1 --out "$d/drop" >/dev/null
  fi
  if [ ! -f "$d/ingested" ]; then
    echo "ingesting $n households" >&2
    "$bin" ingest --drop "$d/drop" --warehouse "$d/warehouse" --key-file "$key" >/dev/null
    touch "$d/ingested"
    [ "${SCALE_KEEP_DROP:-1}" = 0 ] && rm -rf "$d/drop"
  fi
  common=(--warehouse "$d/warehouse" --models "$d/../models" --policy "$policy")
  rm -rf "$d/runs-single" "$d/runs-shards"
  # --json: each step's .out holds its stage times.
  read -r w r c < <(measure "$d/single" run "${common[@]}" --runs "$d/runs-single" --json "${hh[@]}")
  printf '%-9s %-30s %9.1f %9.1f %9s %12.1f %12.1f\n' "$n" "single run" "$w" "$c" "$(gb "$r")" "$(echo "$w * 1000000 / $n" | bc -l)" "$(echo "$c * 1000000 / $n" | bc -l)"
  asof=$(basename "$(ls -d "$d/runs-single"/2*/ | head -1)")
  # 4 shards, two at a time (the machine has 2 cores), then the merge.
  start=$(date +%s.%N)
  maxr=0
  cpus=0
  for pair in "0 1" "2 3"; do
    pids=()
    for k in $pair; do
      ( measure "$d/shard$k" run "${common[@]}" --runs "$d/runs-shards" --as-of "$asof" --shard "$k/4" --json "${hh[@]}" >"$d/shard$k.m" ) &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for k in $pair; do
      read -r w r c <"$d/shard$k.m"
      printf '%-9s %-30s %9.1f %9.1f %9s\n' "$n" "shard $k/4" "$w" "$c" "$(gb "$r")"
      cpus=$(echo "$cpus + $c" | bc -l)
      [ "$r" -gt "$maxr" ] && maxr=$r
    done
  done
  read -r w r c < <(measure "$d/merge" merge --runs "$d/runs-shards" --as-of "$asof" --shards 4)
  printf '%-9s %-30s %9.1f %9.1f %9s\n' "$n" "merge" "$w" "$c" "$(gb "$r")"
  cpus=$(echo "$cpus + $c" | bc -l)
  total=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf '%-9s %-30s %9.1f %9.1f %9s %12.1f %12.1f\n' "$n" "4 shards (2 at a time) + merge" "$total" "$cpus" "$(gb "$maxr")" "$(echo "$total * 1000000 / $n" | bc -l)" "$(echo "$cpus * 1000000 / $n" | bc -l)"
  if cmp -s "$d/runs-single/$asof/checksums.sha256" "$d/runs-shards/$asof/checksums.sha256"; then
    echo "$n: merged run directory byte-identical to the single run"
  else
    echo "$n: merged run directory DIFFERS from the single run"
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
