#!/usr/bin/env bash
# install_test.sh <build dir> <source dir> <scratch dir> <Halide lib dir> <python> <cmake> <generator> <make program> <c++> <cc>
# (run by ctest: tests/embed/CMakeLists.txt)
set -euo pipefail
build="$1" source="$2" scratch="$3" halide_lib="$4" python="$5" cmake="$6" generator="$7" make="$8" cxx="$9" cc="${10}"
rm -rf "$scratch"
mkdir -p "$scratch"
prefix="$scratch/prefix"

echo "== cmake --install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" > "$scratch/install.log"

echo "== no path of the build or source tree in the installed files"
# Halide's library directory may be under the source tree (the project's
# .venv): the executables that load libHalide keep it in their run path.
leaks=$(grep -raoE "($build|$source)[^[:space:][:cntrl:]\"';:]*" "$prefix" | grep -v ":$halide_lib\$" || true)
if [[ -n "$leaks" ]]; then
  echo "installed files name build/source paths:"
  echo "$leaks" | sort -u | head -20
  exit 1
fi

echo "== relocate the prefix"
mv "$prefix" "$scratch/moved"
prefix="$scratch/moved"

echo "== configure, build and run examples/mobilenet against it"
"$cmake" -S "$source/examples/mobilenet" -B "$scratch/example" -G "$generator" -DCMAKE_MAKE_PROGRAM="$make" \
  -DCMAKE_PREFIX_PATH="$prefix" -DSEPCONV_PYTHON="$python" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" > "$scratch/configure.log" || {
  cat "$scratch/configure.log"
  exit 1
}
"$cmake" --build "$scratch/example" > "$scratch/build.log" || {
  tail -50 "$scratch/build.log"
  exit 1
}
"$scratch/example/mobilenet_blocks"

# The program uses the AOT runtime only: no libHalide at run time.
if ldd "$scratch/example/mobilenet_blocks" | grep -q libHalide; then
  echo "mobilenet_blocks links libHalide"
  exit 1
fi
