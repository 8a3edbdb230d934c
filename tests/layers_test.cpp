// The Keras and contrib layer objects: arguments and errors as those APIs
// have them, results against the float64 reference (batch norm applied
// explicitly there, folded into the weights in the layer).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>

#include "harness.h"
#include "sepconv/layers.h"

namespace sepconv {
namespace {

TEST(KerasSeparableConv2D, MatchesReferenceInBothLayouts) {
    std::mt19937 rng(11);
    const int N = 2, H = 9, W = 7, C = 3, M = 2, F = 5;
    for (const char *format : {"channels_last", "channels_first"}) {
        SeparableConv2DConfig cfg;
        cfg.filters = F;
        cfg.kernel_size = {3, 2};
        cfg.strides = 2;
        cfg.padding = "same";
        cfg.data_format = format;
        cfg.depth_multiplier = M;
        cfg.activation = Activation::parse("relu6");
        SeparableConv2D layer(cfg);
        auto dw = testing::random_floats(rng, 3 * 2 * C * M), pw = testing::random_floats(rng, C * M * F),
             bias = testing::random_floats(rng, F), x = testing::random_floats(rng, N * H * W * C, -3, 3);
        layer.set_weights(ConstTensor(dw, {3, 2, C, M}), ConstTensor(pw, {1, 1, C * M, F}), ConstTensor(bias, {F}));
        const auto dw_given = dw;
        dw.assign(dw.size(), 0.0f);  // the layer keeps its own copy

        const bool nchw = std::string(format) == "channels_first";
        const auto xu = nchw ? testing::nhwc_to_nchw(x, N, H, W, C) : x;
        const std::vector<int64_t> in_shape = nchw ? std::vector<int64_t>{N, C, H, W} : std::vector<int64_t>{N, H, W, C};
        const auto out_shape = layer.output_shape(in_shape);
        EXPECT_EQ(out_shape, nchw ? (std::vector<int64_t>{N, F, 5, 4}) : (std::vector<int64_t>{N, 5, 4, F}));
        std::vector<float> out(N * 5 * 4 * F);
        layer(ConstTensor(xu, in_shape), MutableTensor(out, out_shape));

        reference::Geometry g;
        g.pad = reference::Pad::Same;
        g.stride_h = g.stride_w = 2;
        const auto ref = reference::separable(reference::from_floats(x, {N, H, W, C}), dw_given, {3, 2, C, M}, pw, F,
                                              bias, g, {reference::Act::Relu6});
        const auto got = nchw ? testing::nchw_to_nhwc(out, N, 5, 4, F) : out;
        testing::expect_close(got, ref, testing::tolerance(ref, 6 * C * M), format);
    }
}

TEST(KerasSeparableConv2D, ArgumentErrors) {
    SeparableConv2DConfig cfg;
    cfg.filters = 4;
    cfg.padding = "causal";
    EXPECT_THROW(SeparableConv2D{cfg}, Error);
    cfg.padding = "full";
    EXPECT_THROW(SeparableConv2D{cfg}, Error);
    cfg.padding = "valid";
    cfg.strides = 2;
    cfg.dilation_rate = {1, 2};
    try {
        SeparableConv2D layer(cfg);
        ADD_FAILURE() << "strides > 1 with dilation_rate > 1 accepted";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
                  std::string::npos);
    }
    cfg.dilation_rate = 1;
    cfg.filters = 0;
    EXPECT_THROW(SeparableConv2D{cfg}, Error);
    cfg.filters = 4;
    cfg.data_format = "channels_middle";
    EXPECT_THROW(SeparableConv2D{cfg}, Error);
    cfg.data_format = "channels_last";
    cfg.kernel_size = {3, 0};
    EXPECT_THROW(SeparableConv2D{cfg}, Error);

    cfg.kernel_size = 3;
    cfg.strides = 1;
    SeparableConv2D layer(cfg);
    std::vector<float> x(1 * 5 * 5 * 2), out(1 * 3 * 3 * 4), dw(3 * 3 * 2), pw(2 * 4), bias(4);
    EXPECT_THROW(layer(ConstTensor(x, {1, 5, 5, 2}), MutableTensor(out, {1, 3, 3, 4})), Error);  // no weights yet
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), ConstTensor(pw, {1, 1, 2, 4})), Error);  // no bias
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), ConstTensor(pw, {1, 1, 4, 2}), ConstTensor(bias, {4})),
                 Error);  // pointwise shape
    layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), ConstTensor(pw, {1, 1, 2, 4}), ConstTensor(bias, {4}));
    EXPECT_NO_THROW(layer(ConstTensor(x, {1, 5, 5, 2}), MutableTensor(out, {1, 3, 3, 4})));
}

