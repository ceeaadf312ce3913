#!/usr/bin/env bash
# Install what the povrisk notebooks need, idempotently:
#   1. Debian's Jupyter (notebook server, nbconvert, nbclient, ipykernel);
#   2. GoNB (the Go Jupyter kernel), goimports and gopls, built from the
#      pinned tools module in notebooks/tools (versions fixed by its go.sum);
#   3. the "gonb" kernel spec in Jupyter's data directory.
# Each step is skipped when what it would produce is already there at the
# pinned version. Run as root (apt-get) the first time; later runs change
# nothing and need no root.
#
# Environment:
#   POVRISK_NOTEBOOK_BIN  where the Go tools go (default: $(go env GOBIN),
#                         else $(go env GOPATH)/bin)
#   JUPYTER_DATA_DIR      Jupyter's data directory (default: what
#                         `jupyter --data-dir` says, ~/.local/share/jupyter)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$here/tools"
PY=/usr/bin/python3
JUPYTER=/usr/bin/jupyter

log() { printf 'notebooks/install: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null || die "go not found on PATH: install Go 1.26 first"

# --- 1. Debian's Jupyter ---------------------------------------------------
debs=(jupyter-notebook python3-notebook jupyter-nbconvert python3-nbconvert
      python3-nbclient python3-ipykernel jupyter-client python3-jupyter-client)

jupyter_ok() {
	[ -x "$JUPYTER" ] && [ -x "$PY" ] &&
		"$PY" -c 'import notebook, nbconvert, nbclient, ipykernel, jupyter_client' 2>/dev/null
}

if jupyter_ok; then
	log "jupyter: present ($("$JUPYTER" --version 2>/dev/null | grep -E '^(notebook|nbconvert|nbclient) ' | tr '\n' ' '))"
else
	[ "$(id -u)" = 0 ] || die "jupyter missing and not root: run 'sudo bash $0' or apt-get install ${debs[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt_install() {
		apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${debs[@]}"
	}
	if ! apt_install; then
		log "apt-get install failed; updating the package lists once and retrying"
		apt-get -o DPkg::Lock::Timeout=900 update -qq
		apt_install
	fi
	jupyter_ok || die "jupyter still not importable by $PY after apt-get install"
fi

# --- 2. GoNB, goimports, gopls at the versions pinned in tools/go.mod -------
bin="${POVRISK_NOTEBOOK_BIN:-}"
if [ -z "$bin" ]; then
	bin="$(go env GOBIN)"
	[ -n "$bin" ] || bin="$(go env GOPATH)/bin"
fi
mkdir -p "$bin"

# tool NAME PACKAGE MODULE: build PACKAGE into $bin/NAME unless the binary
# there already embeds MODULE at the version tools/go.mod pins.
tool() {
	local name=$1 pkg=$2 mod=$3 want have
	want="$(cd "$tools" && GOFLAGS=-mod=mod go list -m -f '{{.Version}}' "$mod")"
	[ -n "$want" ] || die "no pinned version of $mod in $tools/go.mod"
	have=""
	if [ -x "$bin/$name" ]; then
		have="$(go version -m "$bin/$name" 2>/dev/null |
			awk -v m="$mod" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }')"
	fi
	if [ "$have" = "$want" ]; then
		log "$name: $mod $want present in $bin"
		return
	fi
	log "$name: building $mod $want into $bin (was: ${have:-none})"
	(cd "$tools" && GOFLAGS=-mod=mod nice go build -o "$bin/$name.tmp" "$pkg")
	mv -f "$bin/$name.tmp" "$bin/$name"
}
tool gonb github.com/janpfeifer/gonb github.com/janpfeifer/gonb
tool goimports golang.org/x/tools/cmd/goimports golang.org/x/tools
tool gopls golang.org/x/tools/gopls golang.org/x/tools/gopls

# --- 3. the kernel spec -----------------------------------------------------
datadir="${JUPYTER_DATA_DIR:-$("$JUPYTER" --data-dir)}"
kdir="$datadir/kernels/gonb"
spec="$kdir/kernel.json"
gobin="$(dirname "$(command -v go)")"
# The kernel runs go, goimports and gopls: put their directories before the
# PATH the notebook server was started with (jupyter_client fills in ${PATH}).
# GOFLAGS=-mod=readonly: a -mod=mod inherited from the shell would let gopls,
# which GoNB runs beside the notebook, rewrite the scratch go.mod while GoNB's
# own `go get` does ("go.mod changed since last read").
kpath="$bin:$gobin:\${PATH}"

# gonb --install --force_copy puts a copy of the binary beside kernel.json,
# so the kernel keeps working if $bin is cleaned; the copy must equal $bin/gonb.
spec_ok() {
	[ -f "$spec" ] && cmp -s "$kdir/gonb" "$bin/gonb" && "$PY" - "$spec" "$kdir/gonb" "$kpath" <<'EOF'
import json, sys
spec, gonb, kpath = sys.argv[1:]
k = json.load(open(spec))
env = k.get("env", {})
sys.exit(0 if k["argv"][0] == gonb and env.get("PATH") == kpath and env.get("GOFLAGS") == "-mod=readonly" else 1)
EOF
}

if spec_ok; then
	log "kernel: $spec up to date"
else
	log "kernel: registering $bin/gonb in $spec"
	JUPYTER_DATA_DIR="$datadir" PATH="$bin:$gobin:$PATH" "$bin/gonb" --install --force_copy
	"$PY" - "$spec" "$kpath" <<'EOF'
import json, sys
spec, kpath = sys.argv[1:]
k = json.load(open(spec))
k["env"] = dict(k.get("env") or {}, PATH=kpath, GOFLAGS="-mod=readonly")
with open(spec, "w") as f:
    json.dump(k, f, indent=1, sort_keys=True)
    f.write("\n")
EOF
	spec_ok || die "kernel spec $spec not as expected after install"
fi
log "ready: $JUPYTER notebook $here   (or: bash $here/run.sh)"
