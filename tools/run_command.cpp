// `sepconv run`: one operation on one shape through the runtime, checked
// against the float64 reference, with the kernel that ran, its ISA level,
// the max error and the time. The everyday debugging command.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "command.h"
#include "reference.h"
#include "sepconv/aligned.h"
#include "sepconv/cpu.h"
#include "sepconv/jit.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace sepconv::tools {
namespace {

const char *const kUsage = R"(usage: sepconv run [options]

Runs one operation on random input (fixed seed) through the sepconv runtime,
compares it with the float64 reference and prints the kernel that ran, the
max error and the median time. Exit status 1 when the error exceeds the
spec's tolerance.

  --op OP              depthwise, pointwise or separable (default)
  --input NxHxWxC      input size, in this order whatever the layout (default 1x56x56x32)
  --kernel KHxKW       depthwise kernel (default 3x3)
  --strides S|SH,SW    (default 1)
  --padding P          same (default), valid, or explicit T,B,L,R
  --dilation R|RH,RW   (default 1)
  --multiplier M       depth multiplier (default 1)
  --filters O          pointwise output channels (default C*M)
  --layout L           nhwc (default) or nchw
  --activation A       none (default), relu, relu6, relu_n1_to_1
  --no-bias            no bias
  --packed-weights     pointwise and separable: the pointwise filter as a
                       PackedPointwiseFilter, packed once before the timed runs
  --threads T          Halide thread-pool size (default: Halide's, all cores)
  --repeat R           timed runs after one warm-up (default 10)
  --jit                enable the JIT (policy from SEPCONV_JIT, default fallback)
  --seed S             random seed (default 1)
  --misalign F         the input and output start F floats (0-15) past a
                       64-byte boundary (default 0: aligned, as AlignedVector,
                       TF and PyTorch allocate); shows what unaligned data costs
)";

int usage_error(const std::string &message) {
    std::fprintf(stderr, "sepconv run: %s\n\n%s", message.c_str(), kUsage);
    return 2;
}

// "a<sep>b<sep>..." as positive integers; false on anything else.
bool parse_ints(const std::string &text, char sep, std::vector<int64_t> *out, bool allow_zero = false) {
    out->clear();
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(sep, start);
        if (end == std::string::npos) end = text.size();
        const std::string part = text.substr(start, end - start);
        char *stop = nullptr;
        const long long v = std::strtoll(part.c_str(), &stop, 10);
        if (part.empty() || *stop || v < (allow_zero ? 0 : 1)) return false;
        out->push_back(v);
        start = end + 1;
    }
    return true;
}

// A copy of `v` in 64-byte aligned memory (sepconv/aligned.h), starting
// `misalign` floats past the boundary.
struct Placed {
    AlignedVector<float> memory;
    size_t offset = 0;

    Placed(const std::vector<float> &v, size_t misalign) : memory(v.size() + misalign), offset(misalign) {
        std::copy(v.begin(), v.end(), data());
    }
    float *data() { return memory.data() + offset; }
    const float *data() const { return memory.data() + offset; }
    size_t size() const { return memory.size() - offset; }
};

// One or two positive integers as an (h, w) pair.
bool parse_pair(const std::string &text, std::array<int64_t, 2> *out) {
    std::vector<int64_t> v;
    if (!parse_ints(text, ',', &v) || v.size() > 2) return false;
    *out = {v[0], v.back()};
    return true;
}

reference::Activation reference_activation(const std::string &name) {
    if (name == "relu") return {reference::Act::Relu};
    if (name == "relu6") return {reference::Act::Relu6};
    if (name == "relu_n1_to_1") return {reference::Act::ReluN1To1};
    return {reference::Act::None};
}

