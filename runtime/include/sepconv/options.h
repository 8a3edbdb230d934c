// The arguments of a convolution as tf.nn takes them.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace sepconv {

enum class DataFormat { NHWC, NCHW };

// "NHWC" / "NCHW" (also Keras's "channels_last" / "channels_first").
DataFormat parse_data_format(std::string_view name);
const char *to_string(DataFormat f);

// tf.nn's padding: "SAME", "VALID", or explicit amounts for height and width.
struct Padding {
    enum class Kind { Same, Valid, Explicit };
    Kind kind = Kind::Valid;
    int64_t top = 0, bottom = 0, left = 0, right = 0;  // Explicit only

    static Padding same() { return {Kind::Same}; }
    static Padding valid() { return {Kind::Valid}; }
    static Padding explicit_amounts(int64_t top, int64_t bottom, int64_t left, int64_t right) {
        return {Kind::Explicit, top, bottom, left, right};
    }
    // "SAME" or "VALID" (any case); anything else, "causal" included, is an Error.
    static Padding parse(std::string_view name);
    // TF's explicit list: 4 pairs in data-format order,
    // [[0,0],[top,bottom],[left,right],[0,0]] for NHWC,
    // [[0,0],[0,0],[top,bottom],[left,right]] for NCHW.
    static Padding from_list(const std::vector<std::array<int64_t, 2>> &pairs, DataFormat format);
};

// The activation after bias. Every one is leaky_relu(alpha) followed by
// clamp(min, max); the named ones fix alpha and the bounds.
struct Activation {
    float min = -std::numeric_limits<float>::infinity();
    float max = std::numeric_limits<float>::infinity();
    float leaky_alpha = 1.0f;

    static Activation none() { return {}; }
    static Activation relu() { return {0.0f}; }
    static Activation relu6() { return {0.0f, 6.0f}; }
    static Activation relu_n1_to_1() { return {-1.0f, 1.0f}; }
    static Activation clamp(float lo, float hi);
    static Activation leaky_relu(float alpha);
    // "none"/"linear", "relu", "relu6", "relu_n1_to_1"
    static Activation parse(std::string_view name);
};

// Everything about a convolution but its tensors.
struct Conv2DOptions {
    std::array<int64_t, 2> strides{1, 1};    // [s_h, s_w]
    Padding padding = Padding::valid();
    std::array<int64_t, 2> dilations{1, 1};  // [r_h, r_w] (tf.nn's `rate`)
    DataFormat data_format = DataFormat::NHWC;
    Activation activation;
};

// tf.nn's 4-element strides / dilations ([1, s_h, s_w, 1] in NHWC,
// [1, 1, s_h, s_w] in NCHW), checked: batch and channel entries must be 1.
// Dilations may also be given as tf.nn.depthwise_conv2d's [r_h, r_w].
std::array<int64_t, 2> spatial_strides(const std::vector<int64_t> &strides, DataFormat format);
std::array<int64_t, 2> spatial_dilations(const std::vector<int64_t> &dilations, DataFormat format);

}  // namespace sepconv