// Batch norm applied to the reference's output, per channel, in float64.
reference::Tensor batch_norm(reference::Tensor t, const BatchNorm &bn, const reference::Activation &act) {
    const int C = t.shape[3];
    for (size_t i = 0; i < t.data.size(); i++) {
        const int c = static_cast<int>(i % C);
        const double v = bn.gamma[c] * (t.data[i] - bn.mean[c]) / std::sqrt(double(bn.variance[c]) + bn.epsilon) +
                         bn.beta[c];
        t.data[i] = reference::apply(act, v);
    }
    return t;
}

BatchNorm random_batch_norm(std::mt19937 &rng, int channels) {
    BatchNorm bn;
    bn.gamma = testing::random_floats(rng, channels, 0.5f, 2.0f);
    bn.beta = testing::random_floats(rng, channels);
    bn.mean = testing::random_floats(rng, channels);
    bn.variance = testing::random_floats(rng, channels, 0.1f, 3.0f);
    return bn;
}

TEST(ContribSeparableConv2D, BatchNormFoldedMatchesExplicitBatchNorm) {
    std::mt19937 rng(5);
    const int N = 1, H = 8, W = 8, C = 4, M = 2, O = 6;
    const auto x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, 9 * C * M),
               pw = testing::random_floats(rng, C * M * O);
    const BatchNorm bn = random_batch_norm(rng, O);

    ContribSeparableConv2DConfig cfg;  // defaults: SAME, stride 1, relu
    cfg.num_outputs = O;
    cfg.depth_multiplier = M;
    ContribSeparableConv2D layer(cfg);
    layer.set_weights(ConstTensor(dw, {3, 3, C, M}), ConstTensor(pw, {1, 1, C * M, O}), std::nullopt, bn);
    std::vector<float> out(N * H * W * O);
    layer(ConstTensor(x, {N, H, W, C}), MutableTensor(out, {N, H, W, O}));

    reference::Geometry g;
    g.pad = reference::Pad::Same;
    const auto pre = reference::separable(reference::from_floats(x, {N, H, W, C}), dw, {3, 3, C, M}, pw, O, {}, g, {});
    const auto ref = batch_norm(pre, bn, {reference::Act::Relu});
    testing::expect_close(out, ref, 4 * testing::tolerance(ref, 9 * C * M), "folded batch norm");
}

TEST(ContribSeparableConv2D, DepthwiseOnlyWithBiasAndWithBatchNorm) {
    std::mt19937 rng(6);
    const int N = 2, H = 6, W = 5, C = 3, M = 2;
    const auto x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, 9 * C * M),
               biases = testing::random_floats(rng, C * M);
    ContribSeparableConv2DConfig cfg;
    cfg.depth_multiplier = M;
    cfg.activation_fn = Activation::none();
    ContribSeparableConv2D layer(cfg);  // num_outputs = None: depthwise only
    layer.set_weights(ConstTensor(dw, {3, 3, C, M}), std::nullopt, ConstTensor(biases, {C * M}));
    EXPECT_EQ(layer.output_shape({N, H, W, C}), (std::vector<int64_t>{N, H, W, C * M}));
    std::vector<float> out(N * H * W * C * M);
    layer(ConstTensor(x, {N, H, W, C}), MutableTensor(out, {N, H, W, C * M}));
    reference::Geometry g;
    g.pad = reference::Pad::Same;
    const auto rx = reference::from_floats(x, {N, H, W, C});
    auto ref = reference::depthwise(rx, dw, {3, 3, C, M}, biases, g, {});
    testing::expect_close(out, ref, testing::tolerance(ref, 9), "depthwise only");

    const BatchNorm bn = random_batch_norm(rng, C * M);
    layer.set_weights(ConstTensor(dw, {3, 3, C, M}), std::nullopt, std::nullopt, bn);
    layer(ConstTensor(x, {N, H, W, C}), MutableTensor(out, {N, H, W, C * M}));
    ref = batch_norm(reference::depthwise(rx, dw, {3, 3, C, M}, {}, g, {}), bn, {});
    testing::expect_close(out, ref, 4 * testing::tolerance(ref, 9), "depthwise only, folded batch norm");
}

