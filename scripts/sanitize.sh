#!/usr/bin/env bash
# Configures and builds a sanitized tree of the runtime and tests
# (tests/sanitize/) over the kernels an existing main build generated.
#   scripts/sanitize.sh asan|tsan|fuzz [MAIN_BUILD] [TREE]
# asan: AddressSanitizer + UndefinedBehaviorSanitizer (the default compiler);
# tsan: ThreadSanitizer; fuzz: clang-14 with libFuzzer + ASan + UBSan.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:?asan, tsan or fuzz}"
main="${2:-${SEPCONV_BUILD_DIR:-$root/build}}"
tree="${3:-$main/sanitize-$kind}"
export PATH="$root/.venv/bin:$PATH"
args=()
case "$kind" in
  asan) args=(-DSEPCONV_SANITIZERS=address,undefined) ;;
  tsan) args=(-DSEPCONV_SANITIZERS=thread) ;;
  fuzz) args=(-DSEPCONV_SANITIZERS=fuzzer-no-link,address,undefined -DSEPCONV_FUZZERS=ON
              -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14) ;;
  *) echo "sanitize.sh: kind must be asan, tsan or fuzz, got '$kind'" >&2; exit 2 ;;
esac
if [[ ! -f "$tree/build.ninja" ]]; then
  cmake -S "$root/tests/sanitize" -B "$tree" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSEPCONV_MAIN_BUILD="$main" "${args[@]}" >/dev/null
fi
cmake --build "$tree"
