#!/usr/bin/env bash
# Speed of data-parallel training (a benchmark, not a test): one epoch of the default recipe's network, optimiser,
# batch (8) and image size (128 px) on BUSI's lesion images (recipes/default.json with its BUS-BRA source left out,
# as a full epoch of both sets takes minutes), at R=1 process x 2 threads, R=2 ranks x 1 thread, and R=2 across two
# network namespaces over TCP; each RUNS times (default 2). Prints the epoch's seconds (training + validation, from
# log.jsonl) and rank 0's seconds inside MPI collectives. Needs root for the namespaces.
# Usage: scripts/bench-distributed.sh SONOSEG [RUNS]
set -euo pipefail
BIN=$(realpath "${1:?sonoseg binary}"); RUNS=${2:-2}
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
NS=(sonoseg-bench0-$$ sonoseg-bench1-$$)
cleanup() { for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun --oversubscribe --allow-run-as-root --bind-to none -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM)
cat > "$WORK/recipe.json" <<JSON
{ "base": "$PWD/recipes/default.json", "name": "bench-distributed", "epochs": 1,
  "data": [{ "path": "$PWD/../shared/data/busi", "excludeClasses": ["normal"], "split": "$PWD/splits/busi-lesions.json" }] }
JSON

ip netns add "${NS[0]}"; ip netns add "${NS[1]}"
ip link add sbn0 netns "${NS[0]}" type veth peer name sbn1 netns "${NS[1]}"
ip -n "${NS[0]}" addr add 10.232.0.1/24 dev sbn0; ip -n "${NS[1]}" addr add 10.232.0.2/24 dev sbn1
for i in 0 1; do ip -n "${NS[$i]}" link set lo up; ip -n "${NS[$i]}" link set "sbn$i" up; done
printf '10.232.0.1 slots=1\n10.232.0.2 slots=1\n' > "$WORK/hosts"
cat > "$WORK/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in 10.232.0.1) ns=${NS[0]} ;; *) ns=${NS[1]} ;; esac
exec ip netns exec "\$ns" /bin/sh -c "\$*"
AGENT
chmod +x "$WORK/agent"
TCP=(--hostfile "$WORK/hosts" --mca plm_rsh_agent "$WORK/agent" --mca btl tcp,self
     --mca oob_tcp_if_include 10.232.0.0/24 --mca btl_tcp_if_include 10.232.0.0/24)

report() {  # LABEL RUN
  python3 - "$1" "$2/log.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[2])][-1]
c = r.get("communicationSeconds")
comm = f"  in collectives {c:6.2f} s ({100 * c / r['seconds']:.1f}%)" if c is not None else ""
print(f"{sys.argv[1]:<28} {r['step']} steps  epoch {r['seconds']:6.1f} s  ({1000 * r['seconds'] / r['step']:.0f} ms/step){comm}")
PY
}
for run in $(seq "$RUNS"); do
  "$BIN" train "$WORK/recipe.json" --threads 2 --out "$WORK/r1x2-$run" >/dev/null 2>&1
  report "R=1 x 2 threads (run $run)" "$WORK/r1x2-$run"
  "${MPI[@]}" -n 2 "$BIN" train "$WORK/recipe.json" --distributed --threads 1 --out "$WORK/r2x1-$run" >/dev/null 2>&1
  report "R=2 x 1 thread (run $run)" "$WORK/r2x1-$run"
  ip netns exec "${NS[0]}" "${MPI[@]}" -n 2 "${TCP[@]}" "$BIN" train "$WORK/recipe.json" --distributed --threads 1 \
    --out "$WORK/r2ns-$run" >/dev/null 2>&1
  report "R=2 namespaces, TCP (run $run)" "$WORK/r2ns-$run"
done
