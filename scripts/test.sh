#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite through ctest (ends with
# ctest's summary). Arguments go to ctest, e.g. scripts/test.sh -L conformance.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
export PATH="$root/.venv/bin:$PATH"
cd "${SEPCONV_BUILD_DIR:-$root/build}"
exec ctest --output-on-failure -j "$(nproc)" "$@"
