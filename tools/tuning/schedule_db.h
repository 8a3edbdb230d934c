// The schedule database (schedules/db/*.json): tuned knobs per target class
// and shape class, with what they were measured against. Human-readable
// JSON; cmake/SepconvKernels.cmake reads the same file with string(JSON).
//
// {
//   "format": "sepconv-schedule-db/1",
//   "entries": {
//     "<op>/<variant>/<target class>": {      e.g. "separable/3x3m1s1_nhwc/avx2"
//       "op", "variant", "target_class", "target",
//       "schedule_fingerprint": schedule sources the knobs were tuned on,
//       "knobs": {"name": value, ...}       (empty: the hand schedule won),
//       "default_ms" / "tuned_ms": per-layer medians, same process, interleaved,
//       "speedup": geomean over the layers of default / tuned,
//       "noise": the relative noise the acceptance threshold used,
//       "layers": [{"suite", "layer", "shape", "default_ms", "tuned_ms"}, ...],
//       "baselines": [{"name", "geomean_ratio_vs_default" | "error"}, ...],
//       "candidates_tried", "candidates_rejected", "tuning_seconds"
//     }
//   }
// }
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sepconv::tuning {

struct LayerTime {
    std::string suite, layer, shape;
    double default_ms = 0, tuned_ms = 0;
};

struct Baseline {
    std::string name;        // e.g. "autoscheduler Mullapudi2016"
    double ratio = 0;        // geomean time / default time (0 when it failed)
    std::string error;       // why it has no time
};

struct DbEntry {
    std::string op, variant, target_class, target;
    std::string schedule_fingerprint;
    std::map<std::string, int> knobs;  // the tuned values; empty = the hand schedule
    double speedup = 1;                // geomean default / tuned
    double noise = 0;
    std::vector<LayerTime> layers;
    std::vector<Baseline> baselines;
    int candidates_tried = 0, candidates_rejected = 0;
    double tuning_seconds = 0;

    std::string key() const { return op + "/" + variant + "/" + target_class; }
    // The knobs as the generators take them ("name=value,...").
    std::string knob_string() const;
};

class ScheduleDb {
public:
    // An empty database when `path` does not exist; throws std::runtime_error
    // naming the file on a parse error or a wrong format.
    static ScheduleDb load(const std::string &path);
    void save(const std::string &path) const;  // written to a temporary file, then renamed

    void put(const DbEntry &entry) { entries_[entry.key()] = entry; }
    const DbEntry *find(const std::string &key) const;
    const std::map<std::string, DbEntry> &entries() const { return entries_; }

    std::string to_json() const;
    static ScheduleDb from_json(const std::string &text);

private:
    std::map<std::string, DbEntry> entries_;
};

}  // namespace sepconv::tuning
