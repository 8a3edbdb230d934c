// The kernel registry: every AOT variant can be forced and gives the
// reference's answer; selection picks the most specific; each ISA level of
// the multi-target libraries runs and is reported.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "harness.h"
#include "sepconv/cpu.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace sepconv {
namespace {

// A call each variant can run: its fixed sizes, or odd ones where it is generic.
struct VariantCall {
    int kh, kw, m, stride;
};
VariantCall call_for(const KernelInfo &k) {
    return {k.kernel_h ? k.kernel_h : 2, k.kernel_w ? k.kernel_w : 3, k.multiplier ? k.multiplier : 2,
            k.stride ? k.stride : 1};
}

// Runs `k`'s operation on a small random problem fitted to `k` and compares
// with the reference; returns the name of the kernel that ran.
std::string run_and_check(const KernelInfo &k, std::mt19937 &rng) {
    const VariantCall v = call_for(k);
    // Packed pointwise filters are whole blocks of 16 output channels (else they stay in TF's layout).
    const int N = 2, H = 9, W = 11, C = 19, O = k.packed_weights ? 32 : 21;
    Conv2DOptions o;
    o.strides = {v.stride, v.stride};
    o.padding = Padding::same();
    o.data_format = k.data_format;
    o.activation = Activation::relu6();
    const bool nchw = k.data_format == DataFormat::NCHW;
    const int m = k.op == Op::Pointwise ? 1 : v.m, mid = C * m, out_c = k.op == Op::Depthwise ? mid : O;
    const auto x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, v.kh * v.kw * C * m),
               pw = testing::random_floats(rng, mid * out_c), bias = testing::random_floats(rng, out_c);
    reference::Geometry g = testing::reference_geometry(o);
    const auto rx = reference::from_floats(x, {N, H, W, C});
    const reference::Activation relu6{reference::Act::Relu6};
    reference::Tensor ref = k.op == Op::Depthwise ? reference::depthwise(rx, dw, {v.kh, v.kw, C, m}, bias, g, relu6)
                            : k.op == Op::Pointwise
                                ? reference::pointwise(rx, pw, out_c, bias, relu6)
                                : reference::separable(rx, dw, {v.kh, v.kw, C, m}, pw, out_c, bias, g, relu6);
    const auto [RN, OH, OW, OC] = ref.shape;
    auto shape = [&](int64_t a, int64_t b, int64_t c, int64_t d) {
        return nchw ? std::vector<int64_t>{a, d, b, c} : std::vector<int64_t>{a, b, c, d};
    };
    const auto x_user = nchw ? testing::nhwc_to_nchw(x, N, H, W, C) : x;
    std::vector<float> out(ref.data.size());
    const MutableTensor out_view(out, shape(RN, OH, OW, OC));
    const ConstTensor in(x_user, shape(N, H, W, C)), b(bias, {out_c});
    switch (k.op) {
    case Op::Depthwise: depthwise_conv2d(in, ConstTensor(dw, {v.kh, v.kw, C, m}), b, out_view, o); break;
    case Op::Pointwise:
        testing::pointwise_conv2d_with(k.packed_weights, in, ConstTensor(pw, {1, 1, C, out_c}), b, out_view, o);
        break;
    case Op::Separable:
        testing::separable_conv2d_with(k.packed_weights, in, ConstTensor(dw, {v.kh, v.kw, C, m}),
                                       ConstTensor(pw, {1, 1, mid, out_c}), b, out_view, o);
        break;
    }
    const auto got = nchw ? testing::nchw_to_nhwc(out, RN, OH, OW, OC) : out;
    testing::expect_close(got, ref, testing::tolerance(ref, v.kh * v.kw * mid), k.name);
    return last_kernel();
}

class ForcedVariant : public ::testing::TestWithParam<std::string> {};

TEST_P(ForcedVariant, RunsAndMatchesReference) {
    const KernelInfo *k = nullptr;
    for (const KernelInfo &info : aot_kernels())
        if (GetParam() == info.name) k = &info;
    ASSERT_NE(k, nullptr);
    setenv("SEPCONV_FORCE_KERNEL", k->name, 1);
    std::mt19937 rng(7);
    EXPECT_EQ(run_and_check(*k, rng), k->name);
    unsetenv("SEPCONV_FORCE_KERNEL");
}

std::vector<std::string> kernel_names() {
    std::vector<std::string> names;
    for (const KernelInfo &k : aot_kernels()) names.push_back(k.name);
    return names;
}

INSTANTIATE_TEST_SUITE_P(EveryAotKernel, ForcedVariant, ::testing::ValuesIn(kernel_names()),
                         [](const auto &info) { return info.param; });

