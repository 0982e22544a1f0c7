#!/usr/bin/env bash
# Reads mnist-lab's TensorBoard export back with TensorBoard's own EventAccumulator (an
# independent reader) and checks every scalar against epochs.csv. Installs the `tensorboard`
# package from PyPI into its own virtual environment on first use.
#
# usage: tests/tensorboard/read.sh TB_DIR EPOCHS_CSV MAPPING_CSV
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${TB_VENV:-$here/../../target/tb-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tensorboard" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "tensorboard==2.*" >&2
fi
exec "$venv/bin/python" "$here/check.py" "$@"
