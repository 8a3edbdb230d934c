// `sepconv tune`: searches the schedule knobs of the AOT kernel variants for a
// list of layers and a target, and writes the schedule database the CMake
// build reads (schedules/db/). See tools/tuning/tuner.h and README.md.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "Halide.h"
#include "command.h"
#include "knobs.h"
#include "schedule_db.h"
#include "tuner.h"

#ifndef SEPCONV_CPU_SCHEDULE_FINGERPRINT
#define SEPCONV_CPU_SCHEDULE_FINGERPRINT "unknown"
#endif
#ifndef SEPCONV_GPU_SCHEDULE_FINGERPRINT
#define SEPCONV_GPU_SCHEDULE_FINGERPRINT "unknown"
#endif
#ifndef SEPCONV_KERNEL_TARGETS
#define SEPCONV_KERNEL_TARGETS "host"
#endif
#ifndef SEPCONV_AUTOSCHEDULER_PLUGINS
#define SEPCONV_AUTOSCHEDULER_PLUGINS ""
#endif

namespace sepconv::tools {
namespace {

using namespace sepconv::tuning;

const char *kUsage = R"(usage: sepconv tune [options]

Searches the schedule knobs of the AOT kernel variants that run the given
layers, timing JIT-compiled candidates against the hand schedule, and writes
the best knob set per (op, variant, target class) into the schedule database.

