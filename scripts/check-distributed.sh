#!/usr/bin/env bash
# Data-parallel training over Open MPI (docs/scale-out.md, "Data-parallel training"), on a synthetic dataset of
# 32x32 images: two ranks against one process with the same global batch and seed (losses and final weights
# within the bound derived in docs/scale-out-training.md), deep supervision with discriminators, a classifier,
# the refusal of implicit networks, a rank killed mid-epoch (the job ends in bounded time naming the rank, the
# checkpoint is intact, one process resumes it), and the two ranks on two "hosts": network namespaces joined by
# a veth pair, Open MPI over TCP. Usage: scripts/check-distributed.sh SONOSEG
set -euo pipefail
BIN=$(realpath "${1:?sonoseg binary}")
cd "$(dirname "$0")/.."
HERE=$PWD/scripts/distributed
WORK=$(mktemp -d)
NS=(sonoseg-dp0-$$ sonoseg-dp1-$$)
cleanup() {
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPI=(mpirun --oversubscribe --allow-run-as-root -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM)
fail() { echo "check-distributed: $*" >&2; exit 1; }

python3 "$HERE/make-data.py" "$WORK/data" 40
recipe() {  # NAME EPOCHS REPEATS EXTRA-JSON → $WORK/NAME.json: a small U-Net, plain SGD with momentum, no batch norm
  cat > "$WORK/$1.json" <<JSON
{ "name": "$1", "data": [{ "path": "$WORK/data", "repeats": $3 }],
  "model": { "baseChannels": 8, "depth": 2, "normalization": "group", "groups": 4 },
  "loss": { "kind": "bceDice" }, "optimizer": { "kind": "sgd", "learningRate": 0.05, "momentum": 0.9, "schedule": "constant" },
  "epochs": $2, "batchSize": 8, "preprocess": { "width": 32, "height": 32 },
  "split": { "folds": 5, "testFraction": 0.2, "seed": 0 }, "seed": 3 $4 }
JSON
}
# The bound (docs/scale-out-training.md): relative 1e-4 on every logged loss and Dice, 1e-4 of each tensor's
# largest value on every weight, after 12 steps (4 epochs of 3 batches of 8).
BOUND=(1e-4 1e-4)

# 1. Two ranks (1 thread each) = one process (1 thread), same global batch of 8 and seed, augmentation on.
recipe unet 4 1 ""
"$BIN" train "$WORK/unet.json" --threads 1 --out "$WORK/unet-1" >"$WORK/unet-1.out" 2>&1 || { cat "$WORK/unet-1.out"; fail "one process failed"; }
"${MPI[@]}" -n 2 "$BIN" train "$WORK/unet.json" --distributed --threads 1 --out "$WORK/unet-2" >"$WORK/unet-2.out" 2>&1 \
  || { cat "$WORK/unet-2.out"; fail "mpirun -n 2 failed"; }
[ ! -e "$WORK/unet-2/cache-rank1" ] && grep -q "data-parallel: 2 ranks" "$WORK/unet-2.out" || fail "the 2-rank run did not say it was data-parallel"
python3 "$HERE/compare.py" "$WORK/unet-1" "$WORK/unet-2" "${BOUND[@]}" "U-Net, 2 ranks vs 1 process"

# 2. Li et al.: deep supervision with a discriminator per stage (their gradients averaged too).
recipe li 2 1 ', "deepSupervision": { "stages": 2, "adversarial": true }'
"$BIN" train "$WORK/li.json" --threads 1 --out "$WORK/li-1" >"$WORK/li-1.out" 2>&1 || { cat "$WORK/li-1.out"; fail "deep supervision: one process failed"; }
"${MPI[@]}" -n 2 "$BIN" train "$WORK/li.json" --distributed --threads 1 --out "$WORK/li-2" >"$WORK/li-2.out" 2>&1 \
  || { cat "$WORK/li-2.out"; fail "deep supervision: mpirun -n 2 failed"; }
python3 "$HERE/compare.py" "$WORK/li-1" "$WORK/li-2" "${BOUND[@]}" "deep supervision + discriminators, 2 ranks vs 1 process"

# 3. A classifier (batch norm and dropout: per-rank statistics, so trained and checked, not compared).
"${MPI[@]}" -n 2 "$BIN" train --task classify --model cnn --data "$WORK/data" --size 32 --epochs 2 --batch-size 8 --distributed \
  --threads 1 --out "$WORK/cnn-2" >"$WORK/cnn-2.out" 2>&1 || { cat "$WORK/cnn-2.out"; fail "classifier: mpirun -n 2 failed"; }
[ -s "$WORK/cnn-2/model.safetensors" ] && [ "$(wc -l < "$WORK/cnn-2/log.jsonl")" -eq 2 ] || fail "classifier: no model or log"
echo "check-distributed: classifier (custom CNN): 2 ranks trained 2 epochs, model written by rank 0"

# 4. Implicit networks are refused, with the reason.
if "$BIN" train recipes/implicit/nisf.json --distributed --out "$WORK/nisf" >"$WORK/nisf.out" 2>&1; then fail "an implicit recipe was not refused"; fi
grep -q "do not train data-parallel" "$WORK/nisf.out" || { cat "$WORK/nisf.out"; fail "implicit: no reason given"; }
# … and --distributed outside mpirun says what to do.
if "$BIN" train "$WORK/unet.json" --distributed --out "$WORK/nompi" >"$WORK/nompi.out" 2>&1; then fail "--distributed ran outside mpirun"; fi
grep -q "needs Open MPI's mpirun" "$WORK/nompi.out" || { cat "$WORK/nompi.out"; fail "--distributed outside mpirun: unclear message"; }
echo "check-distributed: implicit recipe refused with its reason; --distributed outside mpirun refused"

# 5. A rank killed mid-epoch: the job ends within 30 s naming rank 1; last.safetensors is intact and one
#    process resumes from it.
recipe fault 3 16 ""
"${MPI[@]}" -n 2 "$BIN" train "$WORK/fault.json" --distributed --threads 1 --out "$WORK/fault" >"$WORK/fault.out" 2>&1 &
JOB=$!
for _ in $(seq 600); do [ -s "$WORK/fault/log.jsonl" ] && [ -e "$WORK/fault/last.safetensors" ] && break; sleep 0.1; done
[ -e "$WORK/fault/last.safetensors" ] || { kill "$JOB"; cat "$WORK/fault.out"; fail "no checkpoint after the first epoch"; }
sleep 0.5
victim=""
for p in $(pgrep -f "sonoseg train $WORK/fault.json"); do
  grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$p/environ" 2>/dev/null && victim=$p
done
[ -n "$victim" ] || fail "rank 1 not found"
killed=$(date +%s.%N)
kill -9 "$victim"
for _ in $(seq 300); do kill -0 "$JOB" 2>/dev/null || break; sleep 0.1; done
kill -0 "$JOB" 2>/dev/null && { kill -9 "$JOB"; fail "the job was still running 30 s after rank 1 was killed"; }
wait "$JOB" && fail "the job exited 0 although rank 1 was killed"
ended=$(python3 -c "print(f'{$(date +%s.%N) - $killed:.1f}')")
grep -q "rank 1" "$WORK/fault.out" || { cat "$WORK/fault.out"; fail "the job's message does not name rank 1"; }
epochs_done=$(wc -l < "$WORK/fault/log.jsonl")
"$BIN" train "$WORK/fault.json" --resume --threads 1 --out "$WORK/fault" >"$WORK/resume.out" 2>&1 || { cat "$WORK/resume.out"; fail "resume with one process failed"; }
grep -q "resuming at epoch $((epochs_done + 1))" "$WORK/resume.out" && grep -q "used 2 rank(s) and resumes with 1" "$WORK/resume.out" \
  || { cat "$WORK/resume.out"; fail "resume did not continue from the checkpoint"; }
[ "$(wc -l < "$WORK/fault/log.jsonl")" -eq 3 ] || fail "the resumed run did not finish its 3 epochs"
echo "check-distributed: rank 1 killed in epoch $((epochs_done + 1)): job ended after ${ended} s naming it" \
  "($(grep -m1 -o 'process rank 1[^)]*)' "$WORK/fault.out" || grep -m1 -o '.*rank 1.*' "$WORK/fault.out" | cut -c1-80)); one process resumed at epoch $((epochs_done + 1)) and finished"

# 5b. A rank that stops without dying (SIGSTOP: a hung host): mpirun sees nothing, the watchdog ends the waiting
#     rank after --mpi-timeout seconds, naming it and the collective, and mpirun then ends the job.
rm -rf "$WORK/fault"
"${MPI[@]}" -n 2 "$BIN" train "$WORK/fault.json" --distributed --mpi-timeout 3 --threads 1 \
  --out "$WORK/fault" >"$WORK/stuck.out" 2>&1 &
JOB=$!
for _ in $(seq 600); do [ -e "$WORK/fault/last.safetensors" ] && break; sleep 0.1; done
victim=""
for p in $(pgrep -f "sonoseg train $WORK/fault.json"); do
  grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$p/environ" 2>/dev/null && victim=$p
done
[ -n "$victim" ] || { kill "$JOB"; fail "stuck rank: rank 1 not found"; }
stopped=$(date +%s.%N)
kill -STOP "$victim"
for _ in $(seq 300); do kill -0 "$JOB" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$JOB" 2>/dev/null; then kill -CONT "$victim"; kill -9 "$victim" "$JOB"; fail "the job still ran 30 s after rank 1 stopped"; fi
wait "$JOB" && fail "the job exited 0 although rank 1 stopped"
kill -9 "$victim" 2>/dev/null || true
ended=$(python3 -c "print(f'{$(date +%s.%N) - $stopped:.1f}')")
grep -q "rank 0: MPI_[A-Za-z]* has not returned after" "$WORK/stuck.out" || { cat "$WORK/stuck.out"; fail "stuck rank: no watchdog message"; }
echo "check-distributed: rank 1 stopped (SIGSTOP): the watchdog (--mpi-timeout 3) ended the job after ${ended} s:" \
  "$(grep -m1 -o 'rank 0: MPI_[A-Za-z]* has not returned after [0-9]* s' "$WORK/stuck.out")"

# 6. Two hosts: each rank in its own network namespace, joined by a veth pair; Open MPI over TCP between them,
#    mpirun starting the remote daemon with `ip netns exec` instead of ssh.
if ! command -v ip >/dev/null || ! ip netns add "${NS[0]}" 2>/dev/null; then
  echo "check-distributed: SKIPPED two namespaces: 'ip netns add' failed (needs iproute2 and root)"; exit 0
fi
ip netns add "${NS[1]}"
ip link add sdp0 netns "${NS[0]}" type veth peer name sdp1 netns "${NS[1]}"
ip -n "${NS[0]}" addr add 10.231.0.1/24 dev sdp0; ip -n "${NS[1]}" addr add 10.231.0.2/24 dev sdp1
for i in 0 1; do ip -n "${NS[$i]}" link set lo up; ip -n "${NS[$i]}" link set "sdp$i" up; done
printf '10.231.0.1 slots=1\n10.231.0.2 slots=1\n' > "$WORK/hosts"
# Open MPI calls the agent as `AGENT HOST COMMAND…`, as it would call ssh.
cat > "$WORK/netns-agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in 10.231.0.1) ns=${NS[0]} ;; 10.231.0.2) ns=${NS[1]} ;; *) echo "netns-agent: unknown host \$host" >&2; exit 1 ;; esac
exec ip netns exec "\$ns" /bin/sh -c "\$*"
AGENT
chmod +x "$WORK/netns-agent"
TCP=(--hostfile "$WORK/hosts" --mca plm_rsh_agent "$WORK/netns-agent" --mca btl tcp,self
     --mca oob_tcp_if_include 10.231.0.0/24 --mca btl_tcp_if_include 10.231.0.0/24)
ip netns exec "${NS[0]}" "${MPI[@]}" -n 2 "${TCP[@]}" "$BIN" train "$WORK/unet.json" --distributed --threads 1 --out "$WORK/unet-ns" \
  >"$WORK/unet-ns.out" 2>&1 || { cat "$WORK/unet-ns.out"; fail "mpirun across two namespaces failed"; }
python3 "$HERE/compare.py" "$WORK/unet-1" "$WORK/unet-ns" "${BOUND[@]}" "U-Net, 2 ranks in 2 network namespaces over TCP vs 1 process"
