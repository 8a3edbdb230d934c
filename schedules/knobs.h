// Named schedule choices ("knobs"). Each schedule reads its tile sizes and
// loop choices through `Knobs::get(name, hand_value)`: unset, a knob takes the
// hand schedule's value (derived from the target); set, it overrides it. The
// autotuner (tools/) searches them, the schedule database (schedules/db/)
// stores them, and every generator takes them as the GeneratorParam
// `knobs`, written "name=value,name=value".
#pragma once

#include <map>
#include <set>
#include <string>

namespace sepconv::schedules {

class Knobs {
public:
    Knobs() = default;
    // Parses "name=value,..." (whitespace-free, integer values). Throws
    // std::invalid_argument naming the malformed entry.
    static Knobs parse(const std::string &text);

    // The value set for `name`, or `hand_value` when it is not set.
    int get(const std::string &name, int hand_value) const;
    bool has(const std::string &name) const { return values_.count(name) != 0; }
    void set(const std::string &name, int value) { values_[name] = value; }

    // Knobs that were set but never read by the schedule: a misspelt or
    // foreign knob must not be ignored silently. Throws std::invalid_argument.
    void check_all_read(const std::string &schedule_name) const;

    // "name=value,..." sorted by name (the inverse of parse).
    std::string str() const;
    const std::map<std::string, int> &values() const { return values_; }

private:
    std::map<std::string, int> values_;
    mutable std::set<std::string> read_;
};

}  // namespace sepconv::schedules
