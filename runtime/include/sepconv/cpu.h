// The CPU the kernels run on: the instruction set the multi-target AOT
// kernels use, and the threads their parallel loops run on.
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

// The threads a kernel call's parallel loops run on (the calling thread is
// one of them), for AOT and JIT kernels alike. Default: $HL_NUM_THREADS,
// else one per logical processor. The pool's workers spin a while after a
// loop before they sleep, as XNNPACK's and OpenMP's do, so back-to-back
// calls on small layers do not pay a wake-up each. A call that finds the
// pool busy with another thread's call runs its loops on its own thread.
// Also sizes Halide's pool (halide_set_num_threads). Throws
// std::invalid_argument for threads < 1; waits for a call in flight.
void set_num_threads(int threads);
int num_threads();

}  // namespace sepconv
