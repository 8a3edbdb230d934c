// How the sepconv pipelines are computed. The generators (generators/) build
// the algorithm and hand its named stages here; nothing in this folder changes
// what is computed, only the loop structure, vectorization, parallelism and
// where intermediates live.
#pragma once

#include "Halide.h"
#include "algorithm.h"
#include "knobs.h"

#include <vector>

namespace sepconv::schedules {

// A depthwise convolution as the generator built it.
struct DepthwisePipeline {
    Halide::Func output;     // in `layout`
    Halide::Func depthwise;  // accumulator (c, x, y, n): bias, then one update over `taps`
    Halide::RDom taps;
    Layout layout;
    bool taps_known;         // kernel size is a compile-time constant (taps can be unrolled)
    Halide::Expr multiplier; // a constant in specialized variants
    Halide::Expr dilation_x, dilation_y;  // runtime inputs
    Halide::Expr out_channels, out_width;
    // Where the output's activation simplifies (activation_special_cases in
    // generators/algorithm.h), most specific first; empty: nothing to specialize.
    std::vector<Halide::Expr> activation_cases = {};
};

// A 1x1 convolution as the generator built it.
struct PointwisePipeline {
    Halide::Func output;     // in `layout`
    Halide::Func pointwise;  // accumulator (c, x, y, n): bias, then one update over `channels`
    Halide::RDom channels;
    Layout layout;
    Halide::Expr out_channels, out_width;
    bool packed_weights = false;  // PointwiseWeights::Packed (generators/algorithm.h)
    // The activation of `pointwise` (c, x, y, n), which the output stores, and
    // where it simplifies (as in DepthwisePipeline).
    Halide::Func activated;
    std::vector<Halide::Expr> activation_cases = {};
};

// Depthwise feeding pointwise. `depthwise` has no bias (the pointwise bias
// covers both) and can be fused into the pointwise loop nest.
struct SeparablePipeline {
    Halide::Func output;
    Halide::Func depthwise;
    Halide::RDom taps;
    Halide::Func pointwise;
    Halide::RDom channels;
    Layout layout;
    bool taps_known;
    Halide::Expr multiplier;
    Halide::Expr dilation_x, dilation_y;  // runtime inputs
    Halide::Expr mid_channels;  // C * M
    Halide::Expr out_channels, out_width;
    bool packed_weights = false;  // PointwiseWeights::Packed (generators/algorithm.h)
    // The activation of `pointwise` (c, x, y, n), which the output stores, and
    // where it simplifies (as in DepthwisePipeline).
    Halide::Func activated;
    std::vector<Halide::Expr> activation_cases = {};
};

// Schedule a pipeline for `target` (dispatching on CPU / GPU), with the hand
// schedule's choices overridden by `knobs` (knobs.h). Pipelines are taken by
// value: Funcs are handles, and scheduling mutates them. A knob the schedule
// does not read is an error.
void schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs = {});
void schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs = {});
void schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs = {});

}  // namespace sepconv::schedules
