// Times the GPU variants on the layers of shapes.csv: the depthwise stage,
// the pointwise stage, the two as an unfused pair, and the fused separable
// kernel, all NHWC float32 with data resident on the device. One JSON object
// per (layer, batch) on stdout; bench/gpu/bench.py adds PyTorch's times and
// the device bandwidth and writes the report.
//
//   sepconv_gpu_bench <shapes.csv> [--backend cuda|opencl] [--batches 1,32] [--iterations N]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "HalideBuffer.h"
#include "gpu_kernels.h"
#include "reference.h"

namespace sepconv::gpu {
namespace {

using Halide::Runtime::Buffer;

struct Layer {
    std::string suite, name;
    int in_h, in_w, in_c, k_h, k_w, stride, dilation, multiplier, out_c;
    std::string padding;
};

std::vector<Layer> read_shapes(const std::string &path) {
    std::ifstream f(path);
    std::vector<Layer> layers;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::replace(line.begin(), line.end(), ',', ' ');
        std::istringstream s(line);
        Layer l;
        if (s >> l.suite >> l.name >> l.in_h >> l.in_w >> l.in_c >> l.k_h >> l.k_w >> l.stride >> l.dilation >>
            l.multiplier >> l.out_c >> l.padding) {
            layers.push_back(l);
        }
    }
    return layers;
}

Buffer<float> random_buffer(std::vector<int> halide_shape, std::mt19937 &rng) {
    Buffer<float> b(halide_shape);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    b.for_each_value([&](float &v) { v = d(rng); });
    b.set_host_dirty();
    return b;
}

// Milliseconds per run: `iterations` runs back to back (queued on the
// device, as a network would run them) then one synchronization; the median
// of 5 such batches, after two warm-up runs (which also copy the inputs to
// the device).
template <typename F>
double ms_per_run(F run, halide_buffer_t *output, int iterations) {
    for (int i = 0; i < 2; i++) {
        if (run() != 0) return NAN;
    }
    halide_device_sync(nullptr, output);
    std::vector<double> ms;
    for (int batch = 0; batch < 5; batch++) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; i++) {
            if (run() != 0) return NAN;
        }
        halide_device_sync(nullptr, output);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                     iterations);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// Halide's default handler prints to stdout, which holds the JSON lines: a
// variant's error (e.g. too many channels for the fused kernel's shared
// memory) goes to stderr instead, and that time is reported as null.
void error_to_stderr(void *, const char *msg) {
    const size_t n = std::strlen(msg);
    std::fprintf(stderr, "sepconv_gpu_bench: %s%s", msg, n && msg[n - 1] == '\n' ? "" : "\n");
}

double max_abs_diff(Buffer<float> &a, Buffer<float> &b) {
    a.copy_to_host();
    b.copy_to_host();
    double worst = 0;
    a.for_each_element([&](const int *pos) { worst = std::max(worst, std::abs(double(a(pos)) - double(b(pos)))); });
    return worst;
}

