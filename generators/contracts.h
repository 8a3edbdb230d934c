// What the three generators share beyond the math: which Halide dimension of
// an activation tensor holds channels, columns and rows; the buffer contracts
// (layouts stated as requirements on the buffers); the geometry of a
// (possibly specialized) depthwise stage; and the autoscheduler estimates.
// The generators declare the same-named GeneratorParams and Inputs
// (`input`, `output`, `bias`, `activation_min`, ..., and for the depthwise
// part `kernel_w`, `stride`, `stride_x`, `dilation_x`, `pad_left`, ...), so
// these take the generator itself.
#pragma once

#include "Halide.h"
#include "algorithm.h"

namespace sepconv {

// Halide dimensions of a 4-D activation tensor (batch is always 3).
struct TensorDims {
    int c, x, y;
};

inline TensorDims tensor_dims(Layout layout) {
    return layout == Layout::NHWC ? TensorDims{0, 1, 2} : TensorDims{2, 0, 1};
}

// The depthwise geometry: constants where the variant is specialized
// (GeneratorParam > 0), the filter's extents and runtime Inputs otherwise.
template <typename Generator, typename Filter>
DepthwiseGeometry depthwise_geometry(const Generator &g, const Filter &filter) {
    using Halide::Expr;
    DepthwiseGeometry geometry;
    geometry.kernel_w = g.kernel_w > 0 ? Expr(g.kernel_w) : filter.dim(2).extent();
    geometry.kernel_h = g.kernel_h > 0 ? Expr(g.kernel_h) : filter.dim(3).extent();
    geometry.multiplier = g.multiplier > 0 ? Expr(g.multiplier) : filter.dim(0).extent();
    geometry.stride_x = g.stride > 0 ? Expr(g.stride) : Expr(g.stride_x);
    geometry.stride_y = g.stride > 0 ? Expr(g.stride) : Expr(g.stride_y);
    geometry.dilation_x = g.dilation_x;
    geometry.dilation_y = g.dilation_y;
    geometry.pad_left = g.pad_left;
    geometry.pad_top = g.pad_top;
    return geometry;
}

// True when the taps are compile-time constants (the schedule may unroll them).
template <typename Generator>
bool taps_known(const Generator &g) {
    return g.kernel_w > 0 && g.kernel_h > 0;
}

// Layout contract of a depthwise filter: dense [M, C, k_w, k_h] from 0, its
// extents fixed where the variant is specialized.
template <typename Generator, typename Filter>
void require_depthwise_filter(const Generator &g, Filter &filter) {
    filter.dim(0).set_min(0);
    filter.dim(1).set_min(0).set_stride(filter.dim(0).extent());
    filter.dim(2).set_min(0);
    filter.dim(3).set_min(0);
    if (g.kernel_w > 0) filter.dim(2).set_extent(g.kernel_w);
    if (g.kernel_h > 0) filter.dim(3).set_extent(g.kernel_h);
    if (g.multiplier > 0) filter.dim(0).set_extent(g.multiplier);
}

// Layout contract of packed pointwise weights (PointwiseWeights::Packed,
// [16 * C_in, C_out / 16]): dense from 0, and the output's channels exactly
// the weights' blocks of 16. Stated as the output's extent, the kernel's body
// reads C_out as weights.extent.1 * 16, so every output-channel tile
// (ShiftInwards) starts on a block and each of its weight vectors is one
// dense load. (Specialized on C_out % 16 == 0 instead, the condition reached
// the simplifier as a flag, Halide's skip-stages pass having named it: the
// tiles of 2, 3 and 6 channel vectors loaded their weights lane by lane.)
template <typename Generator, typename Weights>
void require_packed_pointwise_weights(Generator &g, Weights &weights) {
    weights.dim(0).set_min(0);
    weights.dim(1).set_min(0).set_stride(weights.dim(0).extent());
    const int c = tensor_dims(g.layout).c;
    g.output.dim(c).set_extent(weights.dim(1).extent() * kPackedOutputChannels);
}

// Activation tensors start at 0 in every dimension (strides are free: NHWC
// and NCHW views of larger tensors work); the bias starts at 0 and may be a
// broadcast zero (stride 0) when there is none.
template <typename Generator>
void require_tensors_from_zero(Generator &g) {
    for (int d = 0; d < 4; d++) {
        g.input.dim(d).set_min(0);
        g.output.dim(d).set_min(0);
    }
    g.bias.dim(0).set_min(0).set_stride(Halide::Expr());
}

// Layout contract of a variant specialized on its input's channel count
// (GeneratorParam channels > 0; NHWC only): the input has exactly that many
// channels, the depthwise filter too, the output `out_channels` (the
// depthwise's channels * multiplier, the separable's pointwise outputs), and
// both tensors' columns are dense (column stride = channel count). A tile's
// taps are then constant offsets from one address, not multiples of a
// runtime stride held in registers (or spilled: bench/results item 35).
template <typename Generator, typename Filter>
void require_channels(Generator &g, Filter &filter, const Halide::Expr &out_channels) {
    if (g.channels <= 0) return;
    if (g.layout != Layout::NHWC) {
        throw Halide::CompileError("channels=" + std::to_string(int(g.channels)) +
                                   " needs layout=nhwc (an NCHW tensor's columns are not channels apart)");
    }
    g.input.dim(0).set_extent(g.channels);
    g.input.dim(1).set_stride(g.channels);
    filter.dim(1).set_extent(g.channels);
    g.output.dim(0).set_extent(out_channels);
    g.output.dim(1).set_stride(out_channels);
}

// Autoscheduler estimates of a [channels, width, height, batch 1] tensor.
template <typename Tensor>
void estimate_tensor(Tensor &t, Layout layout, int channels, int width, int height) {
    const TensorDims d = tensor_dims(layout);
    t.dim(d.c).set_estimate(0, channels);
    t.dim(d.x).set_estimate(0, width);
    t.dim(d.y).set_estimate(0, height);
    t.dim(3).set_estimate(0, 1);
}

// Estimates of the runtime activation parameters: relu6.
template <typename Generator>
void estimate_relu6(Generator &g) {
    g.activation_min.set_estimate(0.0f);
    g.activation_max.set_estimate(6.0f);
    g.leaky_alpha.set_estimate(1.0f);
}

// Estimates of the runtime depthwise geometry: undilated, the given stride and padding.
template <typename Generator>
void estimate_depthwise_geometry(Generator &g, int stride, int pad) {
    g.stride_x.set_estimate(stride);
    g.stride_y.set_estimate(stride);
    g.dilation_x.set_estimate(1);
    g.dilation_y.set_estimate(1);
    g.pad_left.set_estimate(pad);
    g.pad_top.set_estimate(pad);
}

}  // namespace sepconv
