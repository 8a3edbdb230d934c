#!/usr/bin/env bash
# The CPU benchmark: installs the peers (Debian: oneDNN, XNNPACK; a separate
# venv .venv-bench with ONNX Runtime, PyTorch, TensorFlow, TFLite, matplotlib),
# builds sepconv_bench, runs it and the Python peers on the same layers, and
# writes the report (bench/results/report.md, PNG plots, machine.txt).
#
#   scripts/bench.sh [--suite mobilenet_v1,mobilenet_v2] [--repetitions 3] [--min-time 0.1] [--no-python]
#                    [--python-batches 1,8] [--time real|cpu] [sepconv_bench options, e.g. --impls=sepconv,onednn]
# --time cpu reports one-thread rows by CPU time (for a loaded, shared machine).
#
# Everything is idempotent; a rerun only runs the benchmarks again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suite="" repetitions=3 min_time=0.1 python_peers=1 python_batches=1,8 time=real extra=()
while (($#)); do
  case "$1" in
    --suite) suite="$2"; shift 2 ;;
    --repetitions) repetitions="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    --no-python) python_peers=0; shift ;;
    --python-batches) python_batches="$2"; shift 2 ;;
    --time) time="$2"; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

SEPCONV_APT_EXTRA="libdnnl-dev libxnnpack-dev ${SEPCONV_APT_EXTRA:-}" "$root/scripts/bootstrap.sh"
build="${SEPCONV_BUILD_DIR:-$root/build}"
"$root/scripts/build.sh" >/dev/null
if [[ ! -x "$build/bench/sepconv_bench" ]]; then
  # A build configured before bootstrap installed the peers has them cached
  # as not found, and build.sh does not configure an existing build again.
  "$root/scripts/build.sh" -DSEPCONV_BUILD_BENCH=ON >/dev/null
fi
[[ -x "$build/bench/sepconv_bench" ]] || { echo "bench.sh: sepconv_bench was not built (see CMake's message)" >&2; exit 1; }

venv="$root/.venv-bench"
stamp="$venv/.sepconv-requirements"
if ((python_peers)) && { [[ ! -f "$stamp" ]] || ! cmp -s "$root/bench/requirements.txt" "$stamp"; }; then
  echo "bench.sh: installing the Python peers into $venv (once; large downloads)"
  [[ -x "$venv/bin/python" ]] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/bench/requirements.txt"
  cp "$root/bench/requirements.txt" "$stamp"
fi

out="$root/bench/results"
mkdir -p "$out"
threads_all=$(nproc)
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD)"
  echo "load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3)'
  echo "vector ISA flags: $(grep -m1 -o -w -E 'sse4_2|avx|avx2|fma|avx512f|avx512bw|avx512vl' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  free -g | head -2
} > "$out/machine.txt"

filter=()
[[ -n "$suite" ]] && filter+=("--suite=$suite")
"$build/bench/sepconv_bench" "${filter[@]}" --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=true --benchmark_min_time="$min_time" \
  --benchmark_out="$out/sepconv_bench.json" --benchmark_out_format=json "${extra[@]}"

inputs=("$out/sepconv_bench.json")
if ((python_peers)); then
  for t in 1 "$threads_all"; do
    "$venv/bin/python" "$root/bench/python_peers.py" --threads "$t" ${suite:+--suite "$suite"} --batches "$python_batches" \
      --repetitions "$repetitions" --min-time "$min_time" --out "$out/python_peers_t$t.json"
    inputs+=("$out/python_peers_t$t.json")
  done
fi
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
py="$venv/bin/python"; [[ -x "$py" ]] || py=python3
"$py" "$root/bench/report.py" "$out" "${inputs[@]}" --machine "$out/machine.txt" --time "$time"
