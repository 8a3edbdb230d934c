#!/usr/bin/env bash
# On a machine with a CUDA GPU, PyTorch (with cuDNN) and nvidia-smi: runs the
# CUDA conformance tests, then the shapes.csv benchmark at batch 1 and 32
# against PyTorch, in one go. Writes into bench/gpu/results/<UTC time>/ (or $1):
#   conformance.txt  the GoogleTest log of the CUDA cases (none may skip)
#   ours.jsonl       sepconv_gpu_bench's times
#   results.json / results.md   with PyTorch, bandwidth and ratios
#   nvidia-smi.txt   the device
#
# Binaries: $SEPCONV_GPU_BUILD (default build/), built here if missing (needs
# the .venv with the Halide wheel; the build needs no GPU or CUDA toolkit, so
# it can be done elsewhere and carried over).
# Shapes: $SEPCONV_SHAPES, else shared/bench/shapes.csv beside or inside the checkout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SEPCONV_GPU_BUILD:-$root/build}"
out="${1:-$root/bench/gpu/results/$(date -u +%Y%m%d-%H%M)}"

shapes="${SEPCONV_SHAPES:-}"
for candidate in "$root/../shared/bench/shapes.csv" "$root/shared/bench/shapes.csv"; do
  [[ -n "$shapes" ]] || { [[ -f "$candidate" ]] && shapes="$candidate"; } || true
done
[[ -f "$shapes" ]] || { echo "run.sh: shapes.csv not found; set SEPCONV_SHAPES" >&2; exit 2; }

if [[ ! -x "$build/gpu/sepconv_gpu_bench" || ! -x "$build/tests/gpu/gpu_conformance_test" ]]; then
  export PATH="$root/.venv/bin:$PATH"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build" --target gpu_conformance_test sepconv_gpu_bench
fi

mkdir -p "$out"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true

echo "== CUDA conformance"
status=0
"$build/tests/gpu/gpu_conformance_test" --gtest_filter='*cuda*:*CUDA*' 2>&1 | tee "$out/conformance.txt" || status=$?
if grep -q "^\[  SKIPPED \]" "$out/conformance.txt"; then
  echo "run.sh: CUDA cases were skipped (no usable CUDA device); see $out/conformance.txt" >&2
  exit 1
fi
[[ $status -eq 0 ]] || { echo "run.sh: CUDA conformance failed" >&2; exit $status; }

echo "== benchmark (sepconv)"
"$build/gpu/sepconv_gpu_bench" "$shapes" --backend cuda --batches 1,32 --iterations "${SEPCONV_BENCH_ITERATIONS:-50}" \
  | tee "$out/ours.jsonl"
echo "== benchmark (PyTorch) and report"
python3 "$root/bench/gpu/bench.py" --ours "$out/ours.jsonl" --shapes "$shapes" --out "$out" \
  --iterations "${SEPCONV_BENCH_ITERATIONS:-50}"
echo "results: $out/results.md"
