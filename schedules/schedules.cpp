// Picks the schedule family for a target.
#include "schedules.h"

#include "cpu_schedules.h"
#include "gpu_schedules.h"

namespace sepconv::schedules {

void schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &all_knobs) {
    const Knobs knobs = all_knobs.for_target(target);
    if (target.has_gpu_feature()) {
        gpu_schedule_depthwise(p, target, knobs);
    } else {
        cpu_schedule_depthwise(p, target, knobs);
    }
    knobs.check_all_read("depthwise");
}

void schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &all_knobs) {
    const Knobs knobs = all_knobs.for_target(target);
    if (target.has_gpu_feature()) {
        gpu_schedule_pointwise(p, target, knobs);
    } else {
        cpu_schedule_pointwise(p, target, knobs);
    }
    knobs.check_all_read("pointwise");
}

void schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &all_knobs) {
    const Knobs knobs = all_knobs.for_target(target);
    if (target.has_gpu_feature()) {
        gpu_schedule_separable(p, target, knobs);
    } else {
        cpu_schedule_separable(p, target, knobs);
    }
    knobs.check_all_read("separable");
}

}  // namespace sepconv::schedules
