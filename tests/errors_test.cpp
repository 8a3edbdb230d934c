// The error catalogue of shared/spec/semantics.md: each bad input raises
// sepconv::Error naming the argument and its values, and leaves the output
// untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "sepconv/ops.h"

namespace sepconv {
namespace {

// A valid separable problem (NHWC 1x5x5x2, 3x3 depthwise, M=2, 4 outputs) to
// break one argument at a time.
struct Problem {
    std::vector<float> input = std::vector<float>(1 * 5 * 5 * 2, 1.0f);
    std::vector<float> dw = std::vector<float>(3 * 3 * 2 * 2, 1.0f);
    std::vector<float> pw = std::vector<float>(4 * 4, 1.0f);
    std::vector<float> bias = std::vector<float>(4, 1.0f);
    std::vector<float> output = std::vector<float>(1 * 5 * 5 * 4, 42.0f);
    ConstTensor in{input, {1, 5, 5, 2}};
    ConstTensor dw_view{dw, {3, 3, 2, 2}};
    ConstTensor pw_view{pw, {1, 1, 4, 4}};
    std::optional<ConstTensor> bias_view = ConstTensor(bias, {4});
    MutableTensor out{output, {1, 5, 5, 4}};
    Conv2DOptions options = [] {
        Conv2DOptions o;
        o.padding = Padding::same();
        return o;
    }();

