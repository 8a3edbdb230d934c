#!/usr/bin/env bash
# Creates .venv-tf/ (TensorFlow for CPU, numpy, pytest) for the `tensorflow`
# test label, idempotently: a second run with nothing changed costs a second.
# Exits 0 with .venv-tf/.sepconv-ok present on success; exit status 1 means
# TensorFlow could not be installed (no network, no wheel for this Python).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SEPCONV_TF_VENV:-$root/.venv-tf}"
requirements="$root/tests/python/requirements-tf.txt"
stamp="$venv/.sepconv-ok"
if [[ -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
  exit 0
fi
echo "setup-tf-venv: installing TensorFlow into $venv (once; takes minutes)"
[[ -x "$venv/bin/python" ]] || "${SEPCONV_TF_BASE_PYTHON:-$root/.venv/bin/python}" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
if ! check=$(TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import tensorflow as tf; tf.constant(1.0)" 2>&1); then
  echo "$check" >&2
  exit 1
fi
cp "$requirements" "$stamp"
