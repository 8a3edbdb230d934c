// The calling convention of the generated kernels, and how a program adds its
// own (build-time generated, see sepconv_add_kernels in the README) to the
// registry the operations dispatch through.
#pragma once

#include "sepconv/registry.h"

struct halide_buffer_t;

namespace sepconv {

// One entry point per operation, shared by every variant of it (the
// generators' argument lists, see generators/).
using DepthwiseFn = int (*)(halide_buffer_t *input, halide_buffer_t *filter, halide_buffer_t *bias, int stride_x,
                            int stride_y, int dilation_x, int dilation_y, int pad_left, int pad_top,
                            float activation_min, float activation_max, float leaky_alpha, halide_buffer_t *output);
using PointwiseFn = int (*)(halide_buffer_t *input, halide_buffer_t *weights, halide_buffer_t *bias,
                            float activation_min, float activation_max, float leaky_alpha, halide_buffer_t *output);
using SeparableFn = int (*)(halide_buffer_t *input, halide_buffer_t *depthwise_filter,
                            halide_buffer_t *pointwise_filter, halide_buffer_t *bias, int stride_x, int stride_y,
                            int dilation_x, int dilation_y, int pad_left, int pad_top, float activation_min,
                            float activation_max, float leaky_alpha, halide_buffer_t *output);

// One AOT variant: what it is, and its entry point (the one for info.op).
struct KernelEntry {
    KernelInfo info;
    DepthwiseFn depthwise = nullptr;
    PointwiseFn pointwise = nullptr;
    SeparableFn separable = nullptr;
};

// Adds `count` variants (which must outlive the process's calls, e.g. a
// static table) to the registry. They are preferred over the built-in ones
// of equal specificity, so a program's own specialized kernels run for the
// calls they match. Names must be unique (an Error otherwise). Register
// before calls run on other threads; registering the same table again does
// nothing.
void register_kernels(const KernelEntry *entries, int count);

}  // namespace sepconv
