#!/usr/bin/env bash
# Execute every notebook headless, top to bottom, on a small simulated drop,
# and fail (non-zero exit) on the first cell error.
#
# The notebooks in the repository are never written: executed copies go to
# $POVRISK_NB_OUT. The repository's notebooks must carry no outputs; run.sh
# checks that first (`run.sh --clear` strips outputs from them in place).
#
# Data: a drop of $POVRISK_NB_HOUSEHOLDS households over 24 months is made
# once with `povrisk generate` and ingested with `povrisk ingest` into
# $POVRISK_NB_DATA/warehouse; later runs reuse it while the generator, the
# ingest code and the parameters are unchanged.
#
# Environment:
#   POVRISK_NB_DATA        data directory (default notebooks/.data, git-ignored)
#   POVRISK_NB_OUT         executed notebooks (default /tmp/povrisk-notebooks)
#   POVRISK_NB_HOUSEHOLDS  households in the drop (default 2500)
#   POVRISK_NB_SEED        generator seed (default 7)
#   POVRISK_NB_TIMEOUT     seconds one cell may take (default 600)
#   POVRISK_NOTEBOOK_BIN   where install.sh put gonb, goimports, gopls
# Usage: run.sh [--clear] [notebook.ipynb ...]   (default: every NN-*.ipynb)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
JUPYTER=/usr/bin/jupyter
PY=/usr/bin/python3

log() { printf 'notebooks/run: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

data="${POVRISK_NB_DATA:-$here/.data}"
out="${POVRISK_NB_OUT:-/tmp/povrisk-notebooks}"
households="${POVRISK_NB_HOUSEHOLDS:-2500}"
seed="${POVRISK_NB_SEED:-7}"
timeout="${POVRISK_NB_TIMEOUT:-600}"
bin="${POVRISK_NOTEBOOK_BIN:-}"
if [ -z "$bin" ]; then
	bin="$(go env GOBIN)"
	[ -n "$bin" ] || bin="$(go env GOPATH)/bin"
fi
export PATH="$bin:$PATH"
# Not exported: with -mod=mod in the kernel's environment, gopls (which GoNB
# runs beside each notebook) rewrites the scratch go.mod while GoNB's own
# `go get` does, and the cell fails with "go.mod changed since last read".
buildflags="${GOFLAGS:+$GOFLAGS }-mod=mod"

clear=0
notebooks=()
for a in "$@"; do
	case "$a" in
	--clear) clear=1 ;;
	-h | --help) sed -n '2,22p' "$0"; exit 0 ;;
	*) notebooks+=("$(cd "$(dirname "$a")" && pwd)/$(basename "$a")") ;;
	esac