    void separable() { separable_conv2d(in, dw_view, pw_view, bias_view, out, options); }
    void depthwise() {
        out.shape = {1, 5, 5, 4};
        depthwise_conv2d(in, dw_view, bias_view, out, options);
    }
};

// Expects `call` to throw sepconv::Error whose message contains every one of
// `parts`, and the output to be untouched.
void expect_error(Problem &p, const std::function<void()> &call, const std::vector<std::string> &parts) {
    try {
        call();
        ADD_FAILURE() << "no error; expected one mentioning '" << parts.front() << "'";
    } catch (const Error &e) {
        const std::string msg = e.what();
        for (const auto &part : parts) EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg;
    }
    for (float v : p.output) {
        if (v != 42.0f) {
            ADD_FAILURE() << "output was written on error";
            break;
        }
    }
}

TEST(Errors, ValidProblemRuns) {
    Problem p;
    p.separable();
    EXPECT_NE(p.output[0], 42.0f);
}

TEST(Errors, Sepconv_ErrorIsAnInvalidArgument) {
    Problem p;
    p.in.shape = {5, 5, 2};
    EXPECT_THROW(p.separable(), std::invalid_argument);
}

TEST(Errors, InputRankNot4) {
    Problem p;
    p.in.shape = {5, 5, 2};
    expect_error(p, [&] { p.separable(); }, {"input must be 4-dimensional", "rank 3", "[5, 5, 2]"});
}

TEST(Errors, FilterRankNot4) {
    Problem p;
    p.dw_view.shape = {3, 3, 4};
    expect_error(p, [&] { p.separable(); }, {"depthwise_filter must be 4-dimensional", "[3, 3, 4]"});
    Problem q;
    q.pw_view.shape = {4, 4};
    expect_error(q, [&] { q.separable(); }, {"pointwise_filter must be 4-dimensional", "[4, 4]"});
}

TEST(Errors, ZeroOrNegativeDimensions) {
    Problem p;
    p.in.shape = {1, 0, 5, 2};
    expect_error(p, [&] { p.separable(); }, {"input dimension 1 must be >= 1", "[1, 0, 5, 2]"});
    Problem q;
    q.dw_view.shape = {3, -3, 2, 2};
    expect_error(q, [&] { q.separable(); }, {"depthwise_filter dimension 1", "[3, -3, 2, 2]"});
}

TEST(Errors, EmptyBatchIsAllowedAndWritesNothing) {
    Problem p;
    p.in.shape = {0, 5, 5, 2};
    p.out.shape = {0, 5, 5, 4};
    p.separable();
    for (float v : p.output) ASSERT_EQ(v, 42.0f);
}

TEST(Errors, DepthMismatch) {
    Problem p;
    p.dw_view.shape = {3, 2, 3, 2};  // same element count, in_c 3
    expect_error(p, [&] { p.separable(); }, {"input and filter must have the same depth: 2 vs 3"});
}

TEST(Errors, PointwiseFilterShape) {
    Problem p;
    p.pw_view.shape = {1, 1, 2, 8};
    expect_error(p, [&] { p.separable(); }, {"pointwise_filter must have shape [1, 1, in_c * depth_multiplier = 4",
                                             "[1, 1, 2, 8]"});
    Problem q;
    q.pw_view.shape = {2, 1, 4, 2};
    expect_error(q, [&] { q.separable(); }, {"pointwise_filter", "[2, 1, 4, 2]"});
    Problem r;
    r.out.shape = {1, 5, 5, 4};
    expect_error(r, [&] {
        pointwise_conv2d(r.in, ConstTensor(r.pw, {1, 1, 3, 4}), std::nullopt, r.out, {});
    }, {"pointwise_filter must have shape [1, 1, 2, out_c]", "[1, 1, 3, 4]"});
}

TEST(Errors, PackedPointwiseFilterShape) {
    std::vector<float> w(3 * 3 * 2 * 4, 1.0f);
    try {
        PackedPointwiseFilter packed(ConstTensor(w, {3, 3, 2, 4}));
        ADD_FAILURE() << "a 3x3 filter was packed as a pointwise filter";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("pointwise_filter must have shape [1, 1, in_c, out_c], got [3, 3, 2, 4]"),
                  std::string::npos) << e.what();
    }
    EXPECT_THROW(PackedPointwiseFilter(ConstTensor(w, {1, 1, 72})), Error);  // rank 3
    // Input channels that are not the filter's: named with both values.
    Problem p;
    const PackedPointwiseFilter packed(ConstTensor(p.pw, {1, 1, 4, 4}));
    expect_error(p, [&] { pointwise_conv2d(p.in, packed, std::nullopt, p.out, {}); },
                 {"pointwise_filter must have shape [1, 1, 2, out_c]", "[1, 1, 4, 4]"});
    Problem q;
    const PackedPointwiseFilter fits(ConstTensor(q.pw, {1, 1, 2, 8}));
    expect_error(q, [&] { pointwise_conv2d(q.in, fits, q.bias_view, q.out, {}); },
                 {"bias must have 8 elements", "[4]"});
}

TEST(Errors, BiasLength) {
    Problem p;
    p.bias_view = ConstTensor(p.bias, {3});
    expect_error(p, [&] { p.separable(); }, {"bias must have 4 elements", "[3]"});
    Problem q;  // depthwise only: the bias has in_c * M entries
    q.bias_view = ConstTensor(q.bias, {2});
    expect_error(q, [&] { q.depthwise(); }, {"bias must have 4 elements (in_channels * multiplier)", "[2]"});
}

TEST(Errors, StridesWrongLengthOrValue) {
    expect_error(*std::make_unique<Problem>(), [] { spatial_strides({1, 2, 1}, DataFormat::NHWC); },
                 {"strides must have 4 elements", "got 3", "[1, 2, 1]"});
    Problem p;
    expect_error(p, [] { spatial_strides({1, 0, 1, 1}, DataFormat::NHWC); }, {"strides must all be >= 1",
                                                                            "[1, 0, 1, 1]"});
    expect_error(p, [] { spatial_strides({2, 1, 1, 1}, DataFormat::NHWC); },
                 {"does not yet support strides in the batch and depth dimensions", "[2, 1, 1, 1]"});
    expect_error(p, [] { spatial_strides({1, 1, 2, 2}, DataFormat::NHWC); }, {"batch and depth", "NHWC"});
    expect_error(p, [] { spatial_strides({1, 2, 2, 2}, DataFormat::NCHW); }, {"batch and depth", "NCHW"});
    EXPECT_EQ(spatial_strides({1, 1, 2, 3}, DataFormat::NCHW), (std::array<int64_t, 2>{2, 3}));
    p.options.strides = {0, 1};
    expect_error(p, [&] { p.separable(); }, {"strides[h] must be in [1,", "got 0"});
}

TEST(Errors, DilationsWrongLengthOrValue) {
    Problem p;
    expect_error(p, [] { spatial_dilations({1, 2, 1}, DataFormat::NHWC); }, {"dilations must have 2 ([h, w]) or 4"});
    EXPECT_EQ(spatial_dilations({2, 3}, DataFormat::NCHW), (std::array<int64_t, 2>{2, 3}));
    expect_error(p, [] { spatial_dilations({0, 1}, DataFormat::NHWC); }, {"dilations must all be >= 1", "[0, 1]"});
    expect_error(p, [] { spatial_dilations({1, -1, 1, 1}, DataFormat::NHWC); }, {"dilations must all be >= 1"});
    expect_error(p, [] { spatial_dilations({1, 2, 2, 2}, DataFormat::NHWC); }, {"dilations in the batch and depth"});
    p.options.dilations = {1, 0};
    expect_error(p, [&] { p.separable(); }, {"dilations[w] must be in [1,", "got 0"});
}

TEST(Errors, RateWithStride) {
    Problem p;
    p.options.strides = {2, 2};
    p.options.dilations = {2, 1};
    expect_error(p, [&] { p.separable(); }, {"`strides > 1` not supported in conjunction with `dilation_rate > 1`",
                                             "strides=[2, 2]", "dilation_rate=[2, 1]"});
}

TEST(Errors, PaddingStrings) {
    Problem p;
    expect_error(p, [] { Padding::parse("FULL"); }, {"padding must be 'SAME', 'VALID'", "'FULL'"});
    expect_error(p, [] { Padding::parse("causal"); }, {"'causal'"});
    EXPECT_EQ(Padding::parse("same").kind, Padding::Kind::Same);
    EXPECT_EQ(Padding::parse("VALID").kind, Padding::Kind::Valid);
}

TEST(Errors, ExplicitPaddingMalformedOrNegative) {
    Problem p;
    expect_error(p, [] { Padding::from_list({{0, 0}, {1, 1}, {1, 1}}, DataFormat::NHWC); },
                 {"explicit padding must have 4 [before, after] pairs", "got 3 pairs"});
    expect_error(p, [] { Padding::from_list({{0, 0}, {1, -1}, {1, 1}, {0, 0}}, DataFormat::NHWC); },
                 {"must be nonnegative", "[0, 0, 1, -1, 1, 1, 0, 0]"});
    expect_error(p, [] { Padding::from_list({{0, 0}, {1, 1}, {1, 1}, {0, 1}}, DataFormat::NHWC); },
                 {"Nonzero explicit padding in the batch or depth dimensions"});
    expect_error(p, [] { Padding::from_list({{0, 0}, {1, 1}, {1, 1}, {0, 0}}, DataFormat::NCHW); },
                 {"Nonzero explicit padding in the batch or depth dimensions", "NCHW"});
    const Padding nchw = Padding::from_list({{0, 0}, {0, 0}, {1, 2}, {3, 4}}, DataFormat::NCHW);
    EXPECT_EQ(nchw.top + nchw.bottom * 10 + nchw.left * 100 + nchw.right * 1000, 4321);
    p.options.padding = Padding::explicit_amounts(-1, 0, 0, 0);
    expect_error(p, [&] { p.separable(); }, {"padding must be in [0,", "got -1"});
}

TEST(Errors, NegativeOutputSize) {
    Problem p;
    p.in.shape = {1, 1, 5, 2};
    p.input.resize(10);
    p.in = ConstTensor(p.input, {1, 1, 5, 2});
    p.options.padding = Padding::valid();
    expect_error(p, [&] { p.separable(); },
                 {"Computed output size would be negative: -1 [input_size: 1, effective_filter_size: 3, stride: 1]"});
    // A dilated kernel wider than the input.
    Problem q;
    q.options.padding = Padding::valid();
    q.options.dilations = {3, 3};
    expect_error(q, [&] { q.separable(); }, {"Computed output size would be", "effective_filter_size: 7"});
    EXPECT_THROW(infer_output_shape(Op::Depthwise, {1, 2, 2, 1}, {3, 3, 1, 1}, {}, q.options), Error);
}

TEST(Errors, DataFormat) {
    Problem p;
    expect_error(p, [] { parse_data_format("NWHC"); }, {"data_format must be 'NHWC' or 'NCHW'", "'NWHC'"});
    EXPECT_EQ(parse_data_format("channels_first"), DataFormat::NCHW);
    EXPECT_EQ(parse_data_format("NHWC"), DataFormat::NHWC);
}

TEST(Errors, NullPointers) {
    Problem p;
    p.in.data = nullptr;
    expect_error(p, [&] { p.separable(); }, {"input data pointer is null"});
    Problem q;
    q.out.data = nullptr;
    EXPECT_THROW(q.separable(), Error);
    Problem r;
    r.bias_view->data = nullptr;
    expect_error(r, [&] { r.separable(); }, {"bias data pointer is null"});
}

TEST(Errors, BuffersTooSmall) {
    Problem p;
    p.in.capacity = 49;
    expect_error(p, [&] { p.separable(); }, {"input buffer is too small", "needs 50 elements", "has 49"});
    Problem q;
    q.out.capacity = 10;
    expect_error(q, [&] { q.separable(); }, {"output buffer is too small", "needs 100"});
    Problem r;
    r.dw_view.capacity = 35;
    expect_error(r, [&] { r.separable(); }, {"depthwise_filter buffer is too small"});
}

TEST(Errors, OutputShapeMismatch) {
    Problem p;
    p.out.shape = {1, 5, 4, 5};
    expect_error(p, [&] { p.separable(); }, {"output must have shape [1, 5, 5, 4]", "[1, 5, 4, 5]"});
}

TEST(Errors, ElementCountOverflows64Bits) {
    Problem p;
    p.in.shape = {1LL << 40, 1LL << 20, 1LL << 10, 2};
    p.in.capacity = -1;
    expect_error(p, [&] { p.separable(); }, {"input element count overflows int64"});
}

// Found by tests/fuzz (corpus entry regress-empty-batch-huge-dims): the dense
// strides of an empty-batch view overflowed int64 before being checked.
TEST(Errors, EmptyBatchWithHugeDimensions) {
    Problem p;
    p.in.shape = {0, 1LL << 40, 1LL << 40, 2};
    p.in.capacity = -1;
    expect_error(p, [&] { p.separable(); }, {"input element count overflows int64"});
}

TEST(Errors, SizeBeyondKernelIndexing) {
    Problem p;
    p.in.shape = {1, 40000, 40000, 2};  // 3.2e9 elements: fits int64, not the 32-bit index
    p.in.capacity = -1;
    expect_error(p, [&] { p.separable(); }, {"input spans 3200000000 elements", "32-bit indexing"});
    EXPECT_THROW(infer_output_shape(Op::Depthwise, {1, 1LL << 33, 5, 2}, {3, 3, 2, 1}, {}, p.options), Error);
}

// A dilation that fits int32 but whose SAME padding does not (found by the
// fuzzer: dilation 2^31 - 1 padded the input by ~2^32, which wrapped to a
// negative pad in the kernel's 32-bit arguments and read outside the input).
TEST(Errors, PaddingBeyondKernelIndexing) {
    Problem p;
    p.options.dilations = {1, 2147483647};
    expect_error(p, [&] { p.separable(); },
                 {"padded input size overflows the kernel's 32-bit index: 5 + padding 2147483647 + 2147483647",
                  "effective_filter_size: 4294967295"});
    expect_error(p, [&] { p.depthwise(); }, {"padded input size overflows the kernel's 32-bit index"});
    Problem q;
    q.options.padding = Padding::explicit_amounts(0, 0, 2147483647, 1);
    EXPECT_THROW(infer_output_shape(Op::Depthwise, {1, 5, 5, 2}, {3, 3, 2, 1}, {}, q.options), Error);
}

TEST(Errors, StridedViews) {
    Problem p;
    p.in.strides = {50, 10, 2, 2};  // innermost stride must be 1
    expect_error(p, [&] { p.separable(); }, {"input innermost stride must be 1"});
    Problem q;
    q.dw_view.strides = {12, 4, 2, 2};
    expect_error(q, [&] { q.separable(); }, {"depthwise_filter must be dense row-major"});
}

TEST(Errors, SizeOneDimensionsTakeAnyStride) {
    Problem p;
    p.input.assign(5 * 5 * 1, 1.0f);
    p.dw.assign(3 * 3 * 1 * 4, 1.0f);
    p.in = ConstTensor(p.input, {1, 5, 5, 1});
    p.in.strides = {25, 5, 1, 7};  // innermost extent 1: its stride is never used
    p.dw_view = ConstTensor(p.dw, {3, 3, 1, 4});
    p.separable();
    EXPECT_EQ(p.output[0], 1.0f + 4 * 4);  // bias 1 + (4 taps at the SAME corner) for each of the 4 channels
}

TEST(Errors, OutputOverlappingInput) {
    Problem p;
    p.out.data = const_cast<float *>(p.input.data());
    p.out.capacity = -1;
    p.out.shape = {1, 5, 5, 4};
    EXPECT_THROW(p.separable(), Error);
}

TEST(Errors, ActivationBounds) {
    Problem p;
    expect_error(p, [] { Activation::clamp(1.0f, -1.0f); }, {"min <= max", "min = 1", "max = -1"});
    expect_error(p, [] { Activation::parse("gelu"); }, {"activation must be one of", "'gelu'"});
    expect_error(p, [] { Activation::leaky_relu(std::numeric_limits<float>::infinity()); }, {"alpha must be finite"});
    p.options.activation.min = std::nanf("");
    expect_error(p, [&] { p.separable(); }, {"activation bounds must satisfy min <= max"});
    // Set directly, bypassing Activation::leaky_relu's check.
    Problem q;
    q.options.activation.leaky_alpha = std::nanf("");
    expect_error(q, [&] { q.separable(); }, {"leaky_relu alpha must be finite", "nan"});
}

// An output view whose strides give two elements one address (found by the
// fuzzer: rows of one image landed on the rows of the next) is refused.
TEST(Errors, OutputElementsOverlap) {
    Problem p;
    p.out.strides = {20, 4, 4, 1};  // row stride 4 = 1 column of 4 channels: rows overlap columns
    expect_error(p, [&] { p.separable(); },
                 {"output strides make elements overlap", "[1, 5, 5, 4]", "[20, 4, 4, 1]"});
    Problem q;
    q.out.strides = {100, 20, 4, 1};  // dense: fine
    EXPECT_NO_THROW(q.separable());
}

}  // namespace
}  // namespace sepconv