// Dense [n, h, w, c] data to [n, c, h, w] (to_nchw) or back.
std::vector<float> transpose(const std::vector<float> &v, int64_t n, int64_t h, int64_t w, int64_t c, bool to_nchw) {
    std::vector<float> out(v.size());
    for (int64_t b = 0; b < n; b++)
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++)
                for (int64_t k = 0; k < c; k++) {
                    const size_t nhwc = ((b * h + i) * w + j) * c + k, nchw = ((b * c + k) * h + i) * w + j;
                    if (to_nchw) out[nchw] = v[nhwc];
                    else out[nhwc] = v[nchw];
                }
    return out;
}

int run(int argc, char **argv) {
    std::string op_name = "separable", layout = "nhwc", activation = "none", padding = "same";
    std::vector<int64_t> input_shape = {1, 56, 56, 32}, kernel = {3, 3};
    std::array<int64_t, 2> strides{1, 1}, dilations{1, 1};
    int64_t multiplier = 1, filters = 0;
    int threads = 0, repeat = 10;
    size_t misalign = 0;
    unsigned seed = 1;
    bool bias_on = true, jit = false, packed = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a == "--no-bias") {
            bias_on = false;
            continue;
        }
        if (a == "--jit") {
            jit = true;
            continue;
        }
        if (a == "--packed-weights") {
            packed = true;
            continue;
        }
        if (i + 1 >= argc) return usage_error("'" + a + "' needs a value or is unknown");
        const std::string v = argv[++i];
        std::vector<int64_t> ints;
        if (a == "--op") op_name = v;
        else if (a == "--layout") layout = v;
        else if (a == "--activation") activation = v;
        else if (a == "--padding") padding = v;
        else if (a == "--input") {
            if (!parse_ints(v, 'x', &input_shape) || input_shape.size() != 4) return usage_error("--input must be NxHxWxC, got '" + v + "'");
        } else if (a == "--kernel") {
            if (!parse_ints(v, 'x', &kernel) || kernel.size() != 2) return usage_error("--kernel must be KHxKW, got '" + v + "'");
        } else if (a == "--strides") {
            if (!parse_pair(v, &strides)) return usage_error("--strides must be S or SH,SW, got '" + v + "'");
        } else if (a == "--dilation") {
            if (!parse_pair(v, &dilations)) return usage_error("--dilation must be R or RH,RW, got '" + v + "'");
        } else if (a == "--misalign") {
            if (!parse_ints(v, ',', &ints, true) || ints.size() != 1 || ints[0] > 15) {
                return usage_error("--misalign must be 0 to 15 floats, got '" + v + "'");
            }
            misalign = static_cast<size_t>(ints[0]);
        } else if (a == "--multiplier" || a == "--filters" || a == "--threads" || a == "--repeat" || a == "--seed") {
            if (!parse_ints(v, ',', &ints) || ints.size() != 1) return usage_error(a + " must be a positive integer, got '" + v + "'");
            if (a == "--multiplier") multiplier = ints[0];
            else if (a == "--filters") filters = ints[0];
            else if (a == "--threads") threads = static_cast<int>(ints[0]);
            else if (a == "--repeat") repeat = static_cast<int>(ints[0]);
            else seed = static_cast<unsigned>(ints[0]);
        } else {
            return usage_error("unknown option '" + a + "'");
        }
    }

    try {
        Op op;
        if (op_name == "depthwise") op = Op::Depthwise;
        else if (op_name == "pointwise") op = Op::Pointwise;
        else if (op_name == "separable") op = Op::Separable;
        else return usage_error("--op must be depthwise, pointwise or separable, got '" + op_name + "'");
        if (activation != "none" && activation != "relu" && activation != "relu6" && activation != "relu_n1_to_1") {
            return usage_error("--activation must be none, relu, relu6 or relu_n1_to_1, got '" + activation + "'");
        }
        const int64_t N = input_shape[0], H = input_shape[1], W = input_shape[2], C = input_shape[3];
        if (packed && op == Op::Depthwise) return usage_error("--packed-weights is for --op pointwise and separable");
        if (op == Op::Pointwise) kernel = {1, 1}, multiplier = 1;
        if (!filters) filters = C * multiplier;

        Conv2DOptions options;
        options.data_format = parse_data_format(layout);
        options.strides = strides;
        options.dilations = dilations;
        options.activation = Activation::parse(activation);
        reference::Geometry g;
        g.stride_h = static_cast<int>(strides[0]), g.stride_w = static_cast<int>(strides[1]);
        g.rate_h = static_cast<int>(dilations[0]), g.rate_w = static_cast<int>(dilations[1]);
        std::vector<int64_t> amounts;
        if (parse_ints(padding, ',', &amounts, true) && amounts.size() == 4) {
            options.padding = Padding::explicit_amounts(amounts[0], amounts[1], amounts[2], amounts[3]);
            g.pad = reference::Pad::Explicit;
            g.top = static_cast<int>(amounts[0]), g.bottom = static_cast<int>(amounts[1]);
            g.left = static_cast<int>(amounts[2]), g.right = static_cast<int>(amounts[3]);
        } else {
            options.padding = Padding::parse(padding);
            g.pad = options.padding.kind == Padding::Kind::Same ? reference::Pad::Same : reference::Pad::Valid;
        }
        const bool nchw = options.data_format == DataFormat::NCHW;

        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        auto random = [&](int64_t n) {
            std::vector<float> v(static_cast<size_t>(n));
            for (float &x : v) x = dist(rng);
            return v;
        };
        const std::vector<float> input_nhwc = random(N * H * W * C);
        const std::vector<float> dw = random(kernel[0] * kernel[1] * C * multiplier);
        const std::vector<float> pw = random(C * multiplier * filters);
        const int64_t out_c = op == Op::Depthwise ? C * multiplier : filters;
        const std::vector<float> bias = bias_on ? random(out_c) : std::vector<float>{};
        const std::vector<float> input = nchw ? transpose(input_nhwc, N, H, W, C, true) : input_nhwc;
        const std::vector<int64_t> in_shape = nchw ? std::vector<int64_t>{N, C, H, W} : input_shape;
        const std::vector<int64_t> dw_shape = {kernel[0], kernel[1], C, multiplier};
        const std::vector<int64_t> pw_shape = {1, 1, C * multiplier, filters};

        const std::vector<int64_t> out_shape = infer_output_shape(op, in_shape, dw_shape, pw_shape, options);
        const int64_t OH = nchw ? out_shape[2] : out_shape[1], OW = nchw ? out_shape[3] : out_shape[2];
        // What the kernels read and write: aligned copies (--misalign).
        const Placed in_memory(input, misalign), dw_memory(dw, 0), pw_memory(pw, 0), bias_memory(bias, 0);
        Placed out_memory(std::vector<float>(static_cast<size_t>(N * OH * OW * out_c)), misalign);
        const ConstTensor in(in_memory, in_shape), dw_filter(dw_memory, dw_shape), pw_filter(pw_memory, pw_shape);
        const std::optional<ConstTensor> b =
            bias_on ? std::optional<ConstTensor>(ConstTensor(bias_memory, {out_c})) : std::nullopt;
        const MutableTensor out(out_memory, out_shape);
        const std::optional<PackedPointwiseFilter> packed_pw =
            packed ? std::optional<PackedPointwiseFilter>(pw_filter) : std::nullopt;
        auto call = [&] {
            if (op == Op::Depthwise) depthwise_conv2d(in, dw_filter, b, out, options);
            else if (op == Op::Pointwise && packed_pw) pointwise_conv2d(in, *packed_pw, b, out, options);
            else if (op == Op::Pointwise) pointwise_conv2d(in, pw_filter, b, out, options);
            else if (packed_pw) separable_conv2d(in, dw_filter, *packed_pw, b, out, options);
            else separable_conv2d(in, dw_filter, pw_filter, b, out, options);
        };

        if (threads) sepconv::set_num_threads(threads);
        if (jit) sepconv::jit::enable();
        KernelRequest request{op, options.data_format, kernel[0], kernel[1], multiplier, strides[0], strides[1]};
        request.packed_weights = packed_pw && packed_pw->packed();
        request.channels = C;
        request.dense_columns = !nchw;  // the tensors here are dense
        std::string why;
        select_kernel(request, &why);
        call();  // warm-up: the thread pool, and the JIT's compile when enabled
        const std::string ran = last_kernel();
        if (ran.rfind("sepconv_jit", 0) == 0) why = "JIT-compiled for this call";
        std::vector<double> ms;
        for (int r = 0; r < repeat; r++) {
            const auto t0 = std::chrono::steady_clock::now();
            call();
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];

        const reference::Tensor ref_in = reference::from_floats(input_nhwc, {int(N), int(H), int(W), int(C)});
        const reference::Activation act = reference_activation(activation);
        const std::array<int, 4> ref_dw_shape = {int(kernel[0]), int(kernel[1]), int(C), int(multiplier)};
        const reference::Tensor ref =
            op == Op::Depthwise   ? reference::depthwise(ref_in, dw, ref_dw_shape, bias, g, act)
            : op == Op::Pointwise ? reference::pointwise(ref_in, pw, int(filters), bias, act)
                                  : reference::separable(ref_in, dw, ref_dw_shape, pw, int(filters), bias, g, act);
        const std::vector<float> output(out_memory.data(), out_memory.data() + out_memory.size());
        const std::vector<float> got = nchw ? transpose(output, N, OH, OW, out_c, false) : output;
        double max_error = 0, max_ref = 0;
        for (size_t i = 0; i < got.size(); i++) {
            max_error = std::max(max_error, std::abs(double(got[i]) - ref.data[i]));
            max_ref = std::max(max_ref, std::abs(ref.data[i]));
        }
        // The spec's tolerance: 1e-5 * (1 + max |ref|) * sqrt(reduction length).
        const int64_t taps = op == Op::Depthwise ? kernel[0] * kernel[1]
                             : op == Op::Pointwise ? C
                                                   : kernel[0] * kernel[1] + C * multiplier;
        const double tolerance = 1e-5 * (1 + max_ref) * std::sqrt(double(taps));
        const double macs = double(N) * OH * OW *
                            (op == Op::Pointwise ? C * filters
                             : op == Op::Depthwise ? C * multiplier * kernel[0] * kernel[1]
                                                   : C * multiplier * (kernel[0] * kernel[1] + filters));

        std::printf("op:        %s %lldx%lldx%lldx%lld %s, kernel %lldx%lld, strides %lldx%lld, dilation %lldx%lld, "
                    "padding %s, multiplier %lld, filters %lld, %s\n",
                    op_name.c_str(), (long long)N, (long long)H, (long long)W, (long long)C, to_string(options.data_format),
                    (long long)kernel[0], (long long)kernel[1], (long long)strides[0], (long long)strides[1],
                    (long long)dilations[0], (long long)dilations[1], padding.c_str(), (long long)multiplier,
                    (long long)filters, activation.c_str());
        std::printf("kernel:    %s (%s): %s\n", ran.c_str(), to_string(last_isa()), why.c_str());
        std::printf("output:    %lldx%lldx%lldx%lld\n", (long long)out_shape[0], (long long)out_shape[1],
                    (long long)out_shape[2], (long long)out_shape[3]);
        std::printf("memory:    input and output %zu bytes past a 64-byte boundary%s\n", misalign * sizeof(float),
                    misalign ? " (--misalign)" : "");
        std::printf("max error: %.3g vs the float64 reference (tolerance %.3g): %s\n", max_error, tolerance,
                    max_error <= tolerance ? "OK" : "FAIL");
        std::printf("time:      %.4f ms median of %d runs, %.2f GFLOP/s\n", median, repeat,
                    2 * macs / (median * 1e6));
        return max_error <= tolerance ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sepconv run: %s\n", e.what());
        return 1;
    }
}

const RegisterCommand registered{{"run", "run one op on one shape, check it against the reference, time it", &run}};

}  // namespace
}  // namespace sepconv::tools
