// Test helpers: random tensors, layout conversion, the tolerance of the spec,
// and the bridge between sepconv's options and the reference's.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "reference.h"
#include "sepconv/ops.h"

namespace sepconv::testing {

inline std::vector<float> random_floats(std::mt19937 &rng, size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float &x : v) x = d(rng);
    return v;
}

// pointwise_conv2d with `filter` ([1, 1, C, O]) as given, or packed first
// into a PackedPointwiseFilter.
inline void pointwise_conv2d_with(bool packed, const ConstTensor &input, const ConstTensor &filter,
                                  const std::optional<ConstTensor> &bias, const MutableTensor &output,
                                  const Conv2DOptions &options = {}) {
    if (packed) {
        pointwise_conv2d(input, PackedPointwiseFilter(filter), bias, output, options);
    } else {
        pointwise_conv2d(input, filter, bias, output, options);
    }
}

// separable_conv2d with `pointwise_filter` ([1, 1, C*M, O]) as given, or
// packed first into a PackedPointwiseFilter.
inline void separable_conv2d_with(bool packed, const ConstTensor &input, const ConstTensor &depthwise_filter,
                                  const ConstTensor &pointwise_filter, const std::optional<ConstTensor> &bias,
                                  const MutableTensor &output, const Conv2DOptions &options = {}) {
    if (packed) {
        separable_conv2d(input, depthwise_filter, PackedPointwiseFilter(pointwise_filter), bias, output, options);
    } else {
        separable_conv2d(input, depthwise_filter, pointwise_filter, bias, output, options);
    }
}

inline std::vector<float> iota_floats(size_t n, float scale = 1.0f) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = scale * static_cast<float>(i + 1);
    return v;
}

// NHWC data [n, h, w, c] to NCHW, and NCHW back to NHWC.
template <typename T>
std::vector<T> nhwc_to_nchw(const std::vector<T> &v, int n, int h, int w, int c) {
    std::vector<T> out(v.size());
    for (int b = 0; b < n; b++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int k = 0; k < c; k++)
                    out[((static_cast<size_t>(b) * c + k) * h + i) * w + j] =
                        v[((static_cast<size_t>(b) * h + i) * w + j) * c + k];
    return out;
}
template <typename T>
std::vector<T> nchw_to_nhwc(const std::vector<T> &v, int n, int h, int w, int c) {
    std::vector<T> out(v.size());
    for (int b = 0; b < n; b++)
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
                for (int k = 0; k < c; k++)
                    out[((static_cast<size_t>(b) * h + i) * w + j) * c + k] =
                        v[((static_cast<size_t>(b) * c + k) * h + i) * w + j];
    return out;
}

// The spec's float32 tolerance: 1e-5 * (1 + max |ref|), scaled by
// sqrt(reduction length) for long reductions.
inline double tolerance(const reference::Tensor &ref, int64_t reduction_length) {
    double max_abs = 0;
    for (double v : ref.data) max_abs = std::max(max_abs, std::abs(v));
    return 1e-5 * (1 + max_abs) * std::sqrt(std::max<double>(1.0, static_cast<double>(reduction_length)));
}

// Compares NHWC results; returns the max abs error.
inline double expect_close(const std::vector<float> &got, const reference::Tensor &ref, double tol,
                           const std::string &what) {
    EXPECT_EQ(got.size(), ref.data.size()) << what;
    double worst = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < std::min(got.size(), ref.data.size()); i++) {
        double e = std::abs(static_cast<double>(got[i]) - ref.data[i]);
        if (!(e <= worst)) {
            worst = e;
            worst_at = i;
        }
    }
    EXPECT_LE(worst, tol) << what << ": worst at flat NHWC index " << worst_at << " got " << got[worst_at]
                          << " want " << ref.data[worst_at];
    return worst;
}

// The activations under test, as sepconv and as the reference spells them.
struct NamedActivation {
    std::string name;
    Activation sepconv;
    reference::Activation reference;
};

inline std::vector<NamedActivation> all_activations() {
    using reference::Act;
    return {
        {"none", Activation::none(), {Act::None}},
        {"relu", Activation::relu(), {Act::Relu}},
        {"relu6", Activation::relu6(), {Act::Relu6}},
        {"relu_n1_to_1", Activation::relu_n1_to_1(), {Act::ReluN1To1}},
        {"clamp(-0.5,0.25)", Activation::clamp(-0.5f, 0.25f), {Act::Clamp, -0.5, 0.25}},
        {"leaky_relu(0.2)", Activation::leaky_relu(0.2f), {Act::LeakyRelu, 0, 0, 0.2}},
    };
}

inline reference::Geometry reference_geometry(const Conv2DOptions &o) {
    reference::Geometry g;
    g.stride_h = static_cast<int>(o.strides[0]);
    g.stride_w = static_cast<int>(o.strides[1]);
    g.rate_h = static_cast<int>(o.dilations[0]);
    g.rate_w = static_cast<int>(o.dilations[1]);
    switch (o.padding.kind) {
    case Padding::Kind::Same: g.pad = reference::Pad::Same; break;
    case Padding::Kind::Valid: g.pad = reference::Pad::Valid; break;
    case Padding::Kind::Explicit:
        g.pad = reference::Pad::Explicit;
        g.top = static_cast<int>(o.padding.top);
        g.bottom = static_cast<int>(o.padding.bottom);
        g.left = static_cast<int>(o.padding.left);
        g.right = static_cast<int>(o.padding.right);
        break;
    }
    return g;
}

}  // namespace sepconv::testing
