// The golden vectors of shared/spec/semantics.md, exactly as listed.
#include <gtest/gtest.h>

#include "harness.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace sepconv {
namespace {

using testing::iota_floats;

std::vector<float> run_depthwise(std::vector<float> x, std::vector<int64_t> x_shape, std::vector<float> f,
                                 std::vector<int64_t> f_shape, const Conv2DOptions &o) {
    auto out_shape = infer_output_shape(Op::Depthwise, x_shape, f_shape, {}, o);
    std::vector<float> out(out_shape[0] * out_shape[1] * out_shape[2] * out_shape[3], -1.0f);
    depthwise_conv2d(ConstTensor(x, x_shape), ConstTensor(f, f_shape), std::nullopt, MutableTensor(out, out_shape), o);
    return out;
}

// 1. tf.nn.depthwise_conv2d's documentation example.
TEST(Golden, DepthwiseDocExampleValid) {
    Conv2DOptions o;
    o.padding = Padding::valid();
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {1, 3, 2, 1}, {2, 1, 1, 2}, {}, o),
              (std::vector<int64_t>{1, 2, 2, 2}));
    EXPECT_EQ(run_depthwise(iota_floats(6), {1, 3, 2, 1}, {1, 2, 3, 4}, {2, 1, 1, 2}, o),
              (std::vector<float>{10, 14, 14, 20, 18, 26, 22, 32}));
}

// 2. The same with explicit padding [[0,0],[1,0],[1,0],[0,0]].
TEST(Golden, DepthwiseDocExampleExplicitPadding) {
    Conv2DOptions o;
    o.padding = Padding::from_list({{0, 0}, {1, 0}, {1, 0}, {0, 0}}, DataFormat::NHWC);
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {1, 3, 2, 1}, {2, 1, 1, 2}, {}, o),
              (std::vector<int64_t>{1, 3, 3, 2}));
    EXPECT_EQ(run_depthwise(iota_floats(6), {1, 3, 2, 1}, {1, 2, 3, 4}, {2, 1, 1, 2}, o),
              (std::vector<float>{0, 0, 3, 4, 6, 8, 0, 0, 10, 14, 14, 20, 0, 0, 18, 26, 22, 32}));
}

// 3. Two channels, multiplier 2.
TEST(Golden, DepthwiseTwoChannelsMultiplierTwo) {
    Conv2DOptions o;
    EXPECT_EQ(run_depthwise(iota_floats(12), {1, 2, 3, 2}, iota_floats(16), {2, 2, 2, 2}, o),
              (std::vector<float>{196, 216, 272, 296, 252, 280, 344, 376}));
}

// 4. Separable, SAME: first 9 and last 7 values, and the whole tensor
//    against the float64 reference.
TEST(Golden, SeparableSame) {
    Conv2DOptions o;
    o.padding = Padding::same();
    auto x = iota_floats(1 * 4 * 4 * 2, 0.5f), dw = iota_floats(2 * 2 * 2 * 3, 0.5f), pw = iota_floats(6 * 7, 0.5f);
    std::vector<float> out(4 * 4 * 7, -1.0f);
    separable_conv2d(ConstTensor(x, {1, 4, 4, 2}), ConstTensor(dw, {2, 2, 2, 3}), ConstTensor(pw, {1, 1, 6, 7}),
                     std::nullopt, MutableTensor(out, {1, 4, 4, 7}), o);
    const std::vector<float> first = {6644.5, 6971.5, 7298.5, 7625.5, 7952.5, 8279.5, 8606.5, 8154.5, 8556.5};
    const std::vector<float> last = {2036.25, 2119.5, 2202.75, 2286, 2369.25, 2452.5, 2535.75};
    EXPECT_EQ(std::vector<float>(out.begin(), out.begin() + 9), first);
    EXPECT_EQ(std::vector<float>(out.end() - 7, out.end()), last);

    reference::Geometry g;
    g.pad = reference::Pad::Same;
    auto ref = reference::separable(reference::from_floats(x, {1, 4, 4, 2}), dw, {2, 2, 2, 3}, pw, 7, {}, g, {});
    testing::expect_close(out, ref, testing::tolerance(ref, 2 * 2 * 6), "separable golden");
}

// 5. SAME with stride 2: the extra padding row/column goes to the bottom/right.
TEST(Golden, DepthwiseSameStride2) {
    Conv2DOptions o;
    o.padding = Padding::same();
    o.strides = {2, 2};
    EXPECT_EQ(run_depthwise(iota_floats(16), {1, 4, 4, 1}, std::vector<float>(9, 1.0f), {3, 3, 1, 1}, o),
              (std::vector<float>{54, 45, 72, 54}));
}

// 6. Shapes only.
TEST(Golden, ShapesOnly) {
    Conv2DOptions valid_stride3;
    valid_stride3.strides = {3, 3};
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {4, 147, 147, 2}, {3, 3, 2, 8}, {}, valid_stride3),
              (std::vector<int64_t>{4, 49, 49, 16}));
    Conv2DOptions dilated;
    dilated.dilations = {3, 2};
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {5, 41, 35, 2}, {4, 7, 2, 2}, {}, dilated),
              (std::vector<int64_t>{5, 32, 23, 4}));
    Conv2DOptions padded;
    padded.padding = Padding::from_list({{0, 0}, {10, 20}, {15, 25}, {0, 0}}, DataFormat::NHWC);
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {4, 1, 1, 3}, {3, 3, 3, 2}, {}, padded),
              (std::vector<int64_t>{4, 29, 39, 6}));
}

}  // namespace
}  // namespace sepconv
