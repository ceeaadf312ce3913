#!/bin/bash
# Queue one night on Slurm: the N shard tasks (two at a time), then the
# merge once all of them succeeded.
#   POVRISK_DATA=/shared/povrisk AS_OF=2026-01-31 SHARDS=4 \
#   POVRISK_AUDIT_KEY_FILE=/secure/audit.key deploy/slurm/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${SHARDS:-4}
PAR=${PARALLEL:-2}
jid=$(sbatch --parsable --export=ALL --array="0-$((N - 1))%$PAR" "$here/shards.sbatch")
jid=${jid%%;*}
mid=$(sbatch --parsable --export=ALL --dependency="afterok:$jid" "$here/merge.sbatch")
echo "shards: job $jid (array 0-$((N - 1))), merge: job $mid after it"