void bench_layer(Backend backend, const Layer &l, int batch, int iterations, std::mt19937 &rng) {
    reference::Pad pad = l.padding == "VALID" ? reference::Pad::Valid : reference::Pad::Same;
    const auto wh = reference::window(l.in_h, l.k_h, l.stride, l.dilation, pad, 0, 0);
    const auto ww = reference::window(l.in_w, l.k_w, l.stride, l.dilation, pad, 0, 0);
    const int mid = l.in_c * l.multiplier, oh = wh.out, ow = ww.out;
    const GpuKernel *dw = select_gpu_kernel(backend, Op::Depthwise, DataFormat::NHWC, l.k_h, l.k_w, l.multiplier,
                                            l.stride, l.stride);
    const GpuKernel *pw = select_gpu_kernel(backend, Op::Pointwise, DataFormat::NHWC, 1, 1, 1, 1, 1);
    const GpuKernel *sep = select_gpu_kernel(backend, Op::Separable, DataFormat::NHWC, l.k_h, l.k_w, l.multiplier,
                                             l.stride, l.stride);
    // Halide shapes, innermost first.
    Buffer<float> input = random_buffer({l.in_c, l.in_w, l.in_h, batch}, rng);
    Buffer<float> dw_filter = random_buffer({l.multiplier, l.in_c, l.k_w, l.k_h}, rng);
    Buffer<float> pw_filter = random_buffer({l.out_c, mid}, rng);
    Buffer<float> dw_bias = random_buffer({mid}, rng), pw_bias = random_buffer({l.out_c}, rng);
    Buffer<float> mid_out(std::vector<int>{mid, ow, oh, batch}), out_pair(std::vector<int>{l.out_c, ow, oh, batch}),
        out_fused(std::vector<int>{l.out_c, ow, oh, batch});
    GpuGeometry g;
    g.stride_h = g.stride_w = l.stride;
    g.dilation_h = g.dilation_w = l.dilation;
    g.pad_top = wh.pad_before;
    g.pad_left = ww.pad_before;
    const GpuActivation none = {-INFINITY, INFINITY, 1.0f};
    // A zero depthwise bias keeps the pair equal to the fused kernel (which has none).
    std::fill(dw_bias.begin(), dw_bias.end(), 0.0f);

    auto run_dw = [&] {
        return dw->call(input.raw_buffer(), dw_filter.raw_buffer(), nullptr, dw_bias.raw_buffer(), g, none,
                        mid_out.raw_buffer());
    };
    auto run_pw = [&] {
        return pw->call(mid_out.raw_buffer(), nullptr, pw_filter.raw_buffer(), pw_bias.raw_buffer(), g, none,
                        out_pair.raw_buffer());
    };
    auto run_pair = [&] { return run_dw() ? -1 : run_pw(); };
    auto run_fused = [&] {
        return sep->call(input.raw_buffer(), dw_filter.raw_buffer(), pw_filter.raw_buffer(), pw_bias.raw_buffer(), g,
                         none, out_fused.raw_buffer());
    };
    const double dw_ms = ms_per_run(run_dw, mid_out.raw_buffer(), iterations);
    const double pw_ms = ms_per_run(run_pw, out_pair.raw_buffer(), iterations);
    const double pair_ms = ms_per_run(run_pair, out_pair.raw_buffer(), iterations);
    const double fused_ms = ms_per_run(run_fused, out_fused.raw_buffer(), iterations);
    const double diff =
        std::isfinite(pair_ms) && std::isfinite(fused_ms) ? max_abs_diff(out_pair, out_fused) : NAN;

    // Compulsory traffic: every input, weight and output once.
    const double f = sizeof(float);
    const double in_b = f * batch * l.in_h * l.in_w * l.in_c, mid_b = f * batch * oh * ow * mid,
                 out_b = f * batch * oh * ow * l.out_c, dwf_b = f * l.k_h * l.k_w * mid, pwf_b = f * mid * l.out_c;
    auto js = [](double v) { return std::isfinite(v) ? std::to_string(v) : std::string("null"); };
    std::printf("{\"suite\": \"%s\", \"layer\": \"%s\", \"batch\": %d, \"backend\": \"%s\", "
                "\"depthwise_kernel\": \"%s\", \"pointwise_kernel\": \"%s\", \"separable_kernel\": \"%s\", "
                "\"depthwise_ms\": %s, \"pointwise_ms\": %s, \"pair_ms\": %s, \"fused_ms\": %s, "
                "\"depthwise_bytes\": %.0f, \"pointwise_bytes\": %.0f, \"fused_bytes\": %.0f, "
                "\"fused_vs_pair_max_abs_diff\": %s}\n",
                l.suite.c_str(), l.name.c_str(), batch, to_string(backend), dw->name, pw->name, sep->name,
                js(dw_ms).c_str(), js(pw_ms).c_str(), js(pair_ms).c_str(), js(fused_ms).c_str(),
                in_b + mid_b + dwf_b, mid_b + out_b + pwf_b, in_b + out_b + dwf_b + pwf_b, js(diff).c_str());
    std::fflush(stdout);
}

int main_impl(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <shapes.csv> [--backend cuda|opencl] [--batches 1,32] [--iterations N]\n",
                     argv[0]);
        return 2;
    }
    Backend backend = Backend::CUDA;
    std::vector<int> batches = {1, 32};
    int iterations = 50;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--backend") {
            backend = value == "opencl" ? Backend::OpenCL : Backend::CUDA;
        } else if (flag == "--batches") {
            batches.clear();
            std::istringstream s(value);
            for (std::string b; std::getline(s, b, ',');) batches.push_back(std::stoi(b));
        } else if (flag == "--iterations") {
            iterations = std::stoi(value);
        }
    }
    const std::string &reason = device_unavailable(backend);
    if (!reason.empty()) {
        std::fprintf(stderr, "sepconv_gpu_bench: %s\n", reason.c_str());
        return 1;
    }
    halide_set_error_handler(error_to_stderr);
    std::mt19937 rng(20261123);
    for (const Layer &l : read_shapes(argv[1])) {
        for (int batch : batches) bench_layer(backend, l, batch, iterations, rng);
    }
    return 0;
}

}  // namespace
}  // namespace sepconv::gpu

int main(int argc, char **argv) {
    return sepconv::gpu::main_impl(argc, argv);
}
