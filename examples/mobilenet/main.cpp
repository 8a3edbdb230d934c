// A MobileNet v1 block stack (the separable layers of layers.csv, each
// 3x3 depthwise + 1x1 pointwise + bias + relu6, SAME padding) on a
// deterministic input, through kernels generated for exactly these layers at
// this program's build time (sepconv_add_kernels). Checks:
//   - every layer ran this program's own kernel (the registry dispatches to it),
//     on TF's pointwise filter and on a packed one (sepconv::PackedPointwiseFilter,
//     its own kernel), both giving the same outputs;
//   - the raw Halide function gives the first layer bit for bit;
//   - sampled outputs of every layer match a straightforward float64 loop;
//   - the output's checksum matches the stored float64 one within the error
//     float32 accumulation allows.
// Prints the time of the stack. `mobilenet_blocks --reference` computes the
// stored checksum (the whole stack in float64 loops).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "HalideBuffer.h"
#include "mobilenet_blocks_kernels.h"  // generated: the kernels, their table
#include "sepconv/aligned.h"
#include "sepconv/cpu.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace {

// The float64 checksum (sum of the last layer's outputs) of the stack as
// `mobilenet_blocks --reference` computes it.
constexpr double kStoredChecksum = 22996.267073;

struct Layer {
    std::string name;
    int in_h, in_w, in_c, k, stride, out_c;
    std::vector<float> depthwise, pointwise, bias;  // [k, k, C, 1], [1, 1, C, O], [O]
    int out_h() const { return (in_h + stride - 1) / stride; }  // SAME
    int out_w() const { return (in_w + stride - 1) / stride; }
    // TF SAME: the padding before the image, half of the total (rounded down).
    int pad_top() const { return std::max((out_h() - 1) * stride + k - in_h, 0) / 2; }
    int pad_left() const { return std::max((out_w() - 1) * stride + k - in_w, 0) / 2; }
};

// A deterministic value in [-1, 1) from an index and a salt (no library RNG,
// whose sequence may differ between standard libraries).
float det(uint64_t i, uint64_t salt) {
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ (salt * 0xBF58476D1CE4E5B9ull);
    x ^= x >> 31;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 29;
    return static_cast<float>(static_cast<double>(x >> 40) / static_cast<double>(1ull << 23) - 1.0);
}

std::vector<float> values(size_t n, uint64_t salt, float scale) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = scale * det(i, salt);
    return v;
}

std::vector<Layer> read_layers(const char *path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    std::vector<Layer> layers;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::stringstream fields(line);
        std::vector<std::string> f;
        for (std::string s; std::getline(fields, s, ',');) f.push_back(s);
        if (f.size() != 12) throw std::runtime_error("layers.csv: 12 fields expected in '" + line + "'");
        Layer l{f[1], std::stoi(f[2]), std::stoi(f[3]), std::stoi(f[4]), std::stoi(f[5]), std::stoi(f[7]), std::stoi(f[10])};
        if (f[5] != f[6] || f[8] != "1" || f[9] != "1" || f[11] != "SAME") {
            throw std::runtime_error("layers.csv: this example runs square kernels, dilation 1, multiplier 1, SAME");
        }
        if (!layers.empty() && (layers.back().out_h() != l.in_h || layers.back().out_w() != l.in_w ||
                                layers.back().out_c != l.in_c)) {
            throw std::runtime_error("layers.csv: " + l.name + " does not take " + layers.back().name + "'s output");
        }
        const uint64_t salt = 16 * (layers.size() + 1);
        // Scales that keep activations of order one (uniform weights of
        // variance 1/(k*k) for the k*k depthwise taps; 2/C for the C
        // pointwise terms, as relu drops half): some reach relu6's bound.
        l.depthwise = values(size_t(l.k) * l.k * l.in_c, salt + 1, std::sqrt(3.0f) / l.k);
        l.pointwise = values(size_t(l.in_c) * l.out_c, salt + 2, std::sqrt(6.0f / l.in_c));
        l.bias = values(l.out_c, salt + 3, 0.1f);
        layers.push_back(std::move(l));
    }
    if (layers.empty()) throw std::runtime_error("layers.csv lists no layers");
    return layers;
}

// One output of a layer, straight from the definition, in float64.
template <typename Values>
double reference_output(const Layer &l, const Values &input, int y, int x, int o) {
    double sum = l.bias[o];
    for (int c = 0; c < l.in_c; c++) {
        double d = 0;
        for (int i = 0; i < l.k; i++) {
            for (int j = 0; j < l.k; j++) {
                const int iy = y * l.stride + i - l.pad_top(), ix = x * l.stride + j - l.pad_left();
                if (iy < 0 || iy >= l.in_h || ix < 0 || ix >= l.in_w) continue;
                d += double(input[(size_t(iy) * l.in_w + ix) * l.in_c + c]) * l.depthwise[(size_t(i) * l.k + j) * l.in_c + c];
            }
        }
        sum += d * l.pointwise[size_t(c) * l.out_c + o];
    }
    return std::min(std::max(sum, 0.0), 6.0);
}

