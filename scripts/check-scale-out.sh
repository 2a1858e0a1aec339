#!/usr/bin/env bash
# The scale-out recipes of docs/scale-out.md, run as written where this machine can: `mpirun` for real (three
# ranks on this host), the Slurm array script with the variables Slurm would set, the Kubernetes Job's command
# with JOB_COMPLETION_INDEX; each merged summary must equal an unsharded run's, row for row, and every mask
# byte for byte. Usage: scripts/check-scale-out.sh SONOSEG
set -euo pipefail
BIN=$(realpath "${1:?sonoseg binary}")
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
IN=samples
"$BIN" segment "$IN" --recursive --on-error skip --out "$WORK/single" >/dev/null 2>&1

# the columns that must agree (seconds, processed_at and run_id differ from run to run)
rows() { python3 - "$1" <<'PY'
import csv, sys
skip = {"seconds", "processed_at", "run_id"}
for r in csv.DictReader(open(sys.argv[1])):
    print(",".join(f"{k}={v}" for k, v in r.items() if k not in skip))
PY
}
same() {
  diff <(rows "$WORK/single/summary.csv") <(rows "$1/summary.csv") >/dev/null || { echo "check-scale-out: $2: merged summary differs"; exit 1; }
  for m in "$WORK"/single/*_mask.png; do cmp -s "$m" "$1/$(basename "$m")" || { echo "check-scale-out: $2: $(basename "$m") differs"; exit 1; }; done
  echo "check-scale-out: $2: 3 shards merged = one run ($(($(wc -l < "$1/summary.csv") - 1)) rows, masks identical)"
}

# Open MPI: one rank per shard (as root, as CI runs, Open MPI needs --allow-run-as-root)
MPIFLAGS=(--oversubscribe); [ "$(id -u)" -eq 0 ] && MPIFLAGS+=(--allow-run-as-root)
mpirun -n 3 "${MPIFLAGS[@]}" "$BIN" segment "$IN" --recursive --on-error skip --shard auto --out "$WORK/mpi" >/dev/null 2>&1
"$BIN" merge "$WORK/mpi" --out "$WORK/mpi" >/dev/null 2>&1
same "$WORK/mpi" mpirun

# Slurm job array (--array=1-3): the script as written, with the variables Slurm sets for each task
for id in 1 2 3; do
  SONOSEG="$BIN" SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=1 \
    docs/scale-out/slurm-segment.sh "$IN" "$WORK/slurm" >/dev/null 2>&1
done
"$BIN" merge "$WORK/slurm" --out "$WORK/slurm" >/dev/null 2>&1
same "$WORK/slurm" "Slurm array"

# Kubernetes Indexed Job: the container's command with the index the Job gives each pod
for i in 0 1 2; do
  JOB_COMPLETION_INDEX=$i "$BIN" segment "$IN" --recursive --on-error skip --shard auto --shards 3 --out "$WORK/k8s" >/dev/null 2>&1
done
"$BIN" merge "$WORK/k8s" --out "$WORK/k8s" >/dev/null 2>&1
same "$WORK/k8s" "Kubernetes Indexed Job"
