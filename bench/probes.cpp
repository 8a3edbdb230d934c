#include "probes.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <ctime>
#include <vector>

namespace sepconv::bench {
namespace {

// CPU time of the calling thread: on a shared, loaded machine the wall clock
// counts other processes' time slices; each probe thread's own CPU time does not.
double thread_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// 32 Mi floats per array (128 MiB): 4x a 32 MiB last-level cache, as STREAM's
// rule asks, and large for any L3 of the machines this runs on.
constexpr size_t kStreamElements = size_t(32) << 20;

double triad_gbs(int threads, int trials) {
    std::vector<float> a(kStreamElements), b(kStreamElements, 1.0f), c(kStreamElements, 2.0f);
    const long n = long(kStreamElements);
    double best = 0;
    for (int t = 0; t < trials; t++) {
        double seconds = 0;
#pragma omp parallel num_threads(threads) reduction(max : seconds)
        {
            const double t0 = thread_seconds();
#pragma omp for schedule(static)
            for (long i = 0; i < n; i++) a[i] = b[i] + 3.0f * c[i];
            seconds = thread_seconds() - t0;
        }
        best = std::max(best, 3.0 * 4.0 * double(n) / seconds * 1e-9);
    }
    return best;
}

// FMA latency (4 cycles) x 2 FMA ports needs >= 8 independent accumulators;
// 12 fit in the 16 registers of AVX2 with room for the multiplicands.
// Each probe is written out per ISA (intrinsics in a function compiled for
// it) so the accumulators stay in registers.
constexpr long kIterations = 4'000'000;

#define SEPCONV_FMA_PROBE(NAME, TARGET, VEC, SET, FMA, LANES)                                  \
    __attribute__((target(TARGET))) double NAME() {                                           \
        VEC a0 = SET(0), a1 = SET(1), a2 = SET(2), a3 = SET(3), a4 = SET(4), a5 = SET(5);     \
        VEC a6 = SET(6), a7 = SET(7), a8 = SET(8), a9 = SET(9), a10 = SET(10), a11 = SET(11); \
        const VEC m = SET(0.999999f), b = SET(1e-7f);                                         \
        for (long it = 0; it < kIterations; it++) {                                           \
            a0 = FMA(a0, m, b); a1 = FMA(a1, m, b); a2 = FMA(a2, m, b); a3 = FMA(a3, m, b);   \
            a4 = FMA(a4, m, b); a5 = FMA(a5, m, b); a6 = FMA(a6, m, b); a7 = FMA(a7, m, b);   \
            a8 = FMA(a8, m, b); a9 = FMA(a9, m, b); a10 = FMA(a10, m, b); a11 = FMA(a11, m, b); \
            __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3));                    \
        }                                                                                     \
        VEC sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;                \
        volatile float sink = sum[0];                                                         \
        (void)sink;                                                                           \
        return 2.0 * LANES * 12 * double(kIterations);                                        \
    }

#define SEPCONV_MADD128(a, b, c) _mm_add_ps(_mm_mul_ps(a, b), c)
SEPCONV_FMA_PROBE(run512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
SEPCONV_FMA_PROBE(run256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
SEPCONV_FMA_PROBE(run128, "sse2", __m128, _mm_set1_ps, SEPCONV_MADD128, 4)

double peak_gflops(int threads, int trials) {
    double (*probe)() = __builtin_cpu_supports("avx512f") ? run512 : __builtin_cpu_supports("fma") ? run256 : run128;
    double best = 0;
    for (int t = 0; t < trials; t++) {
        double total = 0, seconds = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total) reduction(max : seconds)
        {
            const double t0 = thread_seconds();
            total += probe();
            seconds = thread_seconds() - t0;
        }
        best = std::max(best, total / seconds * 1e-9);
    }
    return best;
}

}  // namespace

const char *peak_isa() {
    return __builtin_cpu_supports("avx512f") ? "avx512" : __builtin_cpu_supports("fma") ? "avx2" : "sse";
}

Roof measure_roof(int threads, int trials) {
    return {triad_gbs(threads, trials), peak_gflops(threads, trials)};
}

}  // namespace sepconv::bench
