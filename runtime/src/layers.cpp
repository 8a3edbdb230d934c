#include "sepconv/layers.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "format.h"
#include "validate.h"

namespace sepconv {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

void check_positive(int64_t v, const char *name) {
    if (v < 1) {
        throw Error(std::string("Invalid value for argument `") + name +
                    "`. Expected a strictly positive value. Received " + name + "=" + std::to_string(v) + ".");
    }
}

void check_positive(const IntPair &p, const char *name) {
    if (p.hw[0] < 1 || p.hw[1] < 1) {
        throw Error(std::string("The `") + name + "` argument must be a tuple of 2 strictly positive integers. Received " +
                    name + "=" + format_list(p.hw) + ".");
    }
}

Padding keras_padding(const std::string &padding) {
    const std::string p = lower(padding);
    if (p == "causal") {
        throw Error("Causal padding is only supported for `Conv1D` and `SeparableConv1D`; SeparableConv2D takes "
                    "padding='valid' or 'same'. Received padding=causal");
    }
    if (p != "valid" && p != "same") {
        throw Error("Invalid padding: expected 'valid' or 'same', received padding=" + padding);
    }
    return Padding::parse(p);
}

// A dense copy of a weight tensor (at 64 bytes, as the layer keeps it), its
// shape checked against `expected`.
AlignedVector<float> copy_weights(const ConstTensor &t, const char *name, const std::vector<int64_t> &expected) {
    detail::checked_strides(t, name, expected.size(), detail::Contiguity::Dense, false);
    if (t.shape != expected) {
        throw Error(std::string(name) + " must have shape " + format_list(expected) + ", got " + format_list(t.shape));
    }
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    return AlignedVector<float>(t.data, t.data + n);
}

// in_c * depth_multiplier, which a huge multiplier could overflow.
int64_t mid_channels(int64_t in_c, int64_t depth_multiplier, const char *weights) {
    int64_t mid;
    if (in_c < 1 || __builtin_mul_overflow(in_c, depth_multiplier, &mid)) {
        throw Error(std::string(weights) + " in_channels * depth_multiplier must be a positive int64, got " +
                    std::to_string(in_c) + " * " + std::to_string(depth_multiplier));
    }
    return mid;
}

void require_weights(const detail::OwnedWeights &depthwise, const char *layer) {
    if (depthwise.empty()) throw Error(std::string(layer) + ": call set_weights() before running the layer");
}

}  // namespace

SeparableConv2D::SeparableConv2D(const SeparableConv2DConfig &c) : config_(c) {
    check_positive(c.filters, "filters");
    check_positive(c.depth_multiplier, "depth_multiplier");
    check_positive(c.kernel_size, "kernel_size");
    check_positive(c.strides, "strides");
    check_positive(c.dilation_rate, "dilation_rate");
    options_.padding = keras_padding(c.padding);
    options_.data_format = parse_data_format(c.data_format);
    options_.strides = c.strides.hw;
    options_.dilations = c.dilation_rate.hw;
    options_.activation = c.activation;
    check_strides_and_dilations(options_);
}

void SeparableConv2D::set_weights(const ConstTensor &depthwise_kernel, const ConstTensor &pointwise_kernel,
                                  const std::optional<ConstTensor> &bias) {
    const auto &k = config_.kernel_size.hw;
    if (depthwise_kernel.shape.size() != 4) {
        throw Error("depthwise_kernel must be 4-dimensional [k_h, k_w, in_c, depth_multiplier], got shape " +
                    format_list(depthwise_kernel.shape));
    }
    // Nothing of the layer changes until every check has passed.
    const int64_t in_c = depthwise_kernel.shape[2];
    const std::vector<int64_t> dw_shape = {k[0], k[1], in_c, config_.depth_multiplier},
                               pw_shape = {1, 1, mid_channels(in_c, config_.depth_multiplier, "depthwise_kernel"),
                                           config_.filters};
    auto dw = copy_weights(depthwise_kernel, "depthwise_kernel", dw_shape);
    const AlignedVector<float> pw_values = copy_weights(pointwise_kernel, "pointwise_kernel", pw_shape);
    PackedPointwiseFilter pw(ConstTensor(pw_values.data(), pw_shape));
    AlignedVector<float> b;
    if (config_.use_bias) {
        if (!bias) throw Error("bias is required: the layer was built with use_bias=True");
        b = copy_weights(*bias, "bias", {config_.filters});
    } else if (bias) {
        throw Error("bias given to a layer built with use_bias=False");
    }
    depthwise_ = {std::move(dw), dw_shape};
    pointwise_ = std::move(pw);
    bias_ = config_.use_bias ? detail::OwnedWeights(std::move(b), {config_.filters}) : detail::OwnedWeights();
}

std::vector<int64_t> SeparableConv2D::output_shape(const std::vector<int64_t> &input_shape) const {
    require_weights(depthwise_, "SeparableConv2D");
    return infer_output_shape(Op::Separable, input_shape, depthwise_.shape(), pointwise_->shape(), options_);
}

void SeparableConv2D::operator()(const ConstTensor &input, const MutableTensor &output) const {
    require_weights(depthwise_, "SeparableConv2D");
    separable_conv2d(input, *depthwise_.view(), *pointwise_, bias_.view(), output, options_);
}

