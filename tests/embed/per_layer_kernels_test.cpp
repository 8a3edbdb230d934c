// Depthwise and separable kernels generated for a program's layers, one per
// input channel count (sepconv_add_kernels ... CHANNELS,
// per_layer_layers.csv): they run the calls with that channel count whose
// input and output columns are dense, and give the reference's results;
// other calls run the class's kernel.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "harness.h"
#include "per_layer_kernels_test_kernels.h"
#include "sepconv/ops.h"

namespace sepconv {
namespace {

class PerLayerKernels : public ::testing::Test {
protected:
    static void SetUpTestSuite() { per_layer_kernels_test_kernels::register_kernels(); }
};

// The pointwise filter of a separable case: none (a depthwise), TF's, or
// packed (sepconv::PackedPointwiseFilter).
enum class Pointwise { None, TF, Packed };

struct Case {
    int n, h, w, c, m, stride, rate;
    Padding padding;
    Activation activation;
    int64_t input_column_stride = 0, output_column_stride = 0;  // 0: dense
    Pointwise pointwise = Pointwise::None;
    int out_c = 0;  // the separable's output channels
};

Case separable(Case k, Pointwise pointwise, int out_c) {
    k.pointwise = pointwise;
    k.out_c = out_c;
    return k;
}

// Runs `k` through sepconv::depthwise_conv2d (or separable_conv2d), checks it
// against the float64 reference, and returns the kernel that ran.
std::string run(const Case &k, std::mt19937 &rng) {
    const int mc = k.c * k.m;
    const bool is_separable = k.pointwise != Pointwise::None;
    const int oc = is_separable ? k.out_c : mc;
    const reference::Pad pad = k.padding.kind == Padding::Kind::Same ? reference::Pad::Same : reference::Pad::Valid;
    const reference::Window wy = reference::window(k.h, 3, k.stride, k.rate, pad, 0, 0),
                            wx = reference::window(k.w, 3, k.stride, k.rate, pad, 0, 0);
    const int64_t in_cs = k.input_column_stride ? k.input_column_stride : k.c,
                  out_cs = k.output_column_stride ? k.output_column_stride : oc;
    // Strided tensors: the pixels' channels, then unused elements.
    std::vector<float> x = testing::random_floats(rng, size_t(k.n) * k.h * k.w * in_cs);
    const auto filter = testing::random_floats(rng, 9 * mc), bias = testing::random_floats(rng, oc);
    const auto weights = testing::random_floats(rng, is_separable ? size_t(mc) * oc : 0);
    std::vector<float> out(size_t(k.n) * wy.out * wx.out * out_cs, 0.0f);
    ConstTensor in(x, {k.n, k.h, k.w, k.c});
    in.strides = {k.h * k.w * in_cs, k.w * in_cs, in_cs, 1};
    MutableTensor output(out, {k.n, wy.out, wx.out, oc});
    output.strides = {int64_t(wy.out) * wx.out * out_cs, wx.out * out_cs, out_cs, 1};
    Conv2DOptions o;
    o.strides = {k.stride, k.stride};
    o.dilations = {k.rate, k.rate};
    o.padding = k.padding;
    o.activation = k.activation;
    const ConstTensor dw(filter, {3, 3, k.c, k.m}), pw(weights, {1, 1, mc, oc}), b(bias, {oc});
    if (k.pointwise == Pointwise::None) {
        depthwise_conv2d(in, dw, b, output, o);
    } else if (k.pointwise == Pointwise::TF) {
        separable_conv2d(in, dw, pw, b, output, o);
    } else {
        separable_conv2d(in, dw, PackedPointwiseFilter(pw), b, output, o);
    }
    const std::string ran = last_kernel();

    std::vector<float> dense_x, dense_out;
    for (int64_t p = 0; p < int64_t(k.n) * k.h * k.w; p++)
        dense_x.insert(dense_x.end(), x.begin() + p * in_cs, x.begin() + p * in_cs + k.c);
    for (int64_t p = 0; p < int64_t(k.n) * wy.out * wx.out; p++)
        dense_out.insert(dense_out.end(), out.begin() + p * out_cs, out.begin() + p * out_cs + oc);
    reference::Geometry g;
    g.stride_h = g.stride_w = k.stride;
    g.rate_h = g.rate_w = k.rate;
    g.pad = pad;
    reference::Activation act;
    if (k.activation.min == 0.0f && k.activation.max == 6.0f) act = {reference::Act::Relu6};
    const reference::Tensor input = reference::from_floats(dense_x, {k.n, k.h, k.w, k.c});
    const auto ref = is_separable
                         ? reference::separable(input, filter, {3, 3, k.c, k.m}, weights, oc, bias, g, act)
                         : reference::depthwise(input, filter, {3, 3, k.c, k.m}, bias, g, act);
    testing::expect_close(dense_out, ref, testing::tolerance(ref, is_separable ? 9 * mc : 9), ran);
    return ran;
}

TEST_F(PerLayerKernels, LayersChannelCountRunsItsKernel) {
    std::mt19937 rng(11);
    // The layers of per_layer_layers.csv, and other geometries of the same
    // channel counts (the kernel fixes the channels, not the image).
    EXPECT_EQ(run({1, 9, 10, 6, 2, 1, 1, Padding::same(), Activation::none()}, rng),
              "per_layer_kernels_test_f32_dwconv_3x3m2s1c6_nhwc");
    EXPECT_EQ(run({2, 13, 5, 6, 2, 1, 2, Padding::valid(), Activation::relu6()}, rng),
              "per_layer_kernels_test_f32_dwconv_3x3m2s1c6_nhwc");
    EXPECT_EQ(run({1, 15, 14, 32, 1, 2, 1, Padding::same(), Activation::relu6()}, rng),
              "per_layer_kernels_test_f32_dwconv_3x3m1s2c32_nhwc");
    EXPECT_EQ(run({3, 30, 31, 32, 1, 2, 1, Padding::valid(), Activation::none()}, rng),
              "per_layer_kernels_test_f32_dwconv_3x3m1s2c32_nhwc");
}

TEST_F(PerLayerKernels, OtherCallsRunTheClassKernel) {
    std::mt19937 rng(12);
    // Another channel count.
    EXPECT_EQ(run({1, 15, 14, 48, 1, 2, 1, Padding::same(), Activation::none()}, rng),
              "per_layer_kernels_test_f32_dwconv_3x3m1s2_nhwc");
    // The layer's channel count in strided columns: the input's, the output's.
    Case strided_input{1, 15, 14, 32, 1, 2, 1, Padding::same(), Activation::none()};
    strided_input.input_column_stride = 40;
    EXPECT_EQ(run(strided_input, rng), "per_layer_kernels_test_f32_dwconv_3x3m1s2_nhwc");
    Case strided_output{1, 9, 10, 6, 2, 1, 1, Padding::same(), Activation::none()};
    strided_output.output_column_stride = 13;
    EXPECT_EQ(run(strided_output, rng), "per_layer_kernels_test_f32_dwconv_3x3m2s1_nhwc");
    // The layer's channel count with another multiplier: a built-in kernel
    // (the program generated none for that class).
    EXPECT_EQ(run({1, 9, 10, 6, 1, 1, 1, Padding::same(), Activation::none()}, rng),
              "sepconv_f32_dwconv_3x3m1s1_nhwc");
}

TEST_F(PerLayerKernels, SeparableLayersChannelCountRunsItsKernel) {
    std::mt19937 rng(13);
    // Each pointwise filter's kernel: TF's (any output channel count), packed
    // (whole blocks of 16).
    const Case narrow{1, 9, 10, 6, 2, 1, 1, Padding::same(), Activation::none()};
    const Case mobilenet{1, 15, 14, 32, 1, 2, 1, Padding::same(), Activation::relu6()};
    EXPECT_EQ(run(separable(narrow, Pointwise::TF, 5), rng), "per_layer_kernels_test_f32_sepconv_3x3m2s1c6_nhwc");
    EXPECT_EQ(run(separable({2, 13, 5, 6, 2, 1, 2, Padding::valid(), Activation::relu6()}, Pointwise::TF, 20), rng),
              "per_layer_kernels_test_f32_sepconv_3x3m2s1c6_nhwc");
    EXPECT_EQ(run(separable(narrow, Pointwise::Packed, 16), rng),
              "per_layer_kernels_test_f32_sepconv_packed_3x3m2s1c6_nhwc");
    EXPECT_EQ(run(separable(mobilenet, Pointwise::Packed, 64), rng),
              "per_layer_kernels_test_f32_sepconv_packed_3x3m1s2c32_nhwc");
    EXPECT_EQ(run(separable({3, 30, 31, 32, 1, 2, 1, Padding::valid(), Activation::none()}, Pointwise::TF, 24), rng),
              "per_layer_kernels_test_f32_sepconv_3x3m1s2c32_nhwc");
}

TEST_F(PerLayerKernels, OtherSeparableCallsRunTheClassKernel) {
    std::mt19937 rng(14);
    EXPECT_EQ(run(separable({1, 15, 14, 48, 1, 2, 1, Padding::same(), Activation::none()}, Pointwise::TF, 8), rng),
              "per_layer_kernels_test_f32_sepconv_3x3m1s2_nhwc");
    Case strided_input = separable({1, 15, 14, 32, 1, 2, 1, Padding::same(), Activation::none()}, Pointwise::Packed, 32);
    strided_input.input_column_stride = 33;
    EXPECT_EQ(run(strided_input, rng), "per_layer_kernels_test_f32_sepconv_packed_3x3m1s2_nhwc");
    Case strided_output = separable({1, 9, 10, 6, 2, 1, 1, Padding::same(), Activation::none()}, Pointwise::TF, 7);
    strided_output.output_column_stride = 9;
    EXPECT_EQ(run(strided_output, rng), "per_layer_kernels_test_f32_sepconv_3x3m2s1_nhwc");
}

TEST_F(PerLayerKernels, ForcedOnAnotherChannelCountIsAnError) {
    setenv("SEPCONV_FORCE_KERNEL", "per_layer_kernels_test_f32_dwconv_3x3m1s2c32_nhwc", 1);
    KernelRequest request{Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 2, 2};
    request.channels = 48;
    request.dense_columns = true;
    try {
        select_kernel(request);
        ADD_FAILURE() << "forcing a 32-channel kernel on a 48-channel call did not throw";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("48 channels in dense columns"), std::string::npos) << e.what();
    }
    request.channels = 32;
    EXPECT_STREQ(select_kernel(request).name, "per_layer_kernels_test_f32_dwconv_3x3m1s2c32_nhwc");
    unsetenv("SEPCONV_FORCE_KERNEL");
}

}  // namespace
}  // namespace sepconv
