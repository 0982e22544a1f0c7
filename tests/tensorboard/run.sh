#!/usr/bin/env bash
# The TensorBoard check, a step of .ci/run (not of `cargo test`, which installs nothing): a
# tiny run exported as CSV and as TensorBoard event files, read back by TensorBoard's own
# EventAccumulator (an independent reader, pinned below, installed from PyPI into its own
# virtual environment on first use) and compared scalar by scalar with epochs.csv.
#
# usage: tests/tensorboard/run.sh [path to the mnist-lab binary]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=${1:-$root/target/release/mnist-lab}
# Absolute: the jobs and steps below run from other folders.
bin=$(realpath "$bin" 2>/dev/null || echo "$bin")
[ -x "$bin" ] || { echo "tensorboard check: no mnist-lab binary at $bin (cargo build --release)" >&2; exit 2; }
TENSORBOARD_VERSION=2.20.0
venv="${TB_VENV:-$root/target/tb-venv-$TENSORBOARD_VERSION}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tensorboard" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "tensorboard==$TENSORBOARD_VERSION" >&2
fi
work=$(mktemp -d /tmp/mnist-lab-tb.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Two seeds of a variant with a holdout (validation scalars) and a schedule (learning rate),
# one without: units with and without the optional scalars.
cat > "$work/tb.ron" <<'RON'
(name: "tb", defaults: (arch: "128-64", epochs: 2, train_subset: 1200, test_subset: 300),
 variants: [
   (name: "held/out", seeds: 2, validation: Holdout(200), schedule: Some(Cosine(min_lr: 0.0001))),
   (name: "plain", validation: Test),
 ])
RON
"$bin" run "$work/tb.ron" --run-dir "$work/run" >/dev/null
"$bin" export "$work/run" --to "$work/csv" >/dev/null
"$bin" export "$work/run" --tensorboard "$work/tb" >/dev/null
"$venv/bin/python" "$here/check.py" "$work/tb" "$work/csv/epochs.csv"
