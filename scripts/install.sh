#!/usr/bin/env bash
# Installs what povrisk needs on a Debian machine, idempotently.
#   scripts/install.sh run     what `povrisk demo` needs (Go build, Chromium + CJK fonts (WenQuanYi Micro Hei, Noto CJK) for the PDF brief)
#   scripts/install.sh test    the above, plus what the tests need (LibreOffice, poppler, Jupyter + GoNB)
#   scripts/install.sh bench   the above, plus the benchmark peers (scikit-learn, xgboost, ranger) and GNU time, bc
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-run}

need_go() {
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then export PATH=/usr/local/go/bin:$PATH
    else echo "install.sh: Go 1.24+ is required (https://go.dev/doc/install); it is not on PATH" >&2; exit 1; fi
  fi
}

apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "$apt_updated" ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt_updated=1
  fi
  echo "install.sh: apt-get install ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

need_go
# fonts-wqy-microhei: a TrueType (glyf) CJK font, first in the brief's font
# stack, which Chromium embeds in a PDF as a real CID font; the Noto CJK
# fonts are CFF outlines, which Chromium's PDF writer embeds as Type 3 glyphs.
apt_install ca-certificates chromium fonts-wqy-microhei fonts-noto-cjk
case "$what" in
  run) ;;
  test)
    apt_install poppler-utils libreoffice-calc-nogui time
    bash "$here/notebooks/install.sh"
    ;;
  bench)
    apt_install poppler-utils time bc python3-sklearn python3-xgboost r-cran-ranger
    ;;
  *) echo "install.sh: unknown target $what (run, test, bench)" >&2; exit 2 ;;
esac
