// The calling convention of the generated kernels (see generators/): one per
// operation, shared by every variant of it.
#pragma once

#include <atomic>

#include "HalideRuntime.h"
#include "sepconv/registry.h"

namespace sepconv::detail {

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

// The generated table (runtime/kernels/, kernel_table.cpp).
extern const KernelEntry kAotKernels[];
extern const int kAotKernelCount;

const KernelEntry &entry_for(const KernelInfo &info);
// The ISA level entry's multi-target library chose on its first call (-1 before).
std::atomic<int> &isa_slot(const KernelEntry &entry);

}  // namespace sepconv::detail
