#!/usr/bin/env bash
# Side-by-side speed of mnist-lab against Keras 3 on JAX and PyTorch (eager), in one run on
# this machine: the same three nets, the same data, median s/epoch over epochs 2..EPOCHS.
# Makes its own Python virtual environment (from PyPI) on first use. Never part of CI.
# With ROUNDS > 1 the whole interleaved sequence runs ROUNDS times and the table gives, per
# net, the median of each round's ratio (a minute in which the machine slows then decides
# one round, not the answer).
#
# usage: benches/peers/run.sh [EPOCHS] [ROUNDS]   (default 4 and 1; env PEERS_VENV, MNIST_LAB_DATA)
set -euo pipefail
cd "$(dirname "$0")/../.."
EPOCHS="${1:-4}"
ROUNDS="${2:-1}"
VENV="${PEERS_VENV:-target/peers-venv}"
DATA="${MNIST_LAB_DATA:-data/mnist}"
OUT="target/peers"
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/python" ]; then
  echo "making $VENV (Keras on JAX, PyTorch; a few GB, once) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet "jax[cpu]" keras torch numpy
fi

cargo build --release --quiet
rm -f "$OUT"/*.json "$OUT"/*.jsonl
# Interleaved per architecture (mnist-lab, Keras on JAX, PyTorch, then the next net), so a
# drift in the machine's speed falls on all three alike.
for round in $(seq 1 "$ROUNDS"); do
  for arch in 512-128 512-256-128 512-256-128-64-32; do
    echo "round $round, $arch: mnist-lab bench ..." >&2
    ./target/release/mnist-lab bench --kernel fast --epochs "$EPOCHS" --arch "$arch" --data "$DATA" --json \
      > "$OUT/mnist-lab-$arch-r$round.json"
    for peer in keras-jax torch; do
      echo "round $round, $arch: $peer ..." >&2
      "$VENV/bin/python" benches/peers/peers.py "$peer" "$DATA" "$EPOCHS" "$arch" >> "$OUT/$peer.jsonl"
    done
  done
done
python3 benches/peers/table.py "$OUT"
