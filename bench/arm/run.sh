#!/usr/bin/env bash
# Static evidence for the ARM64 kernels: builds the host project and the ARM
# cross build (tests/arm/), then writes bench/results/arm.md from the
# generated assembly and llvm-mca (bench/arm/static_report.py).
# qemu-user timings would say nothing about ARM hardware, so none are taken.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${SEPCONV_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
export PATH="$root/.venv/bin:$PATH"
ctest --test-dir "$build" -R '^arm_cross_build$' --output-on-failure
mkdir -p "$root/bench/results"
python3 "$root/bench/arm/static_report.py" "$build/arm" "$root/bench/results/arm.md" "$(command -v llvm-mca)"
