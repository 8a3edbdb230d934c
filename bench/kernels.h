// The implementations the benchmark times on each layer: ours (through the
// public runtime API, fused and unfused), oneDNN, XNNPACK and a naive loop.
// Each is set up once (weights packed, primitives created) outside the timed
// loop; run() computes the operation's output into `output` (NHWC).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers.h"

namespace sepconv::bench {

class Kernel {
public:
    virtual ~Kernel() = default;
    virtual void run() = 0;
    AlignedVector<float> output;  // 64-byte aligned, as the inputs (layers.h)
};

// The names of the implementations, in the order they are run.
const std::vector<std::string> &implementation_names();

// Sets the thread count every implementation uses from now on (Halide's
// thread pool, OpenMP for oneDNN and the naive loop); XNNPACK takes it at
// make_kernel.
void set_threads(int threads);

// Whether the implementation has a row for this layer and operation (the
// unfused pair only for the separable, the per-layer kernels only for the
// depthwise of the layers they were generated for).
bool runs(const std::string &implementation, const Layer &layer, Operation op);

// nullptr when the implementation does not run this operation (runs() is
// false).
std::unique_ptr<Kernel> make_kernel(const std::string &implementation, const Layer &layer, Operation op,
                                    std::shared_ptr<const LayerData> data, int threads);

}  // namespace sepconv::bench
