#!/usr/bin/env bash
# Sets up, builds (generating the kernels for this machine) and runs the demo:
# a MobileNet v1 separable layer, its max error against the float64 reference
# and its time.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh"
"${SEPCONV_BUILD_DIR:-$root/build}/tools/sepconv_demo"
