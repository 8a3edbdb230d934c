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

}  // namespace sepconv::schedules
