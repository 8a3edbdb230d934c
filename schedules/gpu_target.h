// Facts about a GPU target that the GPU schedules size their tiles from.
#pragma once

#include "Halide.h"

namespace sepconv::schedules {

// Threads that execute in lockstep: a CUDA warp. OpenCL does not say; 32 is
// also an AMD RDNA wave and the widest Intel subgroup, so a tile that keeps
// 32 threads on contiguous memory coalesces on all of them.
inline int gpu_warp_size(const Halide::Target &) {
    return 32;
}

// Shared (OpenCL: local) memory one block may use without opting in to more:
// 48 KiB on every CUDA device since Kepler; 32 KiB is the least an OpenCL
// full-profile device may report (CL_DEVICE_LOCAL_MEM_SIZE); 16 KiB elsewhere.
inline int gpu_shared_memory_bytes(const Halide::Target &t) {
    if (t.has_feature(Halide::Target::CUDA)) return 48 * 1024;
    if (t.has_feature(Halide::Target::OpenCL)) return 32 * 1024;
    return 16 * 1024;
}

}  // namespace sepconv::schedules
