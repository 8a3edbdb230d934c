// Which instruction set the multi-target AOT kernels use.
#pragma once

namespace sepconv {

// The x86 instruction-set levels the AOT kernels are generated for (each a
// sub-target of a multi-target library), best first. Other CPUs have one
// level, Baseline.
enum class Isa { Avx512, Avx2, Sse41, Baseline };
const char *to_string(Isa isa);

// The cap on the level kernels may use, from the environment variable
// SEPCONV_MAX_ISA=avx512|avx2|sse41|baseline (default: no cap, the best the
// CPU runs). Halide picks a multi-target library's sub-target on its first
// call and keeps it, so the cap is a per-process setting.
Isa max_isa();

// The level the calling thread's last kernel runs at.
Isa last_isa();

}  // namespace sepconv