done
if [ ${#notebooks[@]} -eq 0 ]; then
	for nb in "$here"/[0-9][0-9]-*.ipynb; do notebooks+=("$nb"); done
fi
[ -x "$JUPYTER" ] || die "$JUPYTER not found: run 'bash $here/install.sh' first"
command -v gonb >/dev/null || die "gonb not found in $bin: run 'bash $here/install.sh' first"

# --- outputs must not be committed ------------------------------------------
if [ $clear = 1 ]; then
	"$JUPYTER" nbconvert --clear-output --inplace --log-level=WARN "${notebooks[@]}"
	log "outputs cleared in ${#notebooks[@]} notebooks"
	exit 0
fi
"$PY" - "${notebooks[@]}" <<'EOF' || die "notebooks above carry outputs: run 'bash notebooks/run.sh --clear' before committing"
import json, sys
bad = 0
for p in sys.argv[1:]:
    nb = json.load(open(p, encoding="utf-8"))
    if any(c.get("outputs") or c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"):
        print("notebooks/run: %s has outputs" % p, file=sys.stderr)
        bad += 1
sys.exit(1 if bad else 0)
EOF

# --- the small drop and its warehouse ---------------------------------------
mkdir -p "$data"
stamp="households=$households months=24 seed=$seed code=$(cat "$root"/datasets/*.go "$root"/engine/ingest/*.go "$root"/engine/warehouse/*.go 2>/dev/null | sha256sum | cut -c1-16)"
if [ -f "$data/stamp" ] && [ "$(cat "$data/stamp")" = "$stamp" ] && [ -f "$data/warehouse/CURRENT" ]; then
	log "data: reusing $data ($stamp)"
else
	log "data: generating $households households, 24 months, seed $seed into $data"
	rm -rf "$data/drop" "$data/drop.truth.csv" "$data/warehouse" "$data/models" "$data/stamp"
	(cd "$root" && GOFLAGS="$buildflags" nice go build -tags duckdb_arrow -o "$data/povrisk" ./cmd/povrisk)
	# A fixed demonstration key: the simulated ID numbers are not personal data.
	(umask 077 && printf 'povrisk-notebooks-demo-key-0001\n' >"$data/key")
	# timeout: a hung step must fail the run, not stall CI.
	timeout 900 "$data/povrisk" generate --households "$households" --months 24 --start 2024-01 \
		--seed "$seed" --out "$data/drop" >"$data/generate.txt" 2>&1 ||
		{ cat "$data/generate.txt" >&2; die "povrisk generate failed"; }
	timeout 900 "$data/povrisk" ingest --drop "$data/drop" --warehouse "$data/warehouse" \
		--key-file "$data/key" >"$data/ingest.txt" 2>&1 ||
		{ cat "$data/ingest.txt" >&2; die "povrisk ingest failed"; }
	printf '%s\n' "$stamp" >"$data/stamp"
fi

# --- execute copies -----------------------------------------------------------
mkdir -p "$out"
export POVRISK_NB_DATA="$data"
start=$SECONDS
passed=0
# failed NAME: the closing count CI reads, then stop.
failed() { printf 'notebooks: %d passed, 1 failed\n' "$passed"; die "$@"; }
for nb in "${notebooks[@]}"; do
	t=$SECONDS
	log "executing $(basename "$nb")"
	if ! "$JUPYTER" nbconvert --to notebook --execute --log-level=WARN \
		--ExecutePreprocessor.timeout="$timeout" \
		--ExecutePreprocessor.kernel_name=gonb \
		--output-dir "$out" "$nb" 2>"$out/$(basename "$nb" .ipynb).log"; then
		tail -n 60 "$out/$(basename "$nb" .ipynb).log" >&2
		failed "$(basename "$nb") failed; full log: $out/$(basename "$nb" .ipynb).log"
	fi
	# GoNB v0.11.1 reports a compile error as a cell error, but a cell program
	# that panics or exits non-zero only prints "exit status N" on stderr and
	# the cell counts as done: look for that in the executed copy.
	"$PY" - "$out/$(basename "$nb")" <<'EOF' || failed "$(basename "$nb"): a cell failed (see above)"
import json, re, sys
nb = json.load(open(sys.argv[1], encoding="utf-8"))
failed = 0
for i, c in enumerate(nb["cells"]):
    for o in c.get("outputs", []):
        text = "".join(o.get("text", [])) if o.get("output_type") == "stream" else ""
        if o.get("output_type") == "error" or (
                o.get("name") == "stderr" and re.search(r"^(\^C\n)?(exit status [1-9][0-9]*|signal: .*)$", text, re.M)):
            print("cell %d failed:\n%s" % (i, text[-3000:] or json.dumps(o)[:3000]), file=sys.stderr)
            failed += 1
sys.exit(1 if failed else 0)
EOF
	log "$(basename "$nb"): ok in $((SECONDS - t))s -> $out/$(basename "$nb")"
	passed=$((passed + 1))
done
log "${#notebooks[@]} notebooks executed in $((SECONDS - start))s"
printf 'notebooks: %d passed, 0 failed\n' "$passed"
