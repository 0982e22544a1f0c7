#!/usr/bin/env bash
# Study mode (issue 42, 4): a whole study, wall time, mnist-lab against Keras 3 on JAX on
# this machine. mnist-lab trains `paper-2019-seeds` at EPOCHS epochs (75 units, its default
# two units at once); then Keras trains the same 75 units (nets, placements, rates,
# optimisers and seeds read from mnist-lab's run.json) in two processes, one pinned to each
# core, and the wall time of both is taken. Uses peers' virtual environment; never part of CI.
#
# usage: benches/peers/study.sh [EPOCHS]   (default 2; env PEERS_VENV, MNIST_LAB_DATA)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS="${1:-2}"
VENV="${PEERS_VENV:-target/peers-venv}"
DATA="${MNIST_LAB_DATA:-data/mnist}"
OUT="target/peers/study"
[ -x "$VENV/bin/python" ] || { echo "no $VENV: run benches/peers/run.sh once first" >&2; exit 1; }
cargo build --release --quiet
rm -rf "$OUT" && mkdir -p "$OUT"
CORES=$(nproc)

s=$(date +%s.%N)
./target/release/mnist-lab run paper-2019-seeds --epochs "$EPOCHS" --runs-dir "$OUT/runs" > "$OUT/mnist-lab.txt"
e=$(date +%s.%N)
lab=$(echo "$e - $s" | bc)
RUN=$(ls -d "$OUT"/runs/*paper-2019-seeds | tail -1)/run.json

s=$(date +%s.%N)
for k in $(seq 0 $((CORES - 1))); do
  taskset -c "$k" env XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
    "$VENV/bin/python" benches/peers/peers.py study-keras "$DATA" "$EPOCHS" "$RUN" "$k" "$CORES" \
    > "$OUT/keras-$k.jsonl" &
done
wait
e=$(date +%s.%N)
keras=$(echo "$e - $s" | bc)
units=$(cat "$OUT"/keras-*.jsonl | grep -c '"unit"')
printf 'study mode, paper-2019-seeds at %s epochs on %s cores (%s):\n' "$EPOCHS" "$CORES" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '  mnist-lab      %8.1f s wall (75 units)\n' "$lab"
printf '  Keras on JAX   %8.1f s wall (%s units, %s processes)\n' "$keras" "$units" "$CORES"
printf '  mnist-lab / Keras = %.3f\n' "$(echo "$lab / $keras" | bc -l)"
