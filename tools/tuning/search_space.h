// The knob search space: one table, knob name -> candidate values, each knob
// tagged with the operations whose schedule reads it and derived from the
// target's facts. Adding a knob the schedules read is one row in
// search_space.cpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "Halide.h"

namespace sepconv::tuning {

// One knob's candidates for a target (the hand value need not be among them:
// the hand schedule is always the search's first candidate, the empty set).
struct KnobRange {
    std::string name;
    std::vector<int> values;
};

// The knobs `op` ("depthwise", "pointwise", "separable") reads on `target`,
// with their candidate values.
std::vector<KnobRange> search_space(const std::string &op, const Halide::Target &target);

// Every knob set in the space, as "name=value,..." strings (Knobs::str()
// order), hand schedule ("") first, then the rest in an order shuffled by
// `seed` (deterministic for a seed).
std::vector<std::string> candidate_knob_sets(const std::vector<KnobRange> &space, unsigned seed);

}  // namespace sepconv::tuning
