#!/usr/bin/env bash
# Sets up (scripts/bootstrap.sh) and builds sepconv into build/ with Ninja.
# Incremental: a rebuild after no change runs no generator.
# Extra CMake arguments may be passed: scripts/build.sh -DSEPCONV_KERNEL_TARGETS=...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
export PATH="$root/.venv/bin:$PATH"
build="${SEPCONV_BUILD_DIR:-$root/build}"
if [[ ! -f "$build/build.ninja" || $# -gt 0 ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build"
