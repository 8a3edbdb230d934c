// GPU schedules (CUDA, OpenCL): blocks of threads over the output, each
// thread accumulating a small register tile; the fused depthwise result in
// shared memory.
#pragma once

#include "schedules.h"

namespace sepconv::schedules {

void gpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs);
void gpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs);
void gpu_schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs);

}  // namespace sepconv::schedules
