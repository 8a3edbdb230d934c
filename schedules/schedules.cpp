// Picks the schedule family for a target.
#include "schedules.h"

#include "cpu_schedules.h"
#include "gpu_schedules.h"

namespace sepconv::schedules {

void schedule_depthwise(DepthwisePipeline p, const Halide::Target &target) {
    if (target.has_gpu_feature()) return gpu_schedule_depthwise(p, target);
    cpu_schedule_depthwise(p, target);
}

void schedule_pointwise(PointwisePipeline p, const Halide::Target &target) {
    if (target.has_gpu_feature()) return gpu_schedule_pointwise(p, target);
    cpu_schedule_pointwise(p, target);
}

void schedule_separable(SeparablePipeline p, const Halide::Target &target) {
    if (target.has_gpu_feature()) return gpu_schedule_separable(p, target);
    cpu_schedule_separable(p, target);
}

}  // namespace sepconv::schedules
