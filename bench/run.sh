#!/usr/bin/env bash
# bench/run.sh [HOUSEHOLDS] — time and memory of `povrisk run`, end to end.
#
# Generates a 24-month drop of HOUSEHOLDS households (default 1,000,000;
# seed 1) under bench/.data/run-N (kept between runs), trains a model on a
# 50,000-household drop of the same simulator (same feature catalog; the
# night only needs a model that fits it), then measures, each under
# /usr/bin/time -v:
#   1. povrisk run --drop (ingest included, into a fresh warehouse)
#   2. povrisk run --warehouse (ingest excluded: the warehouse of step 1)
# and prints the wall time, the peak resident memory and the time per stage
# (from --json). Target: under 5 minutes and 8 GB on 2 cores.
# BENCH_SKIP_INGEST=1 reuses the warehouse of an earlier run and measures
# the night twice without ingest. BENCH_SHARD_HOUSEHOLDS sets
# --shard-households (the county group size; povrisk's default otherwise).
# For shards and the merge see bench/scale.sh.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
n=${1:-1000000}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${BENCH_DATA:-$root/bench/.data/run-$n}
mkdir -p "$data"
bin=$data/povrisk
py=/usr/bin/python3
cd "$root"
echo "building povrisk" >&2
GOFLAGS="${GOFLAGS:-} -mod=mod" go build -tags duckdb_arrow -o "$bin" ./cmd/povrisk
key=$data/key
[ -f "$key" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"; chmod 600 "$key"; }
policy=$root/features/rules/policy.sample.toml

if [ ! -f "$data/drop/households.csv" ]; then
  echo "generating $n households" >&2
  nice "$bin" generate --households "$n" --out "$data/drop" >/dev/null
fi
if [ ! -d "$data/models" ]; then
  echo "training the model on a 50,000-household drop" >&2
  [ -f "$data/train-drop/households.csv" ] || nice "$bin" generate --households 50000 --seed 2 --out "$data/train-drop" >/dev/null
  nice "$bin" ingest --drop "$data/train-drop" --warehouse "$data/train-wh" --key-file "$key" >/dev/null
  nice "$bin" train --warehouse "$data/train-wh" --models "$data/models" >/dev/null
fi

# The night signs its audit record: a bench key, outside the runs directory.
auditkey=$data/audit.key
[ -f "$auditkey" ] || "$bin" audit --new-key "$auditkey" >/dev/null
export POVRISK_AUDIT_KEY_FILE=$auditkey

hh=()
[ -n "${BENCH_SHARD_HOUSEHOLDS:-}" ] && hh=(--shard-households "$BENCH_SHARD_HOUSEHOLDS")

measure() { # label, then the povrisk arguments
  local label=$1; shift
  set -- "$@" "${hh[@]}"
  local out=$data/$label
  /usr/bin/time -v -o "$out.time" "$bin" "$@" --json >"$out.json" 2>"$out.err"
  $py - "$label" "$out.time" "$out.json" <<'PY'
import json, re, sys
label, tpath, jpath = sys.argv[1:]
t = open(tpath).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
r = json.load(open(jpath))
print(f"{label}: {r['counts']['households']} households, {r['counts']['eligible']} eligible; "
      f"wall {secs:.1f} s, peak RSS {rss/1024/1024:.2f} GB")
for s in r["stages"]:
    print(f"  {s['name']:<10} {s['seconds']:8.1f} s")
PY
}

if [ -z "${BENCH_SKIP_INGEST:-}" ] || [ ! -d "$data/warehouse" ]; then
  rm -rf "$data/warehouse" "$data/runs"
  echo "run with ingest" >&2
  measure ingest-included run --drop "$data/drop" --key-file "$key" --warehouse "$data/warehouse" --models "$data/models" --runs "$data/runs" --policy "$policy"
else # BENCH_SKIP_INGEST=1: reuse the warehouse, run the night twice
  rm -rf "$data/runs"
  echo "run without ingest (first)" >&2
  measure ingest-excluded-first run --warehouse "$data/warehouse" --models "$data/models" --runs "$data/runs" --policy "$policy"
fi
echo "run without ingest (same night again: also checks the rerun)" >&2
cp "$data/runs/"*/checksums.sha256 "$data/checksums.first"
measure ingest-excluded run --warehouse "$data/warehouse" --models "$data/models" --runs "$data/runs" --policy "$policy"
if cmp -s "$data/checksums.first" "$data/runs/"*/checksums.sha256; then
  echo "rerun: byte-identical run directory"
else
  echo "rerun: run directory DIFFERS from the first run"
fi
