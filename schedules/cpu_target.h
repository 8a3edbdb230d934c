// Facts about a CPU target that the schedules size their tiles from.
#pragma once

#include "Halide.h"

namespace sepconv::schedules {

// Lanes of a float32 vector register (16 on AVX-512, 8 on AVX2, 4 on SSE/NEON).
inline int float_lanes(const Halide::Target &t) {
    return t.natural_vector_size<float>();
}

// Architectural vector registers: 32 on AVX-512 and AArch64 NEON, 16 on AVX/SSE.
inline int vector_registers(const Halide::Target &t) {
    if (t.arch == Halide::Target::ARM && t.bits == 64) return 32;
    if (t.has_feature(Halide::Target::AVX512)) return 32;
    return 16;
}

// Per-core L2 cache bytes the schedules size their task working sets from.
// Halide's Target does not carry cache sizes; 512 KiB is the L2 of AMD Zen 2-4
// and the smallest of recent server x86 cores (Intel Skylake-SP and later have
// 1-2 MiB), and the L2 of Arm Neoverse N1 cores.
inline int l2_cache_bytes(const Halide::Target &) {
    return 512 * 1024;
}

}  // namespace sepconv::schedules
