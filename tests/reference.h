// An independent float64 reference for TensorFlow's depthwise, pointwise and
// separable convolutions: plain loops over NHWC, written from the TF
// definitions. It shares no code with the generators or the runtime, including
// its own output-size and padding computation.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sepconv::reference {

// The activations by their TF names; Clamp and LeakyRelu use lo/hi and alpha.
enum class Act { None, Relu, Relu6, ReluN1To1, Clamp, LeakyRelu };
struct Activation {
    Act kind = Act::None;
    double lo = 0, hi = 0, alpha = 0;
};
double apply(const Activation &a, double v);

enum class Pad { Same, Valid, Explicit };

struct Geometry {
    int stride_h = 1, stride_w = 1;
    int rate_h = 1, rate_w = 1;
    Pad pad = Pad::Valid;
    int top = 0, bottom = 0, left = 0, right = 0;  // Explicit only
};

// A dense NHWC float64 tensor.
struct Tensor {
    std::array<int, 4> shape{};  // n, h, w, c
    std::vector<double> data;
    double at(int n, int h, int w, int c) const {
        return data[((static_cast<size_t>(n) * shape[1] + h) * shape[2] + w) * shape[3] + c];
    }
};

// Output height/width and the padding before them, TF's rules; ok = false
// when TF would reject the shape (output size <= 0).
struct Window {
    int out = 0, pad_before = 0;
    bool ok = false;
};
Window window(int in, int k, int stride, int rate, Pad pad, int before, int after);

// filter is TF's [k_h, k_w, C, M] row-major; bias has C*M entries or is empty.
Tensor depthwise(const Tensor &input, const std::vector<float> &filter, std::array<int, 4> filter_shape,
                 const std::vector<float> &bias, const Geometry &g, const Activation &act);
// weights is TF's [1, 1, C, O] row-major; bias has O entries or is empty.
Tensor pointwise(const Tensor &input, const std::vector<float> &weights, int out_channels,
                 const std::vector<float> &bias, const Activation &act);
Tensor separable(const Tensor &input, const std::vector<float> &dw_filter, std::array<int, 4> dw_shape,
                 const std::vector<float> &pw_weights, int out_channels, const std::vector<float> &bias,
                 const Geometry &g, const Activation &act);

Tensor from_floats(const std::vector<float> &data, std::array<int, 4> nhwc);

}  // namespace sepconv::reference
