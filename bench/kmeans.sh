#!/bin/sh
# Compare models/kmeans with scikit-learn's KMeans on the same data:
# k-means++ seeding, the same number of starts, standardised inputs.
# Prints time, inertia and the ratios ours/sklearn for each size.
# Target: inertia within 0.5% of scikit-learn's at no more than its time.
#
#   bench/kmeans.sh [sizes...]      default sizes: 10000 100000 500000
#   env: D (features, 20), K (clusters, 8), NINIT (starts, 4), SEED (1)
#
# Installs the Debian scikit-learn once (apt-get, needs root) and uses
# /usr/bin/python3, never the python3 on PATH. Data go to bench/.data.
set -eu
bash "$(dirname "$0")/../scripts/install.sh" bench   # GNU time, bc, scikit-learn, xgboost, ranger (idempotent)
cd "$(dirname "$0")/.."
D=${D:-20}; K=${K:-8}; NINIT=${NINIT:-4}; SEED=${SEED:-1}
SIZES=${*:-10000 100000 500000}
PY=/usr/bin/python3
if ! $PY -c 'import sklearn' 2>/dev/null; then
	apt-get install -y python3-sklearn >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y python3-sklearn >/dev/null; }
fi
mkdir -p bench/.data
export GOFLAGS=-mod=mod
go test -c -o bench/.data/kmeans.test ./models/kmeans/
printf "%-8s %10s %16s %10s %16s %8s %8s %6s %6s\n" n secs inertia sk_secs sk_inertia t_ratio in_ratio iters sk_it
for n in $SIZES; do
	csv=bench/.data/kmeans_${n}_${D}_${K}_${SEED}.csv
	[ -f "$csv" ] || $PY bench/kmeans_peer.py make --csv "$csv" --n "$n" --d "$D" --k "$K" --seed "$SEED"
	sk=$($PY bench/kmeans_peer.py fit --csv "$csv" --k "$K" --n-init "$NINIT" --seed "$SEED")
	ours=$(KMEANS_PEER_CSV="$PWD/$csv" KMEANS_PEER_K=$K KMEANS_PEER_NINIT=$NINIT KMEANS_PEER_SEED=$SEED \
		bench/.data/kmeans.test -test.run '^TestPeerCSV$' -test.v | grep '^{')
	$PY - "$n" "$ours" "$sk" <<'PYEOF'
import json, sys
n, o, s = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"{n:<8} {o['seconds']:10.3f} {o['inertia']:16.2f} {s['seconds']:10.3f} {s['inertia']:16.2f} "
      f"{o['seconds']/s['seconds']:8.3f} {o['inertia']/s['inertia']:8.4f} {o['iterations']:6d} {s['iterations']:6d}")
PYEOF
done
