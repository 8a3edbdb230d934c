// The generators by their registered names ("depthwise", "pointwise",
// "separable"), for building them inside a process: the JIT (runtime/jit/) and
// the autotuner (tools/tuning/) use the same algorithms the AOT build does.
#pragma once

#include <memory>
#include <string>

#include "Halide.h"

namespace sepconv {

// Throws std::invalid_argument for a name that is not one of the three.
std::unique_ptr<Halide::Internal::AbstractGenerator> create_generator(const std::string &name,
                                                                      const Halide::GeneratorContext &context);

}  // namespace sepconv
