// Halide's multi-target libraries ask halide_can_use_target_features() for
// each sub-target in order on their first call, and keep the first accepted.
// This hook caps the answer at SEPCONV_MAX_ISA and notes which level was
// accepted, so the registry can report it per kernel.
#include "sepconv/cpu.h"

#include <cstdlib>
#include <string>

#include "HalideRuntime.h"
#include "cpu_hook.h"
#include "sepconv/error.h"

namespace sepconv {
namespace {

bool has(const uint64_t *features, int count, halide_target_feature_t f) {
    const int word = f / 64;
    return word < count && (features[word] >> (f % 64)) & 1;
}

Isa level_of(int count, const uint64_t *features) {
    if (has(features, count, halide_target_feature_avx512)) return Isa::Avx512;
    if (has(features, count, halide_target_feature_avx2)) return Isa::Avx2;
    if (has(features, count, halide_target_feature_sse41)) return Isa::Sse41;
    return Isa::Baseline;
}

Isa cap_from_environment() {
    const char *env = std::getenv("SEPCONV_MAX_ISA");
    if (!env || !*env) return Isa::Avx512;
    const std::string v(env);
    if (v == "avx512") return Isa::Avx512;
    if (v == "avx2") return Isa::Avx2;
    if (v == "sse41") return Isa::Sse41;
    if (v == "baseline") return Isa::Baseline;
    throw Error("SEPCONV_MAX_ISA must be avx512, avx2, sse41 or baseline, got '" + v + "'");
}

thread_local int accepted_level = -1;
thread_local Isa last = Isa::Baseline;

int capped_can_use_target_features(int count, const uint64_t *features) {
    const Isa level = level_of(count, features);
    // Isa is ordered best first: a level above the cap has a smaller value.
    if (static_cast<int>(level) < static_cast<int>(max_isa())) return 0;
    if (!halide_default_can_use_target_features(count, features)) return 0;
    accepted_level = static_cast<int>(level);
    return 1;
}

}  // namespace

const char *to_string(Isa isa) {
    switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    case Isa::Sse41: return "sse41";
    case Isa::Baseline: return "baseline";
    }
    return "?";
}

Isa max_isa() {
    static const Isa cap = cap_from_environment();
    return cap;
}

Isa last_isa() {
    return last;
}

namespace detail {

void install_isa_hook() {
    max_isa();  // a bad SEPCONV_MAX_ISA is reported here, before any kernel runs
    halide_set_custom_can_use_target_features(capped_can_use_target_features);
}

void before_kernel_call() {
    accepted_level = -1;
}

void after_kernel_call(std::atomic<int> &kernel_isa) {
    if (accepted_level >= 0) kernel_isa.store(accepted_level, std::memory_order_relaxed);
    const int level = kernel_isa.load(std::memory_order_relaxed);
    last = level >= 0 ? static_cast<Isa>(level) : Isa::Baseline;
}

}  // namespace detail
}  // namespace sepconv
