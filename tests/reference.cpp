#include "reference.h"

#include <cstdint>

#include <algorithm>
#include <stdexcept>

namespace sepconv::reference {

double apply(const Activation &a, double v) {
    switch (a.kind) {
    case Act::None: return v;
    case Act::Relu: return v < 0 ? 0 : v;
    case Act::Relu6: return std::min(6.0, std::max(0.0, v));
    case Act::ReluN1To1: return std::min(1.0, std::max(-1.0, v));
    case Act::Clamp: return std::min(a.hi, std::max(a.lo, v));
    case Act::LeakyRelu: return v < 0 ? a.alpha * v : v;
    }
    return v;
}

Window window(int in, int k, int stride, int rate, Pad pad, int before, int after) {
    // In 64 bits: the fuzzer passes strides and rates up to INT_MAX.
    const int64_t effective = int64_t(k - 1) * rate + 1;
    const int64_t padded = int64_t(in) + before + after;
    Window w;
    if (pad == Pad::Valid) {
        w.out = static_cast<int>((in - effective) / stride + 1);
        w.ok = in >= effective;
    } else if (pad == Pad::Same) {
        w.out = static_cast<int>((int64_t(in) + stride - 1) / stride);
        const int64_t total = std::max<int64_t>(0, int64_t(w.out - 1) * stride + effective - in);
        w.pad_before = static_cast<int>(total / 2);
        w.ok = true;
    } else {
        w.out = static_cast<int>((padded - effective) / stride + 1);
        w.pad_before = before;
        w.ok = padded >= effective;
    }
    return w;
}

Tensor from_floats(const std::vector<float> &data, std::array<int, 4> nhwc) {
    Tensor t;
    t.shape = nhwc;
    t.data.assign(data.begin(), data.end());
    return t;
}

namespace {

// The depthwise sum without bias or activation.
Tensor depthwise_sum(const Tensor &in, const std::vector<float> &filter, std::array<int, 4> fs, const Geometry &g) {
    const int N = in.shape[0], H = in.shape[1], W = in.shape[2], C = in.shape[3];
    const int KH = fs[0], KW = fs[1], M = fs[3];
    if (fs[2] != C) throw std::invalid_argument("reference: depth mismatch");
    Window wh = window(H, KH, g.stride_h, g.rate_h, g.pad, g.top, g.bottom);
    Window ww = window(W, KW, g.stride_w, g.rate_w, g.pad, g.left, g.right);
    if (!wh.ok || !ww.ok) throw std::invalid_argument("reference: empty output");
    Tensor out;
    out.shape = {N, wh.out, ww.out, C * M};
    out.data.assign(static_cast<size_t>(N) * wh.out * ww.out * C * M, 0.0);
    size_t o = 0;
    for (int b = 0; b < N; b++)
        for (int i = 0; i < wh.out; i++)
            for (int j = 0; j < ww.out; j++)
                for (int k = 0; k < C; k++)
                    for (int q = 0; q < M; q++, o++) {
                        double s = 0;
                        for (int di = 0; di < KH; di++)
                            for (int dj = 0; dj < KW; dj++) {
                                // 64-bit: strides and rates may be near INT_MAX (the fuzzer).
                                const int64_t r = int64_t(i) * g.stride_h + int64_t(di) * g.rate_h - wh.pad_before;
                                const int64_t c = int64_t(j) * g.stride_w + int64_t(dj) * g.rate_w - ww.pad_before;
                                if (r < 0 || r >= H || c < 0 || c >= W) continue;  // zero padding
                                s += static_cast<double>(filter[((di * KW + dj) * C + k) * M + q]) *
                                     in.at(b, static_cast<int>(r), static_cast<int>(c), k);
                            }
                        out.data[o] = s;
                    }
    return out;
}

void bias_and_activation(Tensor &t, const std::vector<float> &bias, const Activation &act) {
    const int C = t.shape[3];
    for (size_t i = 0; i < t.data.size(); i++) {
        double v = t.data[i] + (bias.empty() ? 0.0 : bias[i % C]);
        t.data[i] = apply(act, v);
    }
}

}  // namespace

Tensor depthwise(const Tensor &input, const std::vector<float> &filter, std::array<int, 4> filter_shape,
                 const std::vector<float> &bias, const Geometry &g, const Activation &act) {
    Tensor t = depthwise_sum(input, filter, filter_shape, g);
    bias_and_activation(t, bias, act);
    return t;
}

Tensor pointwise(const Tensor &in, const std::vector<float> &weights, int O, const std::vector<float> &bias,
                 const Activation &act) {
    const int N = in.shape[0], H = in.shape[1], W = in.shape[2], C = in.shape[3];
    Tensor out;
    out.shape = {N, H, W, O};
    out.data.assign(static_cast<size_t>(N) * H * W * O, 0.0);
    for (int b = 0; b < N; b++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                for (int o = 0; o < O; o++) {
                    double s = 0;
                    for (int c = 0; c < C; c++) s += in.at(b, i, j, c) * static_cast<double>(weights[c * O + o]);
                    out.data[((static_cast<size_t>(b) * H + i) * W + j) * O + o] = s;
                }
    bias_and_activation(out, bias, act);
    return out;
}

Tensor separable(const Tensor &input, const std::vector<float> &dw_filter, std::array<int, 4> dw_shape,
                 const std::vector<float> &pw_weights, int out_channels, const std::vector<float> &bias,
                 const Geometry &g, const Activation &act) {
    return pointwise(depthwise_sum(input, dw_filter, dw_shape, g), pw_weights, out_channels, bias, act);
}

}  // namespace sepconv::reference
