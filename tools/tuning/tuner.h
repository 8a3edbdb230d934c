// The autotuner behind `sepconv tune`: for each shape class (one AOT kernel
// variant and the benchmark layers it runs), searches the schedule knobs by
// compiling candidates in this process with libHalide's JIT, rejecting any
// whose output differs from the float64 reference, and timing the rest
// against the hand schedule, interleaved.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "Halide.h"
#include "schedule_db.h"

namespace sepconv::tuning {

// One row of /work/shared/bench/shapes.csv (the depthwise stage of a
// separable pair and the pointwise output channels; out_c 0: depthwise only).
struct Layer {
    std::string suite, name;
    int in_h = 0, in_w = 0, in_c = 0, k_h = 0, k_w = 0, stride = 1, dilation = 1, multiplier = 1, out_c = 0;
    std::string padding;  // SAME or VALID
};

// The layers of `suites` (all when empty). Throws std::runtime_error naming
// the file and line of a malformed row.
std::vector<Layer> read_shapes(const std::string &csv_path, const std::vector<std::string> &suites = {});

// One AOT kernel variant and the layers it serves: what is tuned as a unit.
struct ShapeClass {
    std::string op;       // the generator: depthwise, pointwise, separable
    std::string variant;  // as in the AOT kernel name: 3x3m1s1_nhwc, 5x5m1_nhwc, generic_nhwc, nhwc (pointwise),
                          // packed_nhwc, packed_3x3m1s1_nhwc (a PackedPointwiseFilter)
    std::map<std::string, std::string> params;  // the variant's GeneratorParams
    std::vector<Layer> layers;
};

// Groups the layers by the variant each of `ops` would run them in (NHWC):
// a layer gives a depthwise, a pointwise (when out_c > 0) and a separable
// (when out_c > 0) problem. The specialized variants mirror
// runtime/kernels/CMakeLists.txt. The 1x1 and the separable are tuned for
// each of `weights` ("tf": TF's filter; "packed": a PackedPointwiseFilter,
// variants named packed_<variant> as the AOT kernels, for the layers whose
// out_c is whole blocks of 16): separate kernels, separate knobs.
std::vector<ShapeClass> shape_classes(const std::vector<Layer> &layers, const std::vector<std::string> &ops,
                                      const std::vector<std::string> &weights = {"tf", "packed"});

// The test seam: called after every run of a candidate (never the hand
// schedule) with its knob string and output, before the output is checked.
// A test corrupts the output of one knob set here to check that it is rejected.
using OutputHook = std::function<void(const std::string &knobs, Halide::Runtime::Buffer<float> &output)>;

struct TuneOptions {
    Halide::Target target = Halide::get_host_target();
    std::string schedule_fingerprint;   // recorded in each entry
    unsigned seed = 1;                  // the candidate order
    double budget_seconds = 20 * 60;    // wall time for all classes together
    int batch = 1;
    int threads = 1;                    // Halide JIT threads the kernels run on (see README: noise)
    int max_candidates = 0;             // per class, hand schedule excluded; 0: the budget decides
    std::vector<std::string> extra_candidates;  // knob sets tried first, after the hand schedule
    std::vector<std::string> autoschedulers;    // timed as baselines (their plugins already loaded)
    std::string journal_path;           // append-only record for resuming; empty: none
    double min_gain = 0.02;             // the least relative gain accepted, whatever the noise
    int pairs[3] = {3, 6, 10};          // interleaved pairs per layer, per rung of the search
    double sample_ms = 3;               // the shortest timed sample (runs are repeated to reach it)
    bool progress = true;               // progress bar on stderr
    OutputHook after_run;
};

// What tuning one class found, for the summary.
struct ClassReport {
    DbEntry entry;
    std::vector<std::string> rejected;  // "knobs: why"
};

// Which of the finalists to keep: `scores` are their times over the hand
// schedule's (geomean of the layers), in the order they were tried (the
// --try sets first, a re-time's current knobs leading). The earliest whose
// score is within `noise` (relative) of the best one: a later candidate
// replaces an earlier one only by beating it by more than the noise, so two
// candidates that differ only by noise (e.g. the same code for every timed
// layer) keep the one tried first instead of a coin toss. SIZE_MAX when
// `scores` is empty.
size_t pick_finalist(const std::vector<double> &scores, double noise);

// Tunes every class in turn (budget shared out over the classes left).
// Completed classes in the journal are taken from it.
std::vector<ClassReport> tune(const std::vector<ShapeClass> &classes, const TuneOptions &options);

}  // namespace sepconv::tuning