  --shapes PATH         layer list, shapes.csv format (default: ../shared/bench/shapes.csv;
                        relative paths from the working directory: run it in the source tree)
  --suites A,B          suites of the list to tune for (default: mobilenet_v1,mobilenet_v2)
  --ops A,B             depthwise, pointwise, separable (default: all three)
  --weights A,B         the pointwise filter the 1x1 and separable kernels read:
                        tf (TF's), packed (a PackedPointwiseFilter; layers whose
                        out_c is a multiple of 16), each its own class (default: both)
  --target T            Halide target (default: the first of the build's kernel targets
                        this CPU runs; "host" for the host's own)
  --db PATH             database to update (default: schedules/db/schedules.json)
  --journal PATH        resume record (default: <db>.journal); an interrupted run
                        started again with the same options continues from it
  --fresh               delete the journal first
  --budget-minutes M    wall time for the whole run (default 20)
  --seed N              candidate order (default 1)
  --max-candidates N    per class (default: as many as the budget allows)
  --batch N             batch size of the timed layers (default 1)
  --threads N           threads the timed kernels run on (default 1: on a shared,
                        loaded machine a thread pool's timings are mostly noise)
  --autoschedulers A,B  Halide autoschedulers timed as baselines (default:
                        Mullapudi2016,Adams2019; "none" for none)
  --try KNOBS           also try this knob set first (repeatable)
  --perturb KNOBS       testing: corrupt the output of this knob set (it must be rejected)
  --no-progress         no progress bar
)";

std::vector<std::string> list(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

// The first kernel target whose features this CPU has: what the AOT
// multi-target library runs here.
Halide::Target default_target() {
    const Halide::Target host = Halide::get_host_target();
    std::stringstream targets(SEPCONV_KERNEL_TARGETS);
    std::string t;
    while (std::getline(targets, t, ',')) {
        if (t.empty() || t.rfind("host", 0) == 0) continue;
        const Halide::Target target(t);
        bool runs = target.arch == host.arch && target.bits == host.bits && target.os == host.os;
        for (int f = 0; runs && f < Halide::Target::FeatureEnd; f++) {
            const auto feature = static_cast<Halide::Target::Feature>(f);
            runs = !target.has_feature(feature) || host.has_feature(feature);
        }
        if (runs) return target;
    }
    return host;
}

void load_autoschedulers(const std::vector<std::string> &names) {
    std::map<std::string, std::string> plugins;
    for (const std::string &entry : list(SEPCONV_AUTOSCHEDULER_PLUGINS)) {
        const size_t eq = entry.find('=');
        if (eq != std::string::npos) plugins[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const std::string &name : names) {
        auto it = plugins.find(name);
        if (it == plugins.end()) throw std::runtime_error("no autoscheduler plugin named " + name);
        Halide::load_plugin(it->second);
    }
}

void print_summary(const std::vector<ClassReport> &reports, double seconds) {
    std::printf("\n%-34s %8s %7s %5s %5s  %s\n", "class", "speedup", "noise", "tried", "rej.", "knobs (empty: hand schedule kept)");
    for (const ClassReport &r : reports) {
        const DbEntry &e = r.entry;
        std::printf("%-34s %7.3fx %6.1f%% %5d %5d  %s\n", e.key().c_str(), e.speedup, 100 * e.noise, e.candidates_tried,
                    e.candidates_rejected, e.knob_string().c_str());
        for (const Baseline &b : e.baselines) {
            if (b.error.empty()) {
                std::printf("    %-30s %.3fx the hand schedule's time\n", b.name.c_str(), b.ratio);
            } else {
                std::printf("    %-30s failed: %s\n", b.name.c_str(), b.error.c_str());
            }
        }
        for (const std::string &why : r.rejected) std::printf("    rejected %s\n", why.c_str());
    }
    // Per suite and op: geomean over the layers of default / tuned time.
    std::map<std::string, std::vector<double>> gains;
    for (const ClassReport &r : reports) {
        for (const LayerTime &l : r.entry.layers) gains[l.suite + " " + r.entry.op].push_back(l.default_ms / l.tuned_ms);
    }
    std::printf("\n%-34s %s\n", "suite op", "tuned speedup over default (geomean of layers, same run)");
    for (const auto &[key, g] : gains) {
        double s = 0;
        for (double x : g) s += std::log(x);
        std::printf("%-34s %.3fx over %zu layers\n", key.c_str(), std::exp(s / g.size()), g.size());
    }
    std::printf("\ntuning took %.1f s\n", seconds);
}

int run(int argc, char **argv) {
    // Relative to the working directory (the source tree's root): an
    // installed `sepconv` must not carry the build machine's paths.
    std::string shapes = "../shared/bench/shapes.csv";
    std::string db_path = "schedules/db/schedules.json";
    std::string journal;
    std::vector<std::string> suites = {"mobilenet_v1", "mobilenet_v2"};
    std::vector<std::string> ops = {"depthwise", "pointwise", "separable"};
    std::vector<std::string> weights = {"tf", "packed"};
    std::vector<std::string> autoschedulers = {"Mullapudi2016", "Adams2019"};
    std::string target_text, perturb;
    bool fresh = false;
    TuneOptions o;
    try {
        for (int i = 1; i < argc; i++) {
            const std::string a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
                return argv[++i];
            };
            if (a == "--help" || a == "-h") {
                std::printf("%s", kUsage);
                return 0;
            } else if (a == "--shapes") {
                shapes = value();
            } else if (a == "--suites") {
                suites = list(value());
            } else if (a == "--ops") {
                ops = list(value());
            } else if (a == "--weights") {
                weights = list(value());
            } else if (a == "--target") {
                target_text = value();
            } else if (a == "--db") {
                db_path = value();
            } else if (a == "--journal") {
                journal = value();
            } else if (a == "--fresh") {
                fresh = true;
            } else if (a == "--budget-minutes") {
                o.budget_seconds = 60 * std::stod(value());
            } else if (a == "--seed") {
                o.seed = static_cast<unsigned>(std::stoul(value()));
            } else if (a == "--max-candidates") {
                o.max_candidates = std::stoi(value());
            } else if (a == "--batch") {
                o.batch = std::stoi(value());
            } else if (a == "--threads") {
                o.threads = std::stoi(value());
            } else if (a == "--autoschedulers") {
                autoschedulers = list(value());
                if (autoschedulers == std::vector<std::string>{"none"}) autoschedulers.clear();
            } else if (a == "--try") {
                o.extra_candidates.push_back(schedules::Knobs::parse(value()).str());
            } else if (a == "--perturb") {
                perturb = schedules::Knobs::parse(value()).str();
            } else if (a == "--no-progress") {
                o.progress = false;
            } else {
                throw std::invalid_argument("unknown option " + a);
            }
        }
        if (o.batch < 1) throw std::invalid_argument("--batch must be at least 1");
        o.target = target_text.empty() ? default_target()
                   : target_text == "host" ? Halide::get_host_target()
                                           : Halide::Target(target_text);
        // The sources the knobs are tuned on: the CPU or the GPU schedules.
        o.schedule_fingerprint =
            o.target.has_gpu_feature() ? SEPCONV_GPU_SCHEDULE_FINGERPRINT : SEPCONV_CPU_SCHEDULE_FINGERPRINT;
        if (journal.empty()) journal = db_path + ".journal";
        if (fresh) std::filesystem::remove(journal);
        o.journal_path = journal;
        load_autoschedulers(autoschedulers);
        o.autoschedulers = autoschedulers;
        if (!perturb.empty()) {
            o.extra_candidates.push_back(perturb);
            o.after_run = [perturb](const std::string &knobs, Halide::Runtime::Buffer<float> &out) {
                if (knobs == perturb) out.data()[out.number_of_elements() / 2] += 1.0f;
            };
        }

        const auto layers = read_shapes(shapes, suites);
        if (layers.empty()) throw std::invalid_argument("no layers of the suites in " + shapes);
        const auto classes = shape_classes(layers, ops, weights);
        std::fprintf(stderr, "sepconv tune: %zu layers, %zu classes, target %s (%s), budget %.1f min, journal %s\n",
                     layers.size(), classes.size(), o.target.to_string().c_str(),
                     schedules::target_class(o.target).c_str(), o.budget_seconds / 60, journal.c_str());
        const auto t0 = std::chrono::steady_clock::now();
        const auto reports = tune(classes, o);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        ScheduleDb db = ScheduleDb::load(db_path);
        for (const ClassReport &r : reports) db.put(r.entry);
        db.save(db_path);
        // Finished: a later run tunes afresh instead of resuming.
        std::filesystem::remove(journal);
        print_summary(reports, seconds);
        std::printf("wrote %s\n", db_path.c_str());
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sepconv tune: %s\n", e.what());
        return 1;
    }
}

const RegisterCommand registered{{"tune", "search schedule knobs by JIT timing; write the schedule database", &run}};

}  // namespace
}  // namespace sepconv::tools
