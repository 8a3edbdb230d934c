// Picks the schedule family for a target.
#include "schedules.h"

#include "cpu_schedules.h"

namespace sepconv::schedules {

void schedule_depthwise(DepthwisePipeline p, const Halide::Target &target) {
    cpu_schedule_depthwise(p, target);
}

void schedule_pointwise(PointwisePipeline p, const Halide::Target &target) {
    cpu_schedule_pointwise(p, target);
}

void schedule_separable(SeparablePipeline p, const Halide::Target &target) {
    cpu_schedule_separable(p, target);
}

}  // namespace sepconv::schedules
