// The math shared by the sepconv generators: layouts, zero padding, the
// depthwise and pointwise reductions, and the activations. Algorithm only:
// nothing here says how anything is computed (see schedules/).
#pragma once

#include "Halide.h"

#include <limits>
#include <map>
#include <string>
#include <vector>

namespace sepconv {

// How a 4-D activation tensor is laid out in memory. Halide lists dimensions
// innermost first, so TF's NHWC [batch, height, width, channels] is the Halide
// buffer [channels, width, height, batch], and NCHW is [width, height, channels, batch].
enum class Layout { NHWC, NCHW };

inline const std::map<std::string, Layout> layout_names = {
    {"nhwc", Layout::NHWC},
    {"nchw", Layout::NCHW},
};

// Which activation follows the bias. `runtime` reads activation_min,
// activation_max and leaky_alpha at run time, which covers all the others:
//   none:          alpha = 1, [-inf, inf]      relu:         alpha = 1, [0, inf]
//   relu6:         alpha = 1, [0, 6]           relu_n1_to_1: alpha = 1, [-1, 1]
//   clamp(lo, hi): alpha = 1, [lo, hi]         leaky_relu:   alpha,     [-inf, inf]
// The named ones bake their constants in, for variants that are generated
// for one activation.
enum class Activation { Runtime, None, Relu, Relu6, ReluN1To1 };

inline const std::map<std::string, Activation> activation_names = {
    {"runtime", Activation::Runtime},
    {"none", Activation::None},
    {"relu", Activation::Relu},
    {"relu6", Activation::Relu6},
    {"relu_n1_to_1", Activation::ReluN1To1},
};

// The runtime activation parameters every generator takes, so all variants of
// an operation share one calling convention.
struct ActivationInputs {
    Halide::Expr min, max, leaky_alpha;
};

inline Halide::Expr activate(Halide::Expr v, Activation kind, const ActivationInputs &p) {
    using Halide::Expr;
    switch (kind) {
    case Activation::None:
        return v;
    case Activation::Relu:
        return Halide::max(v, 0.0f);
    case Activation::Relu6:
        return Halide::clamp(v, 0.0f, 6.0f);
    case Activation::ReluN1To1:
        return Halide::clamp(v, -1.0f, 1.0f);
    case Activation::Runtime:
        break;
    }
    // leaky_relu(alpha) then clamp(min, max); alpha = 1 makes the first a no-op.
    Expr leaky = Halide::select(v < 0.0f, v * p.leaky_alpha, v);
    return Halide::min(Halide::max(leaky, p.min), p.max);
}

// Conditions on the runtime activation's parameters under which activate()
// simplifies, most specific first: the identity (alpha = 1, [-inf, inf]: no
// activation), then a clamp alone (alpha = 1: relu, relu6, ...). Halide
// substitutes a condition's equalities into a specialization's definition, so
// a schedule that specializes on these compiles the cheaper activation. Empty
// for the named activations, which are constants already.
inline std::vector<Halide::Expr> activation_special_cases(Activation kind, const ActivationInputs &p) {
    if (kind != Activation::Runtime) return {};
    const float inf = std::numeric_limits<float>::infinity();
    const Halide::Expr clamp_only = p.leaky_alpha == 1.0f;
    return {clamp_only && p.min == -inf && p.max == inf, clamp_only};
}

// A view of an activation tensor indexed (c, x, y, n) whatever its layout.
inline Halide::Func channels_x_y_batch(const Halide::Func &tensor, Layout layout, const std::string &name) {
    Halide::Var c("c"), x("x"), y("y"), n("n");
    Halide::Func view(name);
    if (layout == Layout::NHWC) {
        view(c, x, y, n) = tensor(c, x, y, n);
    } else {
        view(c, x, y, n) = tensor(x, y, c, n);
    }
    return view;
}

// The input seen through zero padding in x and y (TF pads with zeros; the
// channel and batch dimensions are never padded): a select over a clamped
// read, one select per dimension, with the in-bounds values and coordinates
// marked likely as in BoundaryConditions. A loop that reads the padded input
// inline is then partitioned (Halide's loop partitioning) into the image's
// interior, where the read is a plain load, and its border; one condition
// per select, because a condition on both x and y cannot be solved for the
// column loop or the row loop alone and no loop was partitioned.
inline Halide::Func zero_padded(const Halide::Func &input, Halide::Expr width, Halide::Expr height) {
    using Halide::likely;
    Halide::Var c("c"), x("x"), y("y"), n("n");
    Halide::Func padded("zero_padded");
    Halide::Expr value = input(c, Halide::clamp(likely(x), 0, width - 1), Halide::clamp(likely(y), 0, height - 1), n);
    Halide::Expr in_row = Halide::select(x >= 0 && x < width, likely(value), 0.0f);
    padded(c, x, y, n) = Halide::select(y >= 0 && y < height, likely(in_row), 0.0f);
    return padded;
}

// The geometry of a depthwise convolution; each field is either a constant
// (a specialized variant) or a runtime parameter.
struct DepthwiseGeometry {
    Halide::Expr kernel_w, kernel_h;      // taps
    Halide::Expr multiplier;              // M
    Halide::Expr stride_x, stride_y;
    Halide::Expr dilation_x, dilation_y;
    Halide::Expr pad_left, pad_top;       // padding before the first input column/row
};

// out(k*M + q, x, y, n) = bias(k*M + q) + sum_{tx, ty} filter(q, k, tx, ty) *
//     padded(k, x*stride_x + tx*dilation_x - pad_left, y*stride_y + ty*dilation_y - pad_top, n)
// filter is TF's [k_h, k_w, C, M] seen by Halide as [M, C, k_w, k_h].
// The result has a pure definition (the bias) and one update (the taps), so a
// schedule can keep the accumulator in registers. `taps` is returned to name
// the reduction in schedules.
struct DepthwiseStage {
    Halide::Func result;
    Halide::RDom taps;
};

inline DepthwiseStage depthwise(const Halide::Func &padded, const Halide::Func &filter, const Halide::Func &bias,
                                const DepthwiseGeometry &g) {
    using Halide::Expr;
    Halide::Var c("c"), x("x"), y("y"), n("n");
    Halide::RDom taps(0, g.kernel_w, 0, g.kernel_h, "taps");
    Expr k = c / g.multiplier;  // input channel
    Expr q = c % g.multiplier;  // which of its M filters
    Halide::Func result("depthwise");
    result(c, x, y, n) = bias(c);
    result(c, x, y, n) += filter(q, k, taps.x, taps.y) *
                          padded(k,
                                 x * g.stride_x + taps.x * g.dilation_x - g.pad_left,
                                 y * g.stride_y + taps.y * g.dilation_y - g.pad_top,
                                 n);
    return {result, taps};
}

// How the pointwise weights are laid out in memory. `tf`: TF's
// [1, 1, C_in, C_out], seen by Halide as [C_out, C_in]. `packed`: packed once
// for repeated calls (sepconv::PackedPointwiseFilter), C_out a multiple of
// kPackedOutputChannels, in blocks of 16 output channels with each block's
// C_in x 16 weights contiguous: row-major [C_out / 16][C_in][16]; seen by
// Halide as [16 * C_in, C_out / 16]. A register tile of output channels then
// reads one contiguous run per block and input channel, where TF's rows are
// C_out floats apart (see the schedules' weight panels).
enum class PointwiseWeights { TF, Packed };

inline const std::map<std::string, PointwiseWeights> pointwise_weights_names = {
    {"tf", PointwiseWeights::TF},
    {"packed", PointwiseWeights::Packed},
};

// The packed layout's block: the float lanes of an AVX-512 vector (AVX2's 8
// and NEON's 4 divide it).
constexpr int kPackedOutputChannels = 16;

// The weights indexed (output channel, input channel) whatever their layout.
inline Halide::Func pointwise_weights(const Halide::Func &weights, PointwiseWeights layout) {
    Halide::Var o("o"), i("i");
    Halide::Func w("pointwise_weights");
    if (layout == PointwiseWeights::TF) {
        w(o, i) = weights(o, i);
    } else {
        constexpr int b = kPackedOutputChannels;
        w(o, i) = weights(i * b + o % b, o / b);
    }
    return w;
}

// out(o, x, y, n) = bias(o) + sum_c weights(o, c) * input(c, x, y, n)
// weights indexed (output channel, input channel) (pointwise_weights).
struct PointwiseStage {
    Halide::Func result;
    Halide::RDom channels;
};

inline PointwiseStage pointwise(const Halide::Func &input, const Halide::Func &weights, const Halide::Func &bias,
                                Halide::Expr in_channels) {
    Halide::Var c("c"), x("x"), y("y"), n("n");
    Halide::RDom r(0, in_channels, "r_channels");
    Halide::Func result("pointwise");
    result(c, x, y, n) = bias(c);
    result(c, x, y, n) += weights(c, r) * input(r, x, y, n);
    return {result, r};
}

// Writes `result`, indexed (c, x, y, n), into an output of the given layout.
inline void store_in_layout(Halide::Func output, const Halide::Func &result, Layout layout) {
    Halide::Var c("c"), x("x"), y("y"), n("n");
    if (layout == Layout::NHWC) {
        output(c, x, y, n) = result(c, x, y, n);
    } else {
        output(x, y, c, n) = result(c, x, y, n);
    }
}

}  // namespace sepconv
