// Named schedule choices ("knobs"). Each schedule reads its tile sizes and
// loop choices through `Knobs::get(name, hand_value)`: unset, a knob takes the
// hand schedule's value (derived from the target); set, it overrides it. The
// autotuner (tools/) searches them, the schedule database (schedules/db/)
// stores them, and every generator takes them as the GeneratorParam
// `knobs`, written "name=value,name=value".
//
// An entry may be qualified by a target class, "avx2.dw_columns=4": it then
// applies only to targets of that class (target_class()), so one knob string
// serves every sub-target of a multi-target AOT library, each with its own
// tuned values.
#pragma once

#include <map>
#include <set>
#include <string>

namespace Halide {
struct Target;
}

namespace sepconv::schedules {

// The class of a target the schedule database keys tuned knobs by: the GPU
// API ("cuda", "opencl", "metal", ...) for GPU targets, else the x86 ISA level
// ("avx512", "avx2", "sse41", "x86") or the ARM word size ("arm64", "arm32").
std::string target_class(const Halide::Target &target);

class Knobs {
public:
    Knobs() = default;
    // Parses "name=value,..." (whitespace-free, integer values; "name:value"
    // too, the form for a generator's command line, where Halide's GenGen
    // refuses a second '=' in an argument). Throws
    // std::invalid_argument naming the malformed entry.
    static Knobs parse(const std::string &text);

    // The value set for `name`, or `hand_value` when it is not set.
    int get(const std::string &name, int hand_value) const;
    bool has(const std::string &name) const { return values_.count(name) != 0; }
    void set(const std::string &name, int value) { values_[name] = value; }

    // Knobs that were set but never read by the schedule: a misspelt or
    // foreign knob must not be ignored silently. Throws std::invalid_argument.
    void check_all_read(const std::string &schedule_name) const;

    // The knobs for `target`: unqualified entries and those qualified by its
    // target_class() (qualifier removed; they win over unqualified ones).
    // Entries for other classes are dropped. Throws std::invalid_argument for
    // a qualifier that is not a target class.
    Knobs for_target(const Halide::Target &target) const;

    // "name=value,..." sorted by name (the inverse of parse).
    std::string str() const;
    const std::map<std::string, int> &values() const { return values_; }

private:
    std::map<std::string, int> values_;
    mutable std::set<std::string> read_;
};

}  // namespace sepconv::schedules
