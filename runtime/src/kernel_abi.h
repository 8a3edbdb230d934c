// The generated kernels as the runtime sees them (sepconv/kernel_table.h).
#pragma once

#include <atomic>

#include "HalideRuntime.h"
#include "sepconv/kernel_table.h"

namespace sepconv::detail {

using sepconv::DepthwiseFn;
using sepconv::KernelEntry;
using sepconv::PointwiseFn;
using sepconv::SeparableFn;

// The generated table (runtime/kernels/, kernel_table.cpp).
extern const KernelEntry kAotKernels[];
extern const int kAotKernelCount;

const KernelEntry &entry_for(const KernelInfo &info);
// The ISA level entry's multi-target library chose on its first call (-1 before).
std::atomic<int> &isa_slot(const KernelEntry &entry);

}  // namespace sepconv::detail
