#!/usr/bin/env bash
# bench/train.sh: train povrisk's forest, scikit-learn's RandomForestClassifier,
# ranger and xgboost's random-forest mode (100 trees, 2 threads each), and
# povrisk's boosted trees, scikit-learn's HistGradientBoostingClassifier and
# xgboost's hist booster (100 rounds, 2 threads each), on the same train/test
# split, and print training time, peak memory, test AUC and precision at 5%,
# with ratios of each povrisk model to its peers. The load average before
# and after is printed: timings on a busy machine are not comparable.
#
# Usage:
#   bench/train.sh                    engine feature table of a generated drop
#                                     (HOUSEHOLDS=200000; falls back to UCI adult
#                                     if generate/ingest/features fail)
#   bench/train.sh --adult            /work/shared/datasets/uci-adult/adult.data
#   bench/train.sh TABLE LABEL        any CSV/Parquet table with a two-valued label
# Env: TREES (100), THREADS (2), HOUSEHOLDS (200000), OUT (bench/.data/train).
# Installs its peers (python3-sklearn, python3-xgboost, r-cran-ranger) with apt-get if missing.
set -euo pipefail
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
cd "$(dirname "$0")/.."
TREES=${TREES:-100}
THREADS=${THREADS:-2}
HOUSEHOLDS=${HOUSEHOLDS:-200000}
OUT=${OUT:-bench/.data/train}
ADULT=/work/shared/datasets/uci-adult/adult.data
export GOFLAGS=-mod=mod
mkdir -p "$OUT"

if ! /usr/bin/python3 -c 'import sklearn, xgboost' 2>/dev/null || ! Rscript -e 'library(ranger)' >/dev/null 2>&1; then
	echo "train.sh: installing peers (python3-sklearn, python3-xgboost, r-cran-ranger)" >&2
	apt-get install -y -qq -o DPkg::Lock::Timeout=900 python3-sklearn python3-xgboost r-cran-ranger >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=900 python3-sklearn python3-xgboost r-cran-ranger >/dev/null; }
fi

echo "train.sh: building bench tools" >&2
go build -tags duckdb_arrow -o "$OUT/forestbench" ./bench/forestbench
go build -tags duckdb_arrow -o "$OUT/forestprep" ./bench/forestprep

prep_adult() { "$OUT/forestprep" -in "$ADULT" -label column14 -out "$OUT/split"; SOURCE="UCI adult"; }

prep_engine() {
	local drop="$OUT/drop" wh="$OUT/warehouse" key="$OUT/key"
	go build -tags duckdb_arrow -o "$OUT/povrisk" ./cmd/povrisk || return 1
	if [ ! -f "$OUT/drop.done" ] || [ "$(cat "$OUT/drop.done")" != "$HOUSEHOLDS" ]; then
		rm -rf "$drop" "$wh"
		"$OUT/povrisk" generate --households "$HOUSEHOLDS" --months 24 --start 2024-01 --seed 1 --out "$drop" || return 1
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$key" && chmod 600 "$key"
		"$OUT/povrisk" ingest --drop "$drop" --warehouse "$wh" --key-file "$key" >/dev/null || return 1
		echo "$HOUSEHOLDS" >"$OUT/drop.done"
	fi
	# 24 months from 2024-01: data end 2025-12-31; features on 2025-06-30, labels over 6 months.
	"$OUT/forestprep" -warehouse "$wh" -as-of 2025-06-30 -horizon 6 -out "$OUT/split" || return 1
	SOURCE="engine feature table, $HOUSEHOLDS generated households"
}

