// CPU schedules (x86 and ARM): register-tiled, vectorized, parallel.
#pragma once

#include "schedules.h"

namespace sepconv::schedules {

void cpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs);
void cpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs);
void cpu_schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs);

}  // namespace sepconv::schedules
