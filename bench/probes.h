// The machine's measured roofs, taken in the same run as the kernels:
// a STREAM-style triad (a = b + s*c over arrays far larger than the last-level
// cache) and a peak-FLOP probe (independent FMA chains in the widest vector
// registers the CPU has), each for a given number of threads.
#pragma once

namespace sepconv::bench {

struct Roof {
    double stream_gbs = 0;   // triad, counting 3 arrays of 4-byte floats as STREAM does
    double peak_gflops = 0;  // 2 flops per FMA lane
};

// Best of `trials` runs each, timed by each thread's CPU time (see probes.cpp).
Roof measure_roof(int threads, int trials = 5);

// The vector ISA the peak probe used ("avx512", "avx2", "sse").
const char *peak_isa();

}  // namespace sepconv::bench