case "${1:-}" in
--adult) prep_adult ;;
"") prep_engine || { echo "train.sh: engine table unavailable, using UCI adult" >&2; prep_adult; } ;;
*) "$OUT/forestprep" -in "$1" -label "${2:?label column}" -out "$OUT/split"; SOURCE="$1" ;;
esac
TRAIN=$OUT/split/train.csv TEST=$OUT/split/test.csv

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
export OMP_NUM_THREADS=$THREADS # HistGradientBoosting's threads
bench() { # NAME CMD...: run CMD under GNU time, its JSON line to NAME.json
	local name=$1
	shift
	echo "train.sh: $name" >&2
	/usr/bin/time -f %M -o "$OUT/$name.mem" "$@" >"$OUT/$name.json"
}
FB=("$OUT/forestbench" -train "$TRAIN" -test "$TEST" -trees "$TREES" -workers "$THREADS")
bench povrisk "${FB[@]}" -pred "$OUT/povrisk.pred"
bench povrisk-ml1 "${FB[@]}" -min-leaf 1 -pred "$OUT/povrisk-ml1.pred"
bench sklearn /usr/bin/python3 bench/train_peers.py sklearn "$TRAIN" "$TEST" "$OUT/sklearn.pred" "$TREES" "$THREADS"
bench ranger Rscript bench/train_ranger.R "$TRAIN" "$TEST" "$OUT/ranger.pred" "$TREES" "$THREADS"
bench xgbrf /usr/bin/python3 bench/train_peers.py xgbrf "$TRAIN" "$TEST" "$OUT/xgbrf.pred" "$TREES" "$THREADS"
bench povrisk-boost "${FB[@]}" -kind boost -pred "$OUT/povrisk-boost.pred"
bench hgb /usr/bin/python3 bench/train_peers.py hgb "$TRAIN" "$TEST" "$OUT/hgb.pred" "$TREES" "$THREADS"
bench xgb /usr/bin/python3 bench/train_peers.py xgb "$TRAIN" "$TEST" "$OUT/xgb.pred" "$TREES" "$THREADS"
TOOLS=(povrisk povrisk-ml1 sklearn ranger xgbrf povrisk-boost hgb xgb)
PREDS=()
for t in "${TOOLS[@]}"; do PREDS+=("$OUT/$t.pred"); done
/usr/bin/python3 bench/train_peers.py eval "$TEST" "${PREDS[@]}" >"$OUT/eval.json"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

/usr/bin/python3 - "$OUT" "$SOURCE" "$TREES" "$THREADS" "$LOAD_BEFORE" "$LOAD_AFTER" "${TOOLS[@]}" <<'PY'
import json, sys
out, source, trees, threads, load0, load1, *tools = sys.argv[1:]
ev = [json.loads(l) for l in open(f"{out}/eval.json")]
rows = {}
for tool, e in zip(tools, ev):
    r = json.loads([l for l in open(f"{out}/{tool}.json") if l.startswith("{")][-1])
    mem = int(open(f"{out}/{tool}.mem").read().split()[-1]) / 1024
    rows[tool] = (tool, r["fit_seconds"], r["fit_cpu_seconds"], r["predict_seconds"], mem, e["auc"], e["precision_at_5pct"])
print(f"# {source}; {trees} trees (rounds), {threads} threads; load average {load0} before, {load1} after")
print("# fit: wall and CPU seconds of training only; peak MB: whole process, data loading included")
print("# povrisk: DefaultOptions (MinLeaf 20); povrisk-ml1: MinLeaf 1 as scikit-learn's default; xgbrf: xgboost's random-forest mode")
print("# povrisk-boost: boost.Options{}; hgb: scikit-learn's HistGradientBoosting (no early stopping); xgb: xgboost hist, 31 leaves")
print(f"{'tool':14} {'fit s':>8} {'fit cpu s':>10} {'predict s':>10} {'peak MB':>8} {'AUC':>7} {'P@5%':>6}")
for t, f, c, p, m, a, pr in rows.values():
    print(f"{t:14} {f:8.2f} {c:10.2f} {p:10.2f} {m:8.0f} {a:7.4f} {pr:6.3f}")
for ours, peers in (("povrisk", ("sklearn", "ranger", "xgbrf")), ("povrisk-ml1", ("sklearn", "ranger", "xgbrf")), ("povrisk-boost", ("hgb", "xgb"))):
    o = rows[ours]
    for peer in peers:
        t, f, c, p, m, a, pr = rows[peer]
        print(f"{ours} vs {t}: fit {f/o[1]:.1f}x faster (CPU {c/o[2]:.1f}x), peak memory {o[4]/m:.2f}x, AUC {o[5]-a:+.4f}, P@5% {o[6]-pr:+.3f}")
PY