double checksum_of(const sepconv::AlignedVector<float> &v, double *sum_abs) {
    double sum = 0;
    *sum_abs = 0;
    for (float x : v) sum += x, *sum_abs += std::abs(x);
    return sum;
}

int print_reference(const std::vector<Layer> &layers, const std::vector<float> &input) {
    std::vector<double> act(input.begin(), input.end());
    for (const Layer &l : layers) {
        std::vector<double> out(size_t(l.out_h()) * l.out_w() * l.out_c);
        for (int y = 0; y < l.out_h(); y++)
            for (int x = 0; x < l.out_w(); x++)
                for (int o = 0; o < l.out_c; o++) out[(size_t(y) * l.out_w() + x) * l.out_c + o] = reference_output(l, act, y, x, o);
        act = std::move(out);
    }
    double sum = 0;
    for (double v : act) sum += v;
    std::printf("%.6f\n", sum);
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    try {
        const std::vector<Layer> layers = read_layers(LAYERS_CSV);
        const Layer &first = layers.front();
        const std::vector<float> input = values(size_t(first.in_h) * first.in_w * first.in_c, 1, 1.0f);
        if (argc > 1 && !std::strcmp(argv[1], "--reference")) return print_reference(layers, input);

        // This program's kernels join the runtime's registry: the calls below
        // run them (they are the most specific match, and win ties).
        mobilenet_blocks_kernels::register_kernels();

        // The activations in 64-byte aligned memory, as a framework allocates
        // tensors: AVX-512 loads then never straddle two cache lines.
        std::vector<sepconv::AlignedVector<float>> acts(layers.size() + 1);
        acts[0].assign(input.begin(), input.end());
        sepconv::Conv2DOptions options;
        options.padding = sepconv::Padding::same();
        options.activation = sepconv::Activation::relu6();
        // The pointwise filters packed once, as the layer objects do.
        std::vector<sepconv::PackedPointwiseFilter> packed;
        for (const Layer &l : layers) packed.emplace_back(sepconv::ConstTensor(l.pointwise, {1, 1, l.in_c, l.out_c}));
        auto run_stack = [&](bool check_kernels, bool on_packed = false) {
            for (size_t i = 0; i < layers.size(); i++) {
                const Layer &l = layers[i];
                acts[i + 1].resize(size_t(l.out_h()) * l.out_w() * l.out_c);
                options.strides = {l.stride, l.stride};
                const sepconv::ConstTensor in(acts[i], {1, l.in_h, l.in_w, l.in_c});
                const sepconv::ConstTensor dw(l.depthwise, {l.k, l.k, l.in_c, 1});
                const sepconv::ConstTensor bias(l.bias, {l.out_c});
                const sepconv::MutableTensor out(acts[i + 1], {1, l.out_h(), l.out_w(), l.out_c});
                if (on_packed) {
                    sepconv::separable_conv2d(in, dw, packed[i], bias, out, options);
                } else {
                    sepconv::separable_conv2d(in, dw, sepconv::ConstTensor(l.pointwise, {1, 1, l.in_c, l.out_c}), bias,
                                              out, options);
                }
                const std::string expected = std::string("mobilenet_blocks_f32_sepconv_") + (on_packed ? "packed_" : "") +
                                             std::to_string(l.k) + "x" + std::to_string(l.k) + "m1s" +
                                             std::to_string(l.stride) + "_nhwc";
                if (check_kernels && sepconv::last_kernel() != expected) {
                    throw std::runtime_error(l.name + " ran " + sepconv::last_kernel() + ", not " + expected);
                }
            }
        };
        run_stack(true, true);
        const sepconv::AlignedVector<float> on_packed = acts.back();
        run_stack(true);
        bool ok = true;
        {
            // The packed kernels compute the same sums in the same order.
            double worst = 0;
            for (size_t i = 0; i < on_packed.size(); i++) {
                worst = std::max(worst, double(std::abs(on_packed[i] - acts.back()[i])) / (1 + std::abs(acts.back()[i])));
            }
            const bool same = worst <= 1e-6;
            std::printf("packed pointwise filters: max relative difference %.2g from TF's filters: %s\n", worst,
                        same ? "OK" : "FAIL");
            ok &= same;
        }

        // The raw Halide function: Halide's dimension order (innermost first),
        // the pointwise filter as [O, C] with O innermost, the padding before.
        {
            const std::string name = "mobilenet_blocks_f32_sepconv_" + std::to_string(first.k) + "x" +
                                     std::to_string(first.k) + "m1s" + std::to_string(first.stride) + "_nhwc";
            const sepconv::KernelEntry *entry = nullptr;
            for (const auto &e : mobilenet_blocks_kernels::table) {
                if (name == e.info.name) entry = &e;
            }
            if (!entry) throw std::runtime_error("no generated kernel " + name);
            sepconv::AlignedVector<float> out(acts[1].size());
            using Halide::Runtime::Buffer;
            Buffer<const float> in(acts[0].data(), first.in_c, first.in_w, first.in_h, 1);
            Buffer<const float> dw(first.depthwise.data(), 1, first.in_c, first.k, first.k);
            Buffer<const float> pw(first.pointwise.data(), first.out_c, first.in_c);
            Buffer<const float> bias(first.bias.data(), first.out_c);
            Buffer<float> o(out.data(), first.out_c, first.out_w(), first.out_h(), 1);
            const int rc = entry->separable(in, dw, pw, bias, first.stride, first.stride, 1, 1, first.pad_left(),
                                            first.pad_top(), 0.0f, 6.0f, 1.0f, o);
            const bool same = rc == 0 && out == acts[1];
            std::printf("raw Halide call %s: %s\n", name.c_str(), same ? "same output as the runtime call" : "DIFFERENT");
            ok &= same;
        }

        // Sampled outputs of each layer against the definition; the spec's
        // float32 tolerance, 1e-5 * (1 + |ref|) * sqrt(reduction length).
        for (size_t i = 0; i < layers.size(); i++) {
            const Layer &l = layers[i];
            double worst = 0, worst_allowed = 0;
            for (int s = 0; s < 24; s++) {
                // corners and edges first (where padding matters), then spread points
                const int y = s < 4 ? (s & 1) * (l.out_h() - 1) : int(uint64_t(s) * 7919 % l.out_h());
                const int x = s < 4 ? (s >> 1) * (l.out_w() - 1) : int(uint64_t(s) * 104729 % l.out_w());
                const int o = int(uint64_t(s) * 31 % l.out_c);
                const double want = reference_output(l, acts[i], y, x, o);
                const double got = acts[i + 1][(size_t(y) * l.out_w() + x) * l.out_c + o];
                const double allowed = 1e-5 * (1 + std::abs(want)) * std::sqrt(double(l.k * l.k + l.in_c));
                if (std::abs(got - want) > allowed) {
                    std::printf("%s: output (%d, %d, %d) = %.7g, want %.7g\n", l.name.c_str(), y, x, o, got, want);
                    ok = false;
                }
                worst = std::max(worst, std::abs(got - want));
                worst_allowed = std::max(worst_allowed, allowed);
            }
            std::printf("%-4s %3dx%3dx%4d -> %3dx%3dx%4d s%d  kernel checked, 24 sampled outputs: max error %.2g (allowed %.2g)\n",
                        l.name.c_str(), l.in_h, l.in_w, l.in_c, l.out_h(), l.out_w(), l.out_c, l.stride, worst, worst_allowed);
        }

        // The checksum: each output carries float32 rounding of order
        // 2^-24 * sqrt(terms) relative to its magnitude per layer, and each
        // layer passes on its input's error (the weights keep activations of
        // order one); 4x that bound over all layers, on the sum of |outputs|.
        double sum_abs = 0;
        const double checksum = checksum_of(acts.back(), &sum_abs);
        int max_terms = 0;
        for (const Layer &l : layers) max_terms = std::max(max_terms, l.k * l.k + l.in_c);
        const double allowed = 4.0 * layers.size() * std::sqrt(double(max_terms)) * std::ldexp(1.0, -24) * sum_abs;
        const bool checksum_ok = std::abs(checksum - kStoredChecksum) <= allowed;
        std::printf("checksum %.6f, stored %.6f, difference %.3g (allowed %.3g): %s\n", checksum, kStoredChecksum,
                    std::abs(checksum - kStoredChecksum), allowed, checksum_ok ? "OK" : "FAIL");
        ok &= checksum_ok;

        std::vector<double> ms;
        for (int r = 0; r < 20; r++) {
            const auto t0 = std::chrono::steady_clock::now();
            run_stack(false);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        double macs = 0;
        for (const Layer &l : layers) macs += double(l.out_h()) * l.out_w() * l.in_c * (l.k * l.k + l.out_c);
        std::printf("time: %.3f ms for the %zu layers, median of %zu runs (%.1f GFLOP/s, ISA %s)\n", ms[ms.size() / 2],
                    layers.size(), ms.size(), 2 * macs / (ms[ms.size() / 2] * 1e6), sepconv::to_string(sepconv::last_isa()));
        std::printf("%s\n", ok ? "OK" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mobilenet_blocks: %s\n", e.what());
        return 1;
    }
}
