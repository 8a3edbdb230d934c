#!/usr/bin/env bash
# Installs what building and testing sepconv needs, idempotently:
#   - Debian packages (compilers, GoogleTest, Google Benchmark, python3-venv, ...)
#   - the project venv .venv/ with Halide 21.0.0 (C++ SDK + LLVM), CMake and Ninja from PyPI.
# Re-running it when everything is present costs a second.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

apt_packages=(build-essential git python3 python3-venv python3-dev libgtest-dev libgmock-dev libbenchmark-dev)
# OpenCL on the CPU (PoCL), so the GPU variants' OpenCL conformance tests run without a GPU.
apt_packages+=(ocl-icd-opencl-dev pocl-opencl-icd clinfo)
# JSON for the schedule database (tools/tuning/, `sepconv tune`).
apt_packages+=(nlohmann-json3-dev)
# pthreadpool: the pool the kernels' parallel loops run on (runtime/src/thread_pool.cpp).
apt_packages+=(libpthreadpool-dev)
# ARM64 cross build, its tests under qemu-user, llvm-mca for bench/arm (tests/arm/):
# the arm64 multiarch GoogleTest needs the arm64 architecture enabled in dpkg.
apt_packages+=(g++-aarch64-linux-gnu qemu-user libgtest-dev:arm64 llvm)
# clang with libFuzzer and the sanitizer runtimes: the fuzz targets (tests/fuzz/).
apt_packages+=(clang-14 libclang-rt-14-dev)
# Extra package sets are opt-in through SEPCONV_APT_EXTRA (space separated), e.g. for ARM or OpenCL.
read -r -a extra <<< "${SEPCONV_APT_EXTRA:-}"
apt_packages+=("${extra[@]}")

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  if [[ " ${missing[*]}" == *":arm64"* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv="$root/.venv"
requirements="$root/scripts/requirements.txt"
stamp="$venv/.sepconv-requirements"
if [[ ! -f "$stamp" ]] || ! cmp -s "$requirements" "$stamp"; then
  echo "bootstrap: creating $venv"
  [[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -r "$requirements"
  cp "$requirements" "$stamp"
fi
