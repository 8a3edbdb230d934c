// The main demo: a MobileNet v1 separable layer (112x112x32, 3x3 depthwise,
// stride 1, SAME, then 1x1 to 64 channels, relu6), batch 1, run through the
// AOT kernels generated for this machine at build time. Prints the kernel
// that ran, the max error against the float64 reference and the time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "reference.h"
#include "sepconv/cpu.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

int main() {
    using namespace sepconv;
    const int N = 1, H = 112, W = 112, C = 32, O = 64;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    auto random = [&](size_t n) {
        std::vector<float> v(n);
        for (float &x : v) x = dist(rng);
        return v;
    };
    const auto input = random(N * H * W * C), dw = random(3 * 3 * C), pw = random(C * O), bias = random(O);
    std::vector<float> output(N * H * W * O);

    Conv2DOptions options;
    options.padding = Padding::same();
    options.activation = Activation::relu6();
    auto run = [&] {
        separable_conv2d(ConstTensor(input, {N, H, W, C}), ConstTensor(dw, {3, 3, C, 1}), ConstTensor(pw, {1, 1, C, O}),
                         ConstTensor(bias, {O}), MutableTensor(output, {N, H, W, O}), options);
    };
    run();  // warm-up (and the thread pool's start)

    reference::Geometry g;
    g.pad = reference::Pad::Same;
    const auto ref = reference::separable(reference::from_floats(input, {N, H, W, C}), dw, {3, 3, C, 1}, pw, O, bias,
                                          g, {reference::Act::Relu6});
    double max_error = 0, max_ref = 0;
    for (size_t i = 0; i < output.size(); i++) {
        max_error = std::max(max_error, std::abs(output[i] - ref.data[i]));
        max_ref = std::max(max_ref, std::abs(ref.data[i]));
    }
    const double tolerance = 1e-5 * (1 + max_ref) * std::sqrt(9.0 * C);

    std::vector<double> ms;
    for (int i = 0; i < 50; i++) {
        auto t0 = std::chrono::steady_clock::now();
        run();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const double flops = 2.0 * N * H * W * C * (9 + O);

    std::printf("MobileNet v1 separable layer: %dx%dx%dx%d, 3x3 depthwise SAME stride 1, 1x1 -> %d, relu6\n", N, H,
                W, C, O);
    std::printf("kernel:     %s (%s)\n", last_kernel().c_str(), to_string(last_isa()));
    std::printf("max error:  %.3g vs the float64 reference (tolerance %.3g): %s\n", max_error, tolerance,
                max_error <= tolerance ? "OK" : "FAIL");
    std::printf("time:       %.3f ms median of %zu runs (%.1f GFLOP/s)\n", median, ms.size(),
                flops / (median * 1e6));
    return max_error <= tolerance ? 0 : 1;
}
