// The GPU variants (gpu/) against the float64 reference: the golden vectors
// of shared/spec/semantics.md, and a seeded randomized grid per variant
// (kernels 1..7, strides, dilations, multipliers, SAME / VALID / explicit
// padding, odd sizes, bias on/off (off is a zero-stride buffer), every
// activation, both layouts), plus one multi-block layer per variant so the
// register-tiled paths and the block tails run (and, separable, one with
// many intermediate channels for the narrow fused tile).
//
// Each backend's cases skip, with the Halide runtime's reason, where no
// device of it exists (no CUDA GPU; no OpenCL platform). PoCL gives OpenCL a
// CPU device, so CI runs the OpenCL cases.
//
// SEPCONV_GPU_GRID_CASES sets the grid's size per variant (default 24),
// SEPCONV_GRID_SEED its seed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>

#include "HalideBuffer.h"
#include "gpu_kernels.h"
#include "harness.h"

namespace sepconv::gpu {
namespace {

using Halide::Runtime::Buffer;

int env_int(const char *name, int fallback) {
    const char *v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

// The activations, as the reference and as the kernels' arguments.
struct NamedActivation {
    const char *name;
    reference::Activation reference;
    GpuActivation args;
};

const std::vector<NamedActivation> &activations() {
    constexpr float inf = std::numeric_limits<float>::infinity();
    using reference::Act;
    static const std::vector<NamedActivation> all = {
        {"none", {Act::None}, {-inf, inf, 1.0f}},
        {"relu", {Act::Relu}, {0.0f, inf, 1.0f}},
        {"relu6", {Act::Relu6}, {0.0f, 6.0f, 1.0f}},
        {"relu_n1_to_1", {Act::ReluN1To1}, {-1.0f, 1.0f, 1.0f}},
        {"clamp(-0.5,0.25)", {Act::Clamp, -0.5, 0.25}, {-0.5f, 0.25f, 1.0f}},
        {"leaky_relu(0.2)", {Act::LeakyRelu, 0, 0, 0.2}, {-inf, inf, 0.2f}},
    };
    return all;
}

// One call, described in TF's NHWC terms.
struct Case {
    int n = 1, h = 1, w = 1, c = 1, kh = 1, kw = 1, m = 1, out_c = 1;
    reference::Geometry geometry;  // strides, dilations, padding
    DataFormat format = DataFormat::NHWC;
    bool bias = false;
    NamedActivation act = activations()[0];

    std::string describe() const {
        std::ostringstream s;
        s << "input " << n << "x" << h << "x" << w << "x" << c << " kernel " << kh << "x" << kw << " M=" << m
          << " out_c=" << out_c << " strides " << geometry.stride_h << "," << geometry.stride_w << " dilations "
          << geometry.rate_h << "," << geometry.rate_w << " padding "
          << (geometry.pad == reference::Pad::Same    ? "SAME"
              : geometry.pad == reference::Pad::Valid ? "VALID"
                                                      : "explicit")
          << " [" << geometry.top << "," << geometry.bottom << "," << geometry.left << "," << geometry.right << "] "
          << (format == DataFormat::NCHW ? "NCHW" : "NHWC") << (bias ? " bias " : " no-bias ") << act.name;
        return s.str();
    }
};

// A dense Halide buffer over `data` holding the TF-order (row-major) `shape`.
Buffer<float> view(std::vector<float> &data, std::vector<int> shape) {
    std::vector<halide_dimension_t> dims(shape.size());
    int stride = 1;
    for (size_t i = 0; i < shape.size(); i++) {
        const int extent = shape[shape.size() - 1 - i];
        dims[i] = {0, extent, stride, 0};
        stride *= extent;
    }
    return Buffer<float>(data.data(), static_cast<int>(dims.size()), dims.data());
}

// An input the kernel reads: its host copy is the current one.
Buffer<float> input_view(std::vector<float> &data, std::vector<int> shape) {
    Buffer<float> b = view(data, std::move(shape));
    b.set_host_dirty();
    return b;
}

struct Result {
    std::vector<float> got;  // NHWC
    reference::Tensor want;
    int64_t reduction = 0;
    int error = 0;
    std::string message;
};

// Halide reports errors through one handler; keep the last message.
std::string last_halide_error;
void keep_halide_error(void *, const char *msg) {
    last_halide_error = msg;
}

// Runs case k through kernel `kernel` (its op) and the reference.
Result run_case(const GpuKernel &kernel, const Case &k, std::mt19937 &rng) {
    const Op op = kernel.op;
    auto x = testing::random_floats(rng, static_cast<size_t>(k.n) * k.h * k.w * k.c);
    auto dw = testing::random_floats(rng, static_cast<size_t>(k.kh) * k.kw * k.c * k.m);
    const int mid = op == Op::Pointwise ? k.c : k.c * k.m;
    const int out_c = op == Op::Depthwise ? mid : k.out_c;
    auto pw = testing::random_floats(rng, static_cast<size_t>(mid) * out_c);
    auto bias = k.bias ? testing::random_floats(rng, out_c) : std::vector<float>{0.0f};

    Result r;
    const reference::Tensor rx = reference::from_floats(x, {k.n, k.h, k.w, k.c});
    const std::vector<float> no_bias;
    const std::vector<float> &ref_bias = k.bias ? bias : no_bias;
    switch (op) {
    case Op::Depthwise:
        r.want = reference::depthwise(rx, dw, {k.kh, k.kw, k.c, k.m}, ref_bias, k.geometry, k.act.reference);
        r.reduction = k.kh * k.kw;
        break;
    case Op::Pointwise:
        r.want = reference::pointwise(rx, pw, out_c, ref_bias, k.act.reference);
        r.reduction = k.c;
        break;
    case Op::Separable:
        r.want = reference::separable(rx, dw, {k.kh, k.kw, k.c, k.m}, pw, out_c, ref_bias, k.geometry,
                                      k.act.reference);
        r.reduction = static_cast<int64_t>(k.kh) * k.kw * mid;
        break;
    }
    const auto [N, OH, OW, OC] = r.want.shape;

    const bool nchw = k.format == DataFormat::NCHW;
    auto shape = [&](int a, int b, int c, int d) { return nchw ? std::vector<int>{a, d, b, c} : std::vector<int>{a, b, c, d}; };
    std::vector<float> x_user = nchw ? testing::nhwc_to_nchw(x, k.n, k.h, k.w, k.c) : x;
    std::vector<float> out(static_cast<size_t>(N) * OH * OW * OC, std::nanf(""));
    Buffer<float> in_b = input_view(x_user, shape(k.n, k.h, k.w, k.c));
    Buffer<float> dw_b = input_view(dw, {k.kh, k.kw, k.c, k.m});
    Buffer<float> pw_b = input_view(pw, {mid, out_c});
    // No bias: one zero seen through a zero stride, as the runtime passes it.
    halide_dimension_t zero_stride = {0, out_c, 0, 0};
    Buffer<float> bias_b = k.bias ? input_view(bias, {out_c}) : Buffer<float>(bias.data(), 1, &zero_stride);
    bias_b.set_host_dirty();
    Buffer<float> out_b = view(out, shape(N, OH, OW, OC));

    const auto hw = [&](int in, int kk, int stride, int rate, int before, int after) {
        return reference::window(in, kk, stride, rate, k.geometry.pad, before, after);
    };
    GpuGeometry g;
    g.stride_h = k.geometry.stride_h;
    g.stride_w = k.geometry.stride_w;
    g.dilation_h = k.geometry.rate_h;
    g.dilation_w = k.geometry.rate_w;
    g.pad_top = hw(k.h, k.kh, g.stride_h, g.dilation_h, k.geometry.top, k.geometry.bottom).pad_before;
    g.pad_left = hw(k.w, k.kw, g.stride_w, g.dilation_w, k.geometry.left, k.geometry.right).pad_before;

    last_halide_error.clear();
    halide_error_handler_t previous = halide_set_error_handler(keep_halide_error);
    r.error = kernel.call(in_b.raw_buffer(), dw_b.raw_buffer(), pw_b.raw_buffer(), bias_b.raw_buffer(), g,
                          k.act.args, out_b.raw_buffer());
    if (r.error == 0) r.error = out_b.copy_to_host();
    halide_set_error_handler(previous);
    r.message = last_halide_error;
    r.got = nchw ? testing::nchw_to_nhwc(out, N, OH, OW, OC) : out;
    return r;
}

void expect_matches_reference(const GpuKernel &kernel, const Case &k, std::mt19937 &rng) {
    const Result r = run_case(kernel, k, rng);
    const std::string what = std::string(kernel.name) + " " + k.describe();
    ASSERT_EQ(r.error, 0) << what << ": " << r.message;
    testing::expect_close(r.got, r.want, testing::tolerance(r.want, r.reduction), what);
}

// A random valid case `kernel` can run (its fixed sizes, op and layout).
Case random_case(const GpuKernel &kernel, std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    for (;;) {
        Case k;
        k.format = kernel.data_format;
        k.n = pick(1, 3);
        k.h = pick(1, 13);
        k.w = pick(1, 13);
        k.c = pick(1, 20);
        k.out_c = pick(1, 40);
        k.m = kernel.multiplier ? kernel.multiplier : pick(1, 4);
        if (pick(0, 3) == 0) {  // 1 x k and k x 1
            k.kh = 1;
            k.kw = pick(1, 7);
            if (pick(0, 1)) std::swap(k.kh, k.kw);
        } else {
            k.kh = pick(1, 7);
            k.kw = pick(1, 7);
        }
        if (kernel.kernel_h) k.kh = kernel.kernel_h;
        if (kernel.kernel_w) k.kw = kernel.kernel_w;
        reference::Geometry &g = k.geometry;
        if (kernel.stride) {
            g.stride_h = g.stride_w = kernel.stride;
        } else if (pick(0, 2) == 0) {
            g.rate_h = pick(1, 3);
            g.rate_w = pick(1, 3);
        } else {
            g.stride_h = pick(1, 3);
            g.stride_w = pick(0, 1) ? g.stride_h : pick(1, 3);
        }
        switch (pick(0, 2)) {
        case 0: g.pad = reference::Pad::Same; break;
        case 1: g.pad = reference::Pad::Valid; break;
        default:
            g.pad = reference::Pad::Explicit;
            g.top = pick(0, 3);
            g.bottom = pick(0, 3);
            g.left = pick(0, 3);
            g.right = pick(0, 3);
        }
        if (kernel.op == Op::Pointwise) {
            k.kh = k.kw = k.m = 1;
            g = reference::Geometry{};
        }
        k.bias = pick(0, 1);
        k.act = activations()[pick(0, static_cast<int>(activations().size()) - 1)];
        if (reference::window(k.h, k.kh, g.stride_h, g.rate_h, g.pad, g.top, g.bottom).ok &&
            reference::window(k.w, k.kw, g.stride_w, g.rate_w, g.pad, g.left, g.right).ok) {
            return k;
        }
    }
}

// A layer spanning several blocks in every dimension, with tails: odd sizes
// that are not multiples of any tile.
Case layer_case(const GpuKernel &kernel) {
    Case k;
    k.format = kernel.data_format;
    k.n = 2;
    k.h = 19;
    k.w = 37;
    k.c = 70;
    k.out_c = 83;
    k.kh = kernel.kernel_h ? kernel.kernel_h : 3;
    k.kw = kernel.kernel_w ? kernel.kernel_w : 3;
    k.m = kernel.multiplier ? kernel.multiplier : 2;
    if (kernel.op == Op::Pointwise) k.kh = k.kw = k.m = 1;
    k.geometry.pad = reference::Pad::Same;
    k.geometry.stride_h = k.geometry.stride_w = kernel.stride ? kernel.stride : 1;
    k.bias = true;
    k.act = activations()[2];
    return k;
}

// Separable: 900 intermediate channels, more than the wide fused tile's
// shared memory holds on either backend, so the narrow tile runs.
Case many_channels_case(const GpuKernel &kernel) {
    Case k = layer_case(kernel);
    k.n = 1;
    k.h = 5;
    k.w = 9;
    k.c = 900 / k.m;
    k.out_c = 19;
    return k;
}

std::vector<const GpuKernel *> all_kernels() {
    std::vector<const GpuKernel *> v;
    for (int i = 0; i < kGpuKernelCount; i++) v.push_back(&kGpuKernels[i]);
    return v;
}

class GpuKernelTest : public ::testing::TestWithParam<const GpuKernel *> {
protected:
    void SetUp() override {
        const std::string &reason = device_unavailable(GetParam()->backend);
        if (!reason.empty()) GTEST_SKIP() << reason;
    }
};

TEST_P(GpuKernelTest, RandomGridAndLayerMatchReference) {
    const GpuKernel &kernel = *GetParam();
    std::mt19937 rng(env_int("SEPCONV_GRID_SEED", 20261123) + static_cast<int>(kernel.op));
    const int cases = env_int("SEPCONV_GPU_GRID_CASES", 24);
    for (int i = 0; i < cases && !HasFailure(); i++) expect_matches_reference(kernel, random_case(kernel, rng), rng);
    if (!HasFailure()) expect_matches_reference(kernel, layer_case(kernel), rng);
    if (!HasFailure() && kernel.op == Op::Separable) expect_matches_reference(kernel, many_channels_case(kernel), rng);
}

INSTANTIATE_TEST_SUITE_P(Variants, GpuKernelTest, ::testing::ValuesIn(all_kernels()),
                         [](const auto &info) { return std::string(info.param->name); });

// The golden vectors, through the variant each backend would pick.
class GpuGoldenTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        const std::string &reason = device_unavailable(GetParam());
        if (!reason.empty()) GTEST_SKIP() << reason;
    }