TEST(ContribSeparableConv2D, ArgumentErrors) {
    ContribSeparableConv2DConfig cfg;
    cfg.stride = 2;
    cfg.rate = 2;
    EXPECT_THROW(ContribSeparableConv2D{cfg}, Error);  // (stricter than contrib, which computes a wrong result)
    cfg.rate = 1;
    cfg.padding = "CAUSAL";
    EXPECT_THROW(ContribSeparableConv2D{cfg}, Error);
    cfg.padding = "VALID";
    cfg.num_outputs = 4;
    ContribSeparableConv2D layer(cfg);
    std::vector<float> dw(9 * 2), pw(2 * 4), b(4);
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), std::nullopt), Error);  // pointwise missing
    BatchNorm bn{{1, 1, 1, 1}, {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}};
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), ConstTensor(pw, {1, 1, 2, 4}), ConstTensor(b, {4}), bn),
                 Error);  // both bias and normalizer
    bn.gamma.pop_back();
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 2, 1}), ConstTensor(pw, {1, 1, 2, 4}), std::nullopt, bn),
                 Error);
}

// Found by tests/fuzz: a set_weights() that failed after its first check had
// already replaced the layer's weight shapes, so the next call read the old,
// smaller weights out of bounds. A failed set_weights() now changes nothing.
TEST(KerasSeparableConv2D, FailedSetWeightsKeepsThePreviousWeights) {
    SeparableConv2DConfig cfg;
    cfg.filters = 2;
    SeparableConv2D layer(cfg);
    std::vector<float> dw(3 * 3 * 1, 0.5f), pw(1 * 2, 1.0f), bias(2, 0.25f), x(5 * 5 * 1, 1.0f);
    layer.set_weights(ConstTensor(dw, {3, 3, 1, 1}), ConstTensor(pw, {1, 1, 1, 2}), ConstTensor(bias, {2}));
    std::vector<float> big_dw(3 * 3 * 64, 1.0f), wrong_pw(3, 1.0f);
    EXPECT_THROW(layer.set_weights(ConstTensor(big_dw, {3, 3, 64, 1}), ConstTensor(wrong_pw, {1, 1, 3, 1}),
                                   ConstTensor(bias, {2})),
                 Error);
    EXPECT_EQ(layer.output_shape({1, 5, 5, 1}), (std::vector<int64_t>{1, 3, 3, 2}));
    std::vector<float> out(3 * 3 * 2);
    layer(ConstTensor(x, {1, 5, 5, 1}), MutableTensor(out, {1, 3, 3, 2}));
    for (float v : out) EXPECT_FLOAT_EQ(v, 9 * 0.5f + 0.25f);
}

// A copy of a layer runs on its own weights, after the original is gone.
TEST(KerasSeparableConv2D, CopyOwnsItsWeights) {
    SeparableConv2DConfig cfg;
    cfg.filters = 1;
    cfg.use_bias = false;
    std::vector<float> dw(9, 1.0f), pw(1, 2.0f), x(9, 1.0f), out(1);
    auto original = std::make_unique<SeparableConv2D>(cfg);
    original->set_weights(ConstTensor(dw, {3, 3, 1, 1}), ConstTensor(pw, {1, 1, 1, 1}));
    SeparableConv2D copy = *original;
    SeparableConv2D assigned(cfg);
    assigned = copy;
    original.reset();
    copy(ConstTensor(x, {1, 3, 3, 1}), MutableTensor(out, {1, 1, 1, 1}));
    EXPECT_FLOAT_EQ(out[0], 18.0f);
    assigned(ConstTensor(x, {1, 3, 3, 1}), MutableTensor(out, {1, 1, 1, 1}));
    EXPECT_FLOAT_EQ(out[0], 18.0f);
}

// Found by tests/fuzz: in_channels * depth_multiplier overflowed int64.
TEST(ContribSeparableConv2D, HugeDepthMultiplierIsAnError) {
    ContribSeparableConv2DConfig cfg;
    cfg.depth_multiplier = std::numeric_limits<int64_t>::max() / 2;
    ContribSeparableConv2D layer(cfg);
    std::vector<float> dw(9 * 4, 1.0f);
    EXPECT_THROW(layer.set_weights(ConstTensor(dw, {3, 3, 4, 1}), std::nullopt), Error);
    SeparableConv2DConfig keras;
    keras.filters = 1;
    keras.depth_multiplier = cfg.depth_multiplier;
    SeparableConv2D k(keras);
    std::vector<float> pw(1, 1.0f), b(1, 0.0f);
    EXPECT_THROW(k.set_weights(ConstTensor(dw, {3, 3, 4, 1}), ConstTensor(pw, {1, 1, 1, 1}), ConstTensor(b, {1})),
                 Error);
}

}  // namespace
}  // namespace sepconv
