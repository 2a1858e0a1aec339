#!/usr/bin/env bash
# Segment an archive as a Slurm job array: one task per shard, then one merge.
#   sbatch --array=0-7 docs/scale-out/slurm-segment.sh /archive /results
#   sbatch --dependency=afterok:JOBID --wrap "sonoseg merge /results --out /results"
# Each task reads SLURM_ARRAY_TASK_ID / _COUNT (`--shard auto`); arrays counted from 1 (--array=1-8) work too.
#SBATCH --job-name=sonoseg-segment
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
set -euo pipefail
ARCHIVE=${1:?archive folder}
OUT=${2:?output folder (shared by every task)}
SONOSEG=${SONOSEG:-sonoseg}
"$SONOSEG" segment "$ARCHIVE" --recursive --on-error skip --shard auto --out "$OUT" --threads "${SLURM_CPUS_PER_TASK:-1}"
