// sepconv::register_kernels: a program's own kernel table joins the
// registry, wins over built-in variants of equal specificity, runs, and bad
// tables are refused with a clear Error.
#include <gtest/gtest.h>

#include <random>

#include "harness.h"
#include "sepconv/kernel_table.h"
#include "sepconv/ops.h"
#include "sepconv_f32_sepconv_3x3m1s1_nhwc.h"  // a built-in variant's Halide function

namespace sepconv {
namespace {

// A "program's" kernel: the built-in 3x3 stride-1 separable function under
// another name, as sepconv_add_kernels' generated header lists its own.
const KernelEntry kTable[] = {
    {{"embed_test_f32_sepconv_3x3m1s1_nhwc", Op::Separable, DataFormat::NHWC, 3, 3, 1, 1}, nullptr, nullptr,
     sepconv_f32_sepconv_3x3m1s1_nhwc},
};

TEST(RegisterKernels, RegisteredKernelRunsForTheCallsItMatches) {
    register_kernels(kTable, 1);
    register_kernels(kTable, 1);  // again: nothing changes
    int listed = 0;
    for (const KernelInfo &k : aot_kernels()) listed += std::string(k.name) == kTable[0].info.name;
    EXPECT_EQ(listed, 1);

    std::mt19937 rng(3);
    const int N = 1, H = 9, W = 10, C = 5, O = 7;
    const auto x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, 9 * C),
               pw = testing::random_floats(rng, C * O), bias = testing::random_floats(rng, O);
    std::vector<float> out(N * H * W * O);
    Conv2DOptions o;
    o.padding = Padding::same();
    separable_conv2d(ConstTensor(x, {N, H, W, C}), ConstTensor(dw, {3, 3, C, 1}), ConstTensor(pw, {1, 1, C, O}),
                     ConstTensor(bias, {O}), MutableTensor(out, {N, H, W, O}), o);
    EXPECT_EQ(last_kernel(), kTable[0].info.name);
    reference::Geometry g;
    g.pad = reference::Pad::Same;
    const auto ref = reference::separable(reference::from_floats(x, {N, H, W, C}), dw, {3, 3, C, 1}, pw, O, bias, g, {});
    testing::expect_close(out, ref, testing::tolerance(ref, 9 + C), "registered kernel");

    // A call it does not match (stride 2) still runs a built-in variant.
    o.strides = {2, 2};
    std::vector<float> out2(N * 5 * 5 * O);
    separable_conv2d(ConstTensor(x, {N, H, W, C}), ConstTensor(dw, {3, 3, C, 1}), ConstTensor(pw, {1, 1, C, O}),
                     ConstTensor(bias, {O}), MutableTensor(out2, {N, 5, 5, O}), o);
    EXPECT_EQ(last_kernel(), "sepconv_f32_sepconv_3x3m1s2_nhwc");
}

TEST(RegisterKernels, RefusesBadTables) {
    const KernelEntry duplicate[] = {
        {{"sepconv_f32_sepconv_3x3m1s1_nhwc", Op::Separable, DataFormat::NHWC, 3, 3, 1, 1}, nullptr, nullptr,
         sepconv_f32_sepconv_3x3m1s1_nhwc},
    };
    EXPECT_THROW(
        {
            try {
                register_kernels(duplicate, 1);
            } catch (const Error &e) {
                EXPECT_NE(std::string(e.what()).find("already registered"), std::string::npos) << e.what();
                throw;
            }
        },
        Error);
    const KernelEntry no_entry[] = {
        {{"embed_test_no_entry", Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 1}, nullptr, nullptr,
         sepconv_f32_sepconv_3x3m1s1_nhwc},
    };
    EXPECT_THROW(register_kernels(no_entry, 1), Error);
}

}  // namespace
}  // namespace sepconv
