// Layer objects with Keras's and tf.contrib's arguments. Weights are given
// at run time, once: the layer keeps its own copy, the pointwise weights
// packed (PackedPointwiseFilter).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sepconv/ops.h"

namespace sepconv {

namespace detail {

// A weight tensor a layer owns, at 64 bytes (sepconv/aligned.h), with its
// view built once (running a layer allocates nothing). Copies view their own
// values.
class OwnedWeights {
public:
    OwnedWeights() = default;
    OwnedWeights(AlignedVector<float> values, std::vector<int64_t> shape);
    OwnedWeights(const OwnedWeights &other);
    OwnedWeights &operator=(const OwnedWeights &other);
    OwnedWeights(OwnedWeights &&) noexcept = default;  // a moved vector keeps its buffer
    OwnedWeights &operator=(OwnedWeights &&) noexcept = default;

    bool empty() const { return !view_; }
    // The view of the values (nullopt when empty), as the ops take a bias.
    const std::optional<ConstTensor> &view() const { return view_; }
    const std::vector<int64_t> &shape() const;

private:
    AlignedVector<float> values_;
    std::optional<ConstTensor> view_;
};

}  // namespace detail

// One int or an (h, w) pair, as Keras's kernel_size / strides / dilation_rate.
struct IntPair {
    std::array<int64_t, 2> hw;
    IntPair(int64_t both) : hw{both, both} {}  // NOLINT: implicit, like Keras
    IntPair(int64_t h, int64_t w) : hw{h, w} {}
};

// tf.keras.layers.SeparableConv2D.
struct SeparableConv2DConfig {
    int64_t filters = 0;
    IntPair kernel_size = 3;
    IntPair strides = 1;
    std::string padding = "valid";               // "valid" / "same" ("causal" is an error)
    std::string data_format = "channels_last";   // or "channels_first"
    IntPair dilation_rate = 1;
    int64_t depth_multiplier = 1;
    Activation activation = Activation::none();  // Activation::parse("relu6") etc.
    bool use_bias = true;
};

class SeparableConv2D {
public:
    // Validates the configuration as Keras does (Error on bad values).
    explicit SeparableConv2D(const SeparableConv2DConfig &config);

    // depthwise_kernel [k_h, k_w, in_c, depth_multiplier],
    // pointwise_kernel [1, 1, in_c * depth_multiplier, filters], bias [filters]
    // (required when use_bias, rejected otherwise). Copied once.
    void set_weights(const ConstTensor &depthwise_kernel, const ConstTensor &pointwise_kernel,
                     const std::optional<ConstTensor> &bias = std::nullopt);

    std::vector<int64_t> output_shape(const std::vector<int64_t> &input_shape) const;
    void operator()(const ConstTensor &input, const MutableTensor &output) const;

    const SeparableConv2DConfig &config() const { return config_; }
    const Conv2DOptions &options() const { return options_; }

private:
    SeparableConv2DConfig config_;
    Conv2DOptions options_;
    detail::OwnedWeights depthwise_, bias_;
    std::optional<PackedPointwiseFilter> pointwise_;  // packed once (ops.h)
};

// Inference batch normalization, gamma * (x - mean) / sqrt(variance + epsilon) + beta,
// one entry per output channel.
struct BatchNorm {
    std::vector<float> gamma, beta, mean, variance;
    float epsilon = 0.001f;
};

// tf.contrib.layers.separable_conv2d: num_outputs = nullopt gives the
// depthwise stage only; a normalizer replaces the bias and is folded into the
// weights (the scale into the last filter, the shift into the bias).
struct ContribSeparableConv2DConfig {
    std::optional<int64_t> num_outputs;
    IntPair kernel_size = 3;
    int64_t depth_multiplier = 1;
    IntPair stride = 1;
    std::string padding = "SAME";
    std::string data_format = "NHWC";
    IntPair rate = 1;
    Activation activation_fn = Activation::relu();
};

class ContribSeparableConv2D {
public:
    explicit ContribSeparableConv2D(const ContribSeparableConv2DConfig &config);

    // depthwise_weights [k_h, k_w, in_c, M]; pointwise_weights [1, 1, in_c*M,
    // num_outputs] (none when num_outputs is nullopt); biases [out channels]
    // (zeros when absent) or a normalizer (not both).
    void set_weights(const ConstTensor &depthwise_weights, const std::optional<ConstTensor> &pointwise_weights,
                     const std::optional<ConstTensor> &biases = std::nullopt,
                     const std::optional<BatchNorm> &normalizer = std::nullopt);

    std::vector<int64_t> output_shape(const std::vector<int64_t> &input_shape) const;
    void operator()(const ConstTensor &input, const MutableTensor &output) const;

private:
    ContribSeparableConv2DConfig config_;
    Conv2DOptions options_;
    detail::OwnedWeights depthwise_, bias_;
    std::optional<PackedPointwiseFilter> pointwise_;  // packed once (ops.h)
};

}  // namespace sepconv