ContribSeparableConv2D::ContribSeparableConv2D(const ContribSeparableConv2DConfig &c) : config_(c) {
    if (c.num_outputs) check_positive(*c.num_outputs, "num_outputs");
    check_positive(c.depth_multiplier, "depth_multiplier");
    check_positive(c.kernel_size, "kernel_size");
    check_positive(c.stride, "stride");
    check_positive(c.rate, "rate");
    options_.padding = Padding::parse(c.padding);
    options_.data_format = parse_data_format(c.data_format);
    options_.strides = c.stride.hw;
    options_.dilations = c.rate.hw;
    options_.activation = c.activation_fn;
    // Rejects rate > 1 with stride > 1, where contrib silently computes a wrong result.
    check_strides_and_dilations(options_);
}

void ContribSeparableConv2D::set_weights(const ConstTensor &depthwise_weights,
                                         const std::optional<ConstTensor> &pointwise_weights,
                                         const std::optional<ConstTensor> &biases,
                                         const std::optional<BatchNorm> &normalizer) {
    const auto &k = config_.kernel_size.hw;
    if (depthwise_weights.shape.size() != 4) {
        throw Error("depthwise_weights must be 4-dimensional [k_h, k_w, in_c, depth_multiplier], got shape " +
                    format_list(depthwise_weights.shape));
    }
    const int64_t in_c = depthwise_weights.shape[2],
                  mid = mid_channels(in_c, config_.depth_multiplier, "depthwise_weights");
    std::vector<int64_t> dw_shape = {k[0], k[1], in_c, config_.depth_multiplier}, pw_shape;
    auto dw = copy_weights(depthwise_weights, "depthwise_weights", dw_shape);
    AlignedVector<float> pw;
    if (config_.num_outputs) {
        if (!pointwise_weights) throw Error("pointwise_weights are required when num_outputs is set");
        pw_shape = {1, 1, mid, *config_.num_outputs};
        pw = copy_weights(*pointwise_weights, "pointwise_weights", pw_shape);
    } else if (pointwise_weights) {
        throw Error("pointwise_weights given with num_outputs=None (depthwise only)");
    }
    const int64_t out_c = config_.num_outputs ? *config_.num_outputs : mid;
    if (biases && normalizer) throw Error("give biases or a normalizer, not both (the normalizer replaces the bias)");
    AlignedVector<float> b(out_c, 0.0f);
    if (biases) b = copy_weights(*biases, "biases", {out_c});
    if (normalizer) {
        const BatchNorm &bn = *normalizer;
        for (const auto *v : {&bn.gamma, &bn.beta, &bn.mean, &bn.variance}) {
            if (static_cast<int64_t>(v->size()) != out_c) {
                throw Error("batch norm parameters must have " + std::to_string(out_c) +
                            " entries (one per output channel), got " + std::to_string(v->size()));
            }
        }
        if (!(bn.epsilon >= 0)) throw Error("batch norm epsilon must be >= 0, got " + format_float(bn.epsilon));
        // Fold: the scale into the last stage's weights, the shift into the bias.
        for (int64_t o = 0; o < out_c; o++) {
            if (!(bn.variance[o] + bn.epsilon > 0)) {
                throw Error("batch norm variance + epsilon must be > 0 for channel " + std::to_string(o));
            }
            const double scale = bn.gamma[o] / std::sqrt(static_cast<double>(bn.variance[o]) + bn.epsilon);
            b[o] = static_cast<float>(bn.beta[o] - bn.mean[o] * scale);
            if (config_.num_outputs) {
                for (int64_t c = 0; c < mid; c++) pw[c * out_c + o] = static_cast<float>(pw[c * out_c + o] * scale);
            } else {
                // Depthwise only: output channel o = k*M + q is filter column (k, q), every tap.
                for (int64_t tap = 0; tap < k[0] * k[1]; tap++) {
                    dw[tap * mid + o] = static_cast<float>(dw[tap * mid + o] * scale);
                }
            }
        }
    }
    std::optional<PackedPointwiseFilter> packed_pw;
    if (config_.num_outputs) packed_pw.emplace(ConstTensor(pw.data(), pw_shape));
    depthwise_ = {std::move(dw), dw_shape};
    pointwise_ = std::move(packed_pw);
    bias_ = {std::move(b), {out_c}};
}

std::vector<int64_t> ContribSeparableConv2D::output_shape(const std::vector<int64_t> &input_shape) const {
    require_weights(depthwise_, "separable_conv2d");
    return config_.num_outputs
               ? infer_output_shape(Op::Separable, input_shape, depthwise_.shape(), pointwise_->shape(), options_)
               : infer_output_shape(Op::Depthwise, input_shape, depthwise_.shape(), {}, options_);
}

void ContribSeparableConv2D::operator()(const ConstTensor &input, const MutableTensor &output) const {
    require_weights(depthwise_, "separable_conv2d");
    if (config_.num_outputs) {
        separable_conv2d(input, *depthwise_.view(), *pointwise_, bias_.view(), output, options_);
    } else {
        depthwise_conv2d(input, *depthwise_.view(), bias_.view(), output, options_);
    }
}

namespace detail {

OwnedWeights::OwnedWeights(AlignedVector<float> values, std::vector<int64_t> shape)
    : values_(std::move(values)), view_(ConstTensor(values_.data(), std::move(shape), values_.size())) {}

OwnedWeights::OwnedWeights(const OwnedWeights &other) : values_(other.values_) {
    if (other.view_) view_ = ConstTensor(values_.data(), other.view_->shape, values_.size());
}

OwnedWeights &OwnedWeights::operator=(const OwnedWeights &other) {
    if (this != &other) *this = OwnedWeights(other);
    return *this;
}

const std::vector<int64_t> &OwnedWeights::shape() const {
    static const std::vector<int64_t> none;
    return view_ ? view_->shape : none;
}

}  // namespace detail

}  // namespace sepconv
