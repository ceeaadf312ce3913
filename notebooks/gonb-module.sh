#!/usr/bin/env bash
# Run by the first cell of every notebook (`!*bash "$GONB_DIR/gonb-module.sh"`),
# in GoNB's temporary Go module, the cell's working directory. It makes the
# notebook's Go code build against this checkout of povrisk, not a download:
#   - require github.com/povrisk/povrisk and replace it by the checkout;
#   - go.sum from povrisk and the tools module, so no checksum look-ups;
#   - gonbui (cell output: HTML, SVG) at the version of the running kernel,
#     and gonum/plot, both at the versions pinned in tools/go.mod.
# The build tag duckdb_arrow is set by the cell's `%goflags -tags=duckdb_arrow`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
[ -f go.mod ] || { echo "gonb-module.sh: no go.mod in $(pwd): run it from a GoNB cell with !*" >&2; exit 1; }
pinned() {
	local v
	v="$(awk -v m="$1" '$1 == m { print $2; exit }' "$here/tools/go.mod")"
	[ -n "$v" ] || { echo "gonb-module.sh: no version of $1 in $here/tools/go.mod" >&2; exit 1; }
	echo "$v"
}
gonb="$(pinned github.com/janpfeifer/gonb)"
plot="$(pinned gonum.org/v1/plot)"

go mod edit \
	-require=github.com/povrisk/povrisk@v0.0.0-00010101000000-000000000000 \
	-replace=github.com/povrisk/povrisk="$root"
cat "$root/go.sum" "$here/tools/go.sum" >go.sum.new
[ -f go.sum ] && cat go.sum >>go.sum.new
sort -u go.sum.new >go.sum && rm -f go.sum.new
if ! out="$(GOFLAGS=-mod=mod go get "github.com/janpfeifer/gonb@$gonb" "gonum.org/v1/plot@$plot" 2>&1)"; then
	echo "$out" >&2
	echo "gonb-module.sh: go get gonb@$gonb plot@$plot failed (is the Go module cache or proxy reachable?)" >&2
	exit 1
fi
echo "povrisk packages from $root; gonbui $gonb; gonum/plot $plot"
