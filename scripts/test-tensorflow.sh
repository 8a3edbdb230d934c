#!/usr/bin/env bash
# Runs pytest with the given arguments in .venv-tf (TensorFlow), creating it
# first if needed (scripts/setup-tf-venv.sh). Exits 77 (ctest's "skipped")
# when TensorFlow cannot be installed. PYTHONPATH must hold the built package.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SEPCONV_TF_VENV:-$root/.venv-tf}"
if ! "$root/scripts/setup-tf-venv.sh"; then
  echo "SKIPPED: TensorFlow could not be installed into $venv (see above)"
  exit 77
fi
# TensorFlow's own kernels, not oneDNN's (which accept some invalid arguments
# and abort on others); quiet logs.
export TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=3
exec "$venv/bin/python" -m pytest "$@"