TEST(Registry, PicksMostSpecificVariant) {
    std::string why;
    EXPECT_STREQ(select_kernel({Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 1, 1}, &why).name,
                 "sepconv_f32_dwconv_3x3m1s1_nhwc");
    EXPECT_NE(why.find("most specific"), std::string::npos) << why;
    EXPECT_STREQ(select_kernel({Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 2, 2}).name,
                 "sepconv_f32_dwconv_3x3m1s2_nhwc");
    // Unequal strides and a multiplier of 2 fall back to the generic variant.
    EXPECT_STREQ(select_kernel({Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 2, 1}).name,
                 "sepconv_f32_dwconv_generic_nhwc");
    EXPECT_STREQ(select_kernel({Op::Depthwise, DataFormat::NHWC, 3, 3, 2, 1, 1}, &why).name,
                 "sepconv_f32_dwconv_generic_nhwc");
    EXPECT_NE(why.find("generic"), std::string::npos) << why;
    EXPECT_STREQ(select_kernel({Op::Separable, DataFormat::NHWC, 5, 5, 1, 2, 2}).name,
                 "sepconv_f32_sepconv_5x5m1_nhwc");
    EXPECT_STREQ(select_kernel({Op::Separable, DataFormat::NCHW, 3, 3, 1, 1, 1}).name,
                 "sepconv_f32_sepconv_generic_nchw");
}

TEST(Registry, PackedPointwiseFiltersRunThePackedVariants) {  // of the 1x1 and the separable
    KernelRequest packed{Op::Pointwise, DataFormat::NHWC};
    packed.packed_weights = true;
    EXPECT_STREQ(select_kernel(packed).name, "sepconv_f32_pwconv_packed_nhwc");
    packed.data_format = DataFormat::NCHW;
    EXPECT_STREQ(select_kernel(packed).name, "sepconv_f32_pwconv_packed_nchw");
    EXPECT_STREQ(select_kernel({Op::Pointwise, DataFormat::NHWC}).name, "sepconv_f32_pwconv_nhwc");
    KernelRequest separable{Op::Separable, DataFormat::NHWC, 3, 3, 1, 2, 2};
    separable.packed_weights = true;
    EXPECT_STREQ(select_kernel(separable).name, "sepconv_f32_sepconv_packed_3x3m1s2_nhwc");
    separable.multiplier = 2;
    EXPECT_STREQ(select_kernel(separable).name, "sepconv_f32_sepconv_packed_generic_nhwc");
    separable.data_format = DataFormat::NCHW;
    EXPECT_STREQ(select_kernel(separable).name, "sepconv_f32_sepconv_packed_generic_nchw");
    EXPECT_STREQ(select_kernel({Op::Separable, DataFormat::NHWC, 3, 3, 1, 2, 2}).name,
                 "sepconv_f32_sepconv_3x3m1s2_nhwc");
    // A packed variant reads its weights in another layout: never for TF's.
    setenv("SEPCONV_FORCE_KERNEL", "sepconv_f32_pwconv_packed_nhwc", 1);
    EXPECT_THROW(select_kernel({Op::Pointwise, DataFormat::NHWC}), Error);
    unsetenv("SEPCONV_FORCE_KERNEL");
}

TEST(Registry, ForcingAKernelThatCannotRunIsAnError) {
    setenv("SEPCONV_FORCE_KERNEL", "sepconv_f32_dwconv_3x3m1s1_nhwc", 1);
    EXPECT_THROW(select_kernel({Op::Depthwise, DataFormat::NHWC, 5, 5, 1, 1, 1}), Error);
    setenv("SEPCONV_FORCE_KERNEL", "no_such_kernel", 1);
    EXPECT_THROW(select_kernel({Op::Depthwise, DataFormat::NHWC, 3, 3, 1, 1, 1}), Error);
    unsetenv("SEPCONV_FORCE_KERNEL");
}

// Each sub-target of the multi-target libraries runs and is reported: ctest
// runs this test once per SEPCONV_MAX_ISA level (see tests/CMakeLists.txt).
TEST(Registry, IsaLevelRunsAndIsReported) {
    std::mt19937 rng(3);
    const KernelInfo &k = select_kernel({Op::Separable, DataFormat::NHWC, 3, 3, 1, 1, 1});
    run_and_check(k, rng);
    // The level used is the cap or below it (the CPU may lack the cap's level).
    EXPECT_GE(static_cast<int>(last_isa()), static_cast<int>(max_isa()))
        << "ran " << to_string(last_isa()) << " above the cap " << to_string(max_isa());
    const char *expected = std::getenv("SEPCONV_EXPECT_ISA");
    if (expected) EXPECT_STREQ(to_string(last_isa()), expected);
}

}  // namespace
}  // namespace sepconv