    // Runs depthwise on fixed data; returns the NHWC output.
    std::vector<float> depthwise(std::vector<float> x, std::array<int, 4> x_shape, std::vector<float> f,
                                 std::array<int, 4> f_shape, reference::Geometry g) {
        const GpuKernel *k = select_gpu_kernel(GetParam(), Op::Depthwise, DataFormat::NHWC, f_shape[0], f_shape[1],
                                               f_shape[3], g.stride_h, g.stride_w);
        EXPECT_NE(k, nullptr);
        if (!k) return {};
        const auto wh = reference::window(x_shape[1], f_shape[0], g.stride_h, g.rate_h, g.pad, g.top, g.bottom);
        const auto ww = reference::window(x_shape[2], f_shape[1], g.stride_w, g.rate_w, g.pad, g.left, g.right);
        const int out_c = f_shape[2] * f_shape[3];
        std::vector<float> out(static_cast<size_t>(x_shape[0]) * wh.out * ww.out * out_c, -1.0f);
        float zero = 0.0f;
        halide_dimension_t zero_stride = {0, out_c, 0, 0};
        Buffer<float> in_b = input_view(x, {x_shape[0], x_shape[1], x_shape[2], x_shape[3]});
        Buffer<float> f_b = input_view(f, {f_shape[0], f_shape[1], f_shape[2], f_shape[3]});
        Buffer<float> bias_b(&zero, 1, &zero_stride);
        bias_b.set_host_dirty();
        Buffer<float> out_b = view(out, {x_shape[0], wh.out, ww.out, out_c});
        GpuGeometry gg;
        gg.stride_h = g.stride_h;
        gg.stride_w = g.stride_w;
        gg.pad_top = wh.pad_before;
        gg.pad_left = ww.pad_before;
        EXPECT_EQ(k->call(in_b.raw_buffer(), f_b.raw_buffer(), nullptr, bias_b.raw_buffer(), gg,
                          activations()[0].args, out_b.raw_buffer()),
                  0)
            << k->name;
        EXPECT_EQ(out_b.copy_to_host(), 0);
        return out;
    }
};

TEST_P(GpuGoldenTest, DepthwiseDocExamples) {
    reference::Geometry valid;
    EXPECT_EQ(depthwise(testing::iota_floats(6), {1, 3, 2, 1}, {1, 2, 3, 4}, {2, 1, 1, 2}, valid),
              (std::vector<float>{10, 14, 14, 20, 18, 26, 22, 32}));
    reference::Geometry padded;
    padded.pad = reference::Pad::Explicit;
    padded.top = padded.left = 1;
    EXPECT_EQ(depthwise(testing::iota_floats(6), {1, 3, 2, 1}, {1, 2, 3, 4}, {2, 1, 1, 2}, padded),
              (std::vector<float>{0, 0, 3, 4, 6, 8, 0, 0, 10, 14, 14, 20, 0, 0, 18, 26, 22, 32}));
}

TEST_P(GpuGoldenTest, DepthwiseTwoChannelsMultiplierTwo) {
    EXPECT_EQ(depthwise(testing::iota_floats(12), {1, 2, 3, 2}, testing::iota_floats(16), {2, 2, 2, 2}, {}),
              (std::vector<float>{196, 216, 272, 296, 252, 280, 344, 376}));
}

TEST_P(GpuGoldenTest, DepthwiseSameStride2) {
    reference::Geometry same2;
    same2.pad = reference::Pad::Same;
    same2.stride_h = same2.stride_w = 2;
    EXPECT_EQ(depthwise(testing::iota_floats(16), {1, 4, 4, 1}, std::vector<float>(9, 1.0f), {3, 3, 1, 1}, same2),
              (std::vector<float>{54, 45, 72, 54}));
}

TEST_P(GpuGoldenTest, SeparableSame) {
    const GpuKernel *k = select_gpu_kernel(GetParam(), Op::Separable, DataFormat::NHWC, 2, 2, 3, 1, 1);
    ASSERT_NE(k, nullptr);
    auto x = testing::iota_floats(1 * 4 * 4 * 2, 0.5f), dw = testing::iota_floats(2 * 2 * 2 * 3, 0.5f),
         pw = testing::iota_floats(6 * 7, 0.5f);
    std::vector<float> out(4 * 4 * 7, -1.0f);
    float zero = 0.0f;
    halide_dimension_t zero_stride = {0, 7, 0, 0};
    Buffer<float> x_b = input_view(x, {1, 4, 4, 2}), dw_b = input_view(dw, {2, 2, 2, 3}),
                  pw_b = input_view(pw, {6, 7}), bias_b(&zero, 1, &zero_stride), out_b = view(out, {1, 4, 4, 7});
    bias_b.set_host_dirty();
    GpuGeometry g;  // SAME, 2x2 kernel, stride 1: the padding row / column goes after
    ASSERT_EQ(k->call(x_b.raw_buffer(), dw_b.raw_buffer(), pw_b.raw_buffer(), bias_b.raw_buffer(), g,
                      activations()[0].args, out_b.raw_buffer()),
              0);
    ASSERT_EQ(out_b.copy_to_host(), 0);
    const std::vector<float> first = {6644.5, 6971.5, 7298.5, 7625.5, 7952.5, 8279.5, 8606.5, 8154.5, 8556.5};
    const std::vector<float> last = {2036.25, 2119.5, 2202.75, 2286, 2369.25, 2452.5, 2535.75};
    EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 9), first);
    EXPECT_EQ(std::vector<float>(out.end() - 7, out.end()), last);
}

// More intermediate channels than the fused kernel's shared memory holds:
// an error that says so, not a failed launch.
TEST_P(GpuGoldenTest, SeparableTooManyChannelsIsAReadableError) {
    const GpuKernel *k = select_gpu_kernel(GetParam(), Op::Separable, DataFormat::NHWC, 1, 1, 1, 1, 1);
    ASSERT_NE(k, nullptr);
    Case big;
    big.c = 64 * 1024 / 4;  // 64 KiB for one pixel: more than any backend's budget
    std::mt19937 rng(1);
    const Result r = run_case(*k, big, rng);
    EXPECT_NE(r.error, 0);
    EXPECT_NE(r.message.find("channels * multiplier must be at most"), std::string::npos) << r.message;
}

std::vector<Backend> all_backends() {
    return {Backend::OpenCL, Backend::CUDA};
}

INSTANTIATE_TEST_SUITE_P(Backends, GpuGoldenTest, ::testing::ValuesIn(all_backends()),
                         [](const auto &info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace sepconv::gpu
