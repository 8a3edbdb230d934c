// sepconv_bench: every layer of shapes.csv, for depthwise, pointwise and
// separable, batch 1 and 8, one thread and all threads, for ours and each
// peer in the same run, after the roof probes (STREAM triad, peak FMA).
// Every kernel's output is checked against the float64 reference before it is
// timed; a wrong result fails the benchmark and the run (exit status 1).
//
// Options (before Google Benchmark's own, e.g. --benchmark_out=x.json):
//   --shapes=PATH          the layer list (default: the repository's shapes.csv)
//   --suite=a,b            only these suites (default: all)
//   --layer=a,b            only these layers
//   --ops=dw,pw,sep        operations
//   --batches=1,8          batch sizes
//   --threads=1,N          thread counts (default: 1 and all cores)
//   --impls=sepconv,...    implementations (default: all, see kernels.cpp)
// Each row's name is op/suite/layer/batch:B/threads:T/impl; its counters are
// GFLOP/s, GB/s and roof% (time at the roofline min(peak, AI * bandwidth) of
// this thread count over the measured time).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "kernels.h"
#include "layers.h"
#include "probes.h"

using namespace sepconv::bench;

namespace {

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
    return out;
}

std::vector<int> split_ints(const std::string &s) {
    std::vector<int> out;
    for (const std::string &v : split(s)) out.push_back(std::stoi(v));
    return out;
}

bool selected(const std::vector<std::string> &filter, const std::string &name) {
    return filter.empty() || std::find(filter.begin(), filter.end(), name) != filter.end();
}

std::atomic<int> failures{0};

// The data of the layer being benchmarked: rows are registered layer by
// layer, so one cached layer keeps memory bounded.
std::shared_ptr<const LayerData> cached_data(const Layer &l, int batch) {
    static std::string key;
    static std::shared_ptr<const LayerData> data;
    const std::string k = l.suite + "/" + l.name + "/" + std::to_string(batch);
    if (k != key) {
        data.reset();
        data = layer_data(l, batch);
        key = k;
    }
    return data;
}

void run_layer(benchmark::State &state, const Layer &l, Operation op, int batch, int threads,
               const std::string &impl, Roof roof) {
    set_threads(threads);
    std::unique_ptr<Kernel> kernel;
    try {
        kernel = make_kernel(impl, l, op, cached_data(l, batch), threads);
        kernel->run();
    } catch (const std::exception &e) {
        state.SkipWithError((impl + " failed: " + e.what()).c_str());
        failures++;
        return;
    }
    const std::string error = check_output(l, op, *cached_data(l, batch), kernel->output);
    if (!error.empty()) {
        state.SkipWithError(("wrong result: " + error).c_str());
        failures++;
        return;
    }
    for (auto _ : state) {
        kernel->run();
        benchmark::ClobberMemory();
    }
    const double f = flops(l, op, batch), b = bytes(l, op, batch);
    const double roof_seconds = std::max(f / (roof.peak_gflops * 1e9), b / (roof.stream_gbs * 1e9));
    using C = benchmark::Counter;
    state.counters["GFLOP/s"] = C(f * 1e-9, C::kIsIterationInvariantRate);
    state.counters["GB/s"] = C(b * 1e-9, C::kIsIterationInvariantRate);
    state.counters["roof%"] = C(100 * roof_seconds, C::kIsIterationInvariantRate);
    state.counters["peak_GFLOP/s"] = roof.peak_gflops;
    state.counters["stream_GB/s"] = roof.stream_gbs;
}

}  // namespace

int main(int argc, char **argv) {
    std::string shapes = SEPCONV_SHAPES_CSV;
    std::vector<std::string> suites, layer_names, ops = {"dw", "pw", "sep"}, impls = implementation_names();
    std::vector<int> batches = {1, 8};
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<int> thread_counts = cores > 1 ? std::vector<int>{1, cores} : std::vector<int>{1};
    std::vector<char *> rest = {argv[0]};
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](const char *flag) -> const char * {
            const size_t len = std::strlen(flag);
            return a.compare(0, len, flag) == 0 ? argv[i] + len : nullptr;
        };
        if (auto v = value("--shapes=")) shapes = v;
        else if (auto v = value("--suite=")) suites = split(v);
        else if (auto v = value("--layer=")) layer_names = split(v);
        else if (auto v = value("--ops=")) ops = split(v);
        else if (auto v = value("--batches=")) batches = split_ints(v);
        else if (auto v = value("--threads=")) thread_counts = split_ints(v);
        else if (auto v = value("--impls=")) impls = split(v);
        else rest.push_back(argv[i]);
    }
    int rest_argc = int(rest.size());
    benchmark::Initialize(&rest_argc, rest.data());
    if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;

    // The roofs, once per thread count, before any kernel; also reported as rows.
    std::map<int, Roof> roofs;
    for (int t : thread_counts) {
        roofs[t] = measure_roof(t);
        const Roof r = roofs[t];
        benchmark::RegisterBenchmark(("probe/stream_triad/threads:" + std::to_string(t)).c_str(),
                                     [r](benchmark::State &s) {
                                         for (auto _ : s) {}
                                         s.counters["GB/s"] = r.stream_gbs;
                                     })->Iterations(1);
        benchmark::RegisterBenchmark(("probe/peak_fma_" + std::string(peak_isa()) + "/threads:" + std::to_string(t)).c_str(),
                                     [r](benchmark::State &s) {
                                         for (auto _ : s) {}
                                         s.counters["GFLOP/s"] = r.peak_gflops;
                                     })->Iterations(1);
        benchmark::AddCustomContext("stream_triad_GB/s_threads_" + std::to_string(t), std::to_string(r.stream_gbs));
        benchmark::AddCustomContext("peak_GFLOP/s_threads_" + std::to_string(t), std::to_string(r.peak_gflops));
    }

    const Operation all_ops[] = {Operation::Depthwise, Operation::Pointwise, Operation::Separable};
    for (const Layer &l : read_layers(shapes)) {
        if (!selected(suites, l.suite) || !selected(layer_names, l.name)) continue;
        for (int batch : batches) {
            for (int t : thread_counts) {
                for (Operation op : all_ops) {
                    if (!selected(ops, short_name(op))) continue;
                    if (op != Operation::Depthwise && l.out_c == 0) continue;
                    for (const std::string &impl : impls) {
                        if (!runs(impl, l, op)) continue;
                        const std::string name = std::string(short_name(op)) + "/" + l.suite + "/" + l.name +
                                                 "/batch:" + std::to_string(batch) + "/threads:" +
                                                 std::to_string(t) + "/" + impl;
                        benchmark::RegisterBenchmark(name.c_str(), run_layer, l, op, batch, t, impl, roofs[t])
                            ->UseRealTime()
                            ->Unit(benchmark::kMicrosecond);
                    }
                }
            }
        }
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (failures > 0) {
        std::fprintf(stderr, "sepconv_bench: %d benchmark(s) failed (wrong result or error)\n", int(failures));
        return 1;
    }
    return 0;
}
