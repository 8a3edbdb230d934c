// Shape inference against TF's rules (the reference's independent window
// computation), over a grid of sizes, kernels, strides, dilations and paddings.
#include <gtest/gtest.h>

#include "reference.h"
#include "sepconv/ops.h"

namespace sepconv {
namespace {

TEST(Shape, WindowMatchesReferenceOnAGrid) {
    int checked = 0;
    for (int in = 1; in <= 12; in++)
        for (int k = 1; k <= 7; k++)
            for (int s = 1; s <= 3; s++)
                for (int d = 1; d <= 3; d++)
                    for (int pad = 0; pad < 3; pad++)
                        for (int before = 0; before <= 2; before++) {
                            const int after = (before + pad) % 3;
                            const auto kind = pad == 0 ? Padding::Kind::Same
                                              : pad == 1 ? Padding::Kind::Valid
                                                         : Padding::Kind::Explicit;
                            const auto rpad = pad == 0 ? reference::Pad::Same
                                              : pad == 1 ? reference::Pad::Valid
                                                         : reference::Pad::Explicit;
                            const auto ref = reference::window(in, k, s, d, rpad, before, after);
                            if (!ref.ok) {
                                EXPECT_THROW(windowed_output(in, k, s, d, kind, before, after), Error);
                                continue;
                            }
                            const SpatialExtent e = windowed_output(in, k, s, d, kind, before, after);
                            ASSERT_EQ(e.size, ref.out) << in << " " << k << " " << s << " " << d << " " << pad;
                            ASSERT_EQ(e.pad_before, ref.pad_before);
                            checked++;
                        }
    EXPECT_GT(checked, 1000);
}

TEST(Shape, SamePutsTheExtraPaddingAfter) {
    // in 4, k 3, stride 2: out 2, total padding 1 -> 0 before, 1 after.
    const SpatialExtent e = windowed_output(4, 3, 2, 1, Padding::Kind::Same);
    EXPECT_EQ(e.size, 2);
    EXPECT_EQ(e.pad_before, 0);
    EXPECT_EQ(e.pad_after, 1);
    // in 5, k 4: total 3 -> 1 before, 2 after.
    const SpatialExtent f = windowed_output(5, 4, 1, 1, Padding::Kind::Same);
    EXPECT_EQ(f.pad_before, 1);
    EXPECT_EQ(f.pad_after, 2);
}

TEST(Shape, NegativeOutputSize) {
    try {
        windowed_output(2, 5, 1, 1, Padding::Kind::Valid);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.what(),
                     "Computed output size would be negative: -2 [input_size: 2, effective_filter_size: 5, stride: 1]");
    }
}

TEST(Shape, UnequalStridesAndNchw) {
    Conv2DOptions o;
    o.strides = {2, 3};
    o.padding = Padding::same();
    o.data_format = DataFormat::NCHW;
    EXPECT_EQ(infer_output_shape(Op::Depthwise, {2, 3, 10, 10}, {3, 3, 3, 2}, {}, o),
              (std::vector<int64_t>{2, 6, 5, 4}));
    EXPECT_EQ(infer_output_shape(Op::Separable, {2, 3, 10, 10}, {3, 3, 3, 2}, {1, 1, 6, 8}, o),
              (std::vector<int64_t>{2, 8, 5, 4}));
    EXPECT_EQ(infer_output_shape(Op::Pointwise, {2, 3, 10, 10}, {}, {1, 1, 3, 7}, o),
              (std::vector<int64_t>{2, 7, 10, 10}));
}

}  // namespace
}  // namespace sepconv
