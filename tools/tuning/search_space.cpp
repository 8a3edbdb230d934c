#include "search_space.h"

#include <algorithm>
#include <random>

#include "knobs.h"

namespace sepconv::tuning {
namespace {

// What a candidate range is derived from.
struct TargetFacts {
    int registers;  // architectural vector registers (16 or 32 on CPUs)
    bool gpu;
};

TargetFacts facts_of(const Halide::Target &t) {
    const bool many = (t.arch == Halide::Target::ARM && t.bits == 64) || t.has_feature(Halide::Target::AVX512);
    return {many ? 32 : 16, t.has_gpu_feature()};
}

// One row per knob: its name (as the schedule reads it), the operations whose
// schedule reads it, and its candidates for a target. CPU knobs are in
// schedules/cpu_schedules.cpp (meaning and hand value in its header comment),
// GPU knobs in schedules/gpu_schedules.cpp.
struct KnobRow {
    const char *name;
    std::vector<std::string> ops;
    bool gpu;
    std::vector<int> (*values)(const TargetFacts &);
};

// Register tiles: accumulators (vectors x columns) must leave registers for
// the operands, so the larger candidates only exist with 32 registers.
std::vector<int> upto_registers(const TargetFacts &f, std::vector<int> v) {
    v.erase(std::remove_if(v.begin(), v.end(), [&](int x) { return x > f.registers; }), v.end());
    return v;
}

const std::vector<KnobRow> &knob_table() {
    static const std::vector<KnobRow> rows = {
        // Depthwise: vectors of channels x columns held in registers. 7 and 14
        // divide MobileNet's widths (no padding columns); on its 14-, 28- and
        // 56-wide layers 7 columns of two vectors took 0.36-0.66x the hand
        // schedule's time (`sepconv tune --try`, one thread, AVX-512).
        {"dw_vectors", {"depthwise"}, false, [](const TargetFacts &f) { return upto_registers(f, {1, 2, 4}); }},
        {"dw_columns", {"depthwise"}, false,
         [](const TargetFacts &f) { return upto_registers(f, {2, 4, 6, 7, 8, 12, 14, 16, 24}); }},
        // A tile of 7 columns taken where it pads less than dw_columns' (0: none).
        {"dw_width_columns", {"depthwise"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 7}; }},
        {"dw_unroll_taps", {"depthwise", "separable"}, false, [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        // The pointwise GEMM tile (1x1 and the fused separable's second stage).
        {"pw_vectors", {"pointwise", "separable"}, false,
         [](const TargetFacts &f) { return f.registers >= 32 ? std::vector<int>{1, 2, 4, 6} : std::vector<int>{1, 2, 3}; }},
        {"pw_columns", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{2, 3, 4, 6, 8}; }},
        {"pw_narrow_columns", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 3, 4}; }},
        {"pw_width_columns", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 7}; }},
        {"pw_few_channel_columns", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 7}; }},
        {"pw_vector_and_a_half", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        // The GEMM epilogue compiled per activation case (1) or the runtime
        // activation inline (0).
        {"pw_activation_cases", {"pointwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        // Depthwise row tasks: rows per task (input rows of the padded strip
        // reused by the next output row), the strip per channel vector or whole.
        {"dw_rows_per_task", {"depthwise"}, false, [](const TargetFacts &) { return std::vector<int>{4, 8, 16}; }},
        {"dw_strip_per_channel_tile", {"depthwise", "separable"}, false,
         [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        {"dw_specialize_dilation", {"depthwise", "separable"}, false, [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        // The taps read a padded-input strip (1) or the input, loops
        // partitioned into interior and border (0).
        {"dw_padded_strip", {"depthwise", "separable"}, false, [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        // Fused separable: a task's whole depthwise intermediate first, in L2
        // (fused_per_task=1), or one row at a time inside the pointwise's row
        // loop (0); the fused depthwise's register tile (channel vectors x columns).
        {"fused_per_task", {"separable"}, false, [](const TargetFacts &) { return std::vector<int>{0, 1}; }},
        {"sep_dw_vectors", {"separable"}, false, [](const TargetFacts &) { return std::vector<int>{1, 2}; }},
        {"sep_dw_columns", {"separable"}, false,
         [](const TargetFacts &f) { return upto_registers(f, {4, 7, 8}); }},
        // GPU thread blocks (schedules/gpu_schedules.cpp): warps per block,
        // outputs per thread, input channels per step of the 1x1's reduction.
        {"gpu_dw_block_warps", {"depthwise"}, true, [](const TargetFacts &) { return std::vector<int>{2, 4, 8}; }},
        {"gpu_dw_per_thread", {"depthwise"}, true, [](const TargetFacts &) { return std::vector<int>{1, 2, 4}; }},
        {"gpu_pw_block_warps", {"pointwise"}, true, [](const TargetFacts &) { return std::vector<int>{2, 4, 8}; }},
        {"gpu_pw_unroll_channels", {"pointwise", "separable"}, true,
         [](const TargetFacts &) { return std::vector<int>{1, 4, 8, 16}; }},
    };
    return rows;
}

}  // namespace

std::vector<KnobRange> search_space(const std::string &op, const Halide::Target &target) {
    const TargetFacts f = facts_of(target);
    std::vector<KnobRange> space;
    for (const KnobRow &row : knob_table()) {
        if (row.gpu != f.gpu || std::find(row.ops.begin(), row.ops.end(), op) == row.ops.end()) continue;
        space.push_back({row.name, row.values(f)});
    }
    return space;
}

std::vector<std::string> candidate_knob_sets(const std::vector<KnobRange> &space, unsigned seed) {
    std::vector<std::string> all;
    std::vector<size_t> index(space.size(), 0);
    for (;;) {
        schedules::Knobs k;
        for (size_t i = 0; i < space.size(); i++) k.set(space[i].name, space[i].values[index[i]]);
        all.push_back(k.str());
        size_t i = 0;
        while (i < space.size() && ++index[i] == space[i].values.size()) index[i++] = 0;
        if (i == space.size()) break;
    }
    std::mt19937 rng(seed);
    std::shuffle(all.begin(), all.end(), rng);
    all.insert(all.begin(), "");
    return all;
}

}  // namespace sepconv::tuning
