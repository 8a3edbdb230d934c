#include "tuner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "factory.h"
#include "knobs.h"
#include "pointwise_image.h"
#include "reference.h"
#include "search_space.h"
#include "sepconv/ops.h"

namespace sepconv::tuning {
namespace {

using Clock = std::chrono::steady_clock;
using Halide::Runtime::Buffer;
using json = nlohmann::ordered_json;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
    if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double geomean(const std::vector<double> &v) {
    double s = 0;
    for (double x : v) s += std::log(x);
    return v.empty() ? 1.0 : std::exp(s / static_cast<double>(v.size()));
}

// Whether a score (time over the hand schedule's) beats another by more than
// the relative `noise`: the one rule for a candidate against the hand
// schedule (score 1) and against an earlier finalist.
bool beats_beyond_noise(double score, double other, double noise) { return score < other * (1 - noise); }

// ---- layers and classes ---------------------------------------------------

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    std::stringstream in(s);
    std::string field;
    while (std::getline(in, field, sep)) out.push_back(field);
    return out;
}

// The specialized AOT variants (runtime/kernels/CMakeLists.txt): 3x3 with
// multiplier 1 and stride 1 or 2, 5x5 with multiplier 1 (any stride).
// Everything else runs in the generic variant.
void variant_of(const Layer &l, ShapeClass &c) {
    c.params["layout"] = "nhwc";
    if (l.k_h == 3 && l.k_w == 3 && l.multiplier == 1 && (l.stride == 1 || l.stride == 2)) {
        c.variant = "3x3m1s" + std::to_string(l.stride) + "_nhwc";
        c.params["stride"] = std::to_string(l.stride);
    } else if (l.k_h == 5 && l.k_w == 5 && l.multiplier == 1) {
        c.variant = "5x5m1_nhwc";
    } else {
        c.variant = "generic_nhwc";
        return;
    }
    c.params["kernel_h"] = std::to_string(l.k_h);
    c.params["kernel_w"] = std::to_string(l.k_w);
    c.params["multiplier"] = "1";
}

// The message of the last failed kernel call on this thread.
std::string &last_kernel_error() {
    thread_local std::string message;
    return message;
}

// ---- one problem: a layer's buffers, its reference and how to call a kernel

struct Window {
    int out, pad_before;
};

Window window_of(int in, int k, int stride, int dilation, const std::string &padding) {
    const reference::Window w =
        reference::window(in, k, stride, dilation, padding == "SAME" ? reference::Pad::Same : reference::Pad::Valid, 0, 0);
    if (!w.ok) throw std::runtime_error("layer has an empty output");
    return {w.out, w.pad_before};
}

std::string shape_text(const Layer &l, const std::string &op, int batch) {
    std::ostringstream s;
    s << batch << "x" << l.in_h << "x" << l.in_w << "x" << l.in_c;
    if (op != "pointwise") s << " k" << l.k_h << "x" << l.k_w << " s" << l.stride << " d" << l.dilation << " m" << l.multiplier;
    if (op != "depthwise") s << " -> " << l.out_c;
    return s.str();
}

// `data` (a std::vector or an AlignedVector) as a Halide buffer of `sizes`
// (innermost first).
template <typename Values>
Buffer<float> buffer_of(const Values &data, std::vector<int> sizes) {
    Buffer<float> b(sizes);
    std::copy(data.begin(), data.end(), b.data());
    return b;
}

// The pointwise weights `w` (TF's [C][O]) as the kernel reads them: Halide
// [O, C], or packed in blocks of 16 output channels (PackedPointwiseFilter;
// Halide [16 * C, O / 16]).
Buffer<float> pointwise_weights(const std::vector<float> &w, int channels, int out_channels, bool packed) {
    if (!packed) return buffer_of(w, {out_channels, channels});
    const PackedPointwiseFilter filter(ConstTensor(w, {1, 1, channels, out_channels}));
    const int block = static_cast<int>(PackedPointwiseFilter::kBlock);
    return buffer_of(filter.values(), {block * channels, out_channels / block});
}

class Problem {
public:
    // `cpu`: the kernels run on the CPU, where the runtime shows a small
    // image to the 1x1 as one row of pixels; the problem does the same, so
    // its timings are of the calls the runtime makes.
    Problem(const Layer &l, const std::string &op, bool packed_weights, int batch, unsigned seed, bool cpu)
        : layer_(l), op_(op) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        auto random = [&](size_t n) {
            std::vector<float> v(n);
            for (float &x : v) x = dist(rng);
            return v;
        };
        const Window wy = window_of(l.in_h, l.k_h, l.stride, l.dilation, l.padding);
        const Window wx = window_of(l.in_w, l.k_w, l.stride, l.dilation, l.padding);
        pad_top_ = wy.pad_before;
        pad_left_ = wx.pad_before;
        const int cm = l.in_c * l.multiplier, n = batch;
        reference::Geometry g;
        g.stride_h = g.stride_w = l.stride;
        g.rate_h = g.rate_w = l.dilation;
        g.pad = l.padding == "SAME" ? reference::Pad::Same : reference::Pad::Valid;
        const reference::Activation relu6{reference::Act::Relu6};
        // Halide's dimension order is the reverse of TF's row-major shapes, so
        // the data is the same memory.
        if (op == "pointwise") {
            const auto in = random(static_cast<size_t>(n) * wy.out * wx.out * cm);
            const auto w = random(static_cast<size_t>(cm) * l.out_c), b = random(l.out_c);
            const bool one_row = cpu && detail::pointwise_image_as_one_row(wy.out, wx.out, cm);
            const int width = one_row ? wx.out * wy.out : wx.out, height = one_row ? 1 : wy.out;
            input_ = buffer_of(in, {cm, width, height, n});
            pw_ = pointwise_weights(w, cm, l.out_c, packed_weights);
            bias_ = buffer_of(b, {l.out_c});
            output_ = Buffer<float>(l.out_c, wx.out, wy.out, n);
            kernel_output_ = Buffer<float>(output_.data(), l.out_c, width, height, n);
            ref_ = reference::pointwise(reference::from_floats(in, {n, wy.out, wx.out, cm}), w, l.out_c, b, relu6);
            reduction_ = cm;
            return;
        }
        const auto in = random(static_cast<size_t>(n) * l.in_h * l.in_w * l.in_c);
        const auto dw = random(static_cast<size_t>(l.k_h) * l.k_w * cm);
        input_ = buffer_of(in, {l.in_c, l.in_w, l.in_h, n});
        dw_ = buffer_of(dw, {l.multiplier, l.in_c, l.k_w, l.k_h});
        if (op == "depthwise") {
            const auto b = random(cm);
            bias_ = buffer_of(b, {cm});
            output_ = Buffer<float>(cm, wx.out, wy.out, n);
            ref_ = reference::depthwise(reference::from_floats(in, {n, l.in_h, l.in_w, l.in_c}), dw,
                                        {l.k_h, l.k_w, l.in_c, l.multiplier}, b, g, relu6);
            reduction_ = l.k_h * l.k_w;
        } else {
            const auto w = random(static_cast<size_t>(cm) * l.out_c), b = random(l.out_c);
            pw_ = pointwise_weights(w, cm, l.out_c, packed_weights);
            bias_ = buffer_of(b, {l.out_c});
            output_ = Buffer<float>(l.out_c, wx.out, wy.out, n);
            ref_ = reference::separable(reference::from_floats(in, {n, l.in_h, l.in_w, l.in_c}), dw,
                                        {l.k_h, l.k_w, l.in_c, l.multiplier}, w, l.out_c, b, g, relu6);
            reduction_ = l.k_h * l.k_w * cm;
        }
    }

    const Layer &layer() const { return layer_; }
    Buffer<float> &output() { return output_; }

    // One call of `kernel` on this problem (relu6, as in MobileNet).
    void run(const Halide::Callable &kernel) {
        const float lo = 0.0f, hi = 6.0f, alpha = 1.0f;
        const int s = layer_.stride, d = layer_.dilation;
        Buffer<float> &out = kernel_output_.data() ? kernel_output_ : output_;
        int rc;
        if (op_ == "pointwise") {
            rc = kernel(input_, pw_, bias_, lo, hi, alpha, out);
        } else if (op_ == "depthwise") {
            rc = kernel(input_, dw_, bias_, s, s, d, d, pad_left_, pad_top_, lo, hi, alpha, out);
        } else {
            rc = kernel(input_, dw_, pw_, bias_, s, s, d, d, pad_left_, pad_top_, lo, hi, alpha, out);
        }
        if (rc != 0) throw std::runtime_error("kernel call failed (" + std::to_string(rc) + "): " + last_kernel_error());
        // GPU targets: the call returns when the kernel is queued; the time and
        // the check need it finished, and the result on the host.
        if (out.has_device_allocation()) {
            out.device_sync();
            out.copy_to_host();
        }
    }

    // Max |output - reference| (infinite for a NaN) and the spec's tolerance
    // (spec/semantics.md: 1e-5 (1 + max |ref|), times sqrt of the reduction length).
    std::pair<double, double> error_and_tolerance() const {
        double max_ref = 0, max_err = 0;
        for (double v : ref_.data) max_ref = std::max(max_ref, std::abs(v));
        const auto &s = ref_.shape;  // n, h, w, c
        for (int n = 0; n < s[0]; n++)
            for (int h = 0; h < s[1]; h++)
                for (int w = 0; w < s[2]; w++)
                    for (int c = 0; c < s[3]; c++) {
                        const double e = std::abs(output_(c, w, h, n) - ref_.at(n, h, w, c));
                        max_err = std::max(max_err, std::isnan(e) ? std::numeric_limits<double>::infinity() : e);
                    }
        return {max_err, 1e-5 * (1 + max_ref) * std::sqrt(std::max(1.0, static_cast<double>(reduction_)))};
    }

private:
    Layer layer_;
    std::string op_;
    Buffer<float> input_, dw_, pw_, bias_, output_;
    Buffer<float> kernel_output_;  // the 1x1's view of output_ (undefined: output_)
    reference::Tensor ref_;
    int reduction_ = 1;
    int pad_left_ = 0, pad_top_ = 0;
};

// ---- compiling --------------------------------------------------------------

// The class's generator with `knobs` (or, with `autoscheduler`, no hand
// schedule at all: Halide's autoscheduler schedules the pipeline), JIT-compiled.
Halide::Callable compile(const ShapeClass &cls, const std::string &knobs, const Halide::Target &target,
                         const std::string &autoscheduler = "") {
    const int threads = Halide::Internal::JITSharedRuntime::get_num_threads();
    std::map<std::string, std::string> extra = {{"parallelism", std::to_string(std::max(1, threads))}};
    // Adams2019's default beam search takes many minutes here; the greedy
    // pass (beam 1) takes seconds and is its documented fast mode.
    if (autoscheduler == "Adams2019") extra["beam_size"] = "1";
    const Halide::GeneratorContext context =
        autoscheduler.empty() ? Halide::GeneratorContext(target)
                              : Halide::GeneratorContext(target, Halide::AutoschedulerParams(autoscheduler, extra));
    auto gen = create_generator(cls.op, context);
    for (const auto &[k, v] : cls.params) gen->set_generatorparam_value(k, v);
    if (!knobs.empty()) gen->set_generatorparam_value("knobs", knobs);
    Halide::Pipeline pipeline = gen->build_pipeline();
    if (!autoscheduler.empty()) pipeline.apply_autoscheduler(target, context.autoscheduler_params());
    std::vector<Halide::Argument> args;
    for (const auto &info : gen->arginfos()) {
        if (info.dir != Halide::Internal::ArgInfoDirection::Input) continue;
        for (const Halide::Parameter &p : gen->input_parameter(info.name)) {
            args.emplace_back(p.name(), p.is_buffer() ? Halide::Argument::InputBuffer : Halide::Argument::InputScalar,
                              p.type(), p.dimensions(), p.get_argument_estimates());
        }
    }
    // Errors in a call (a failed assertion) are returned, not thrown:
    // Callable's call path cannot pass exceptions through.
    pipeline.jit_handlers().custom_error = [](Halide::JITUserContext *, const char *message) {
        last_kernel_error() = message;
    };
    return pipeline.compile_to_callable(args, target);
}

// ---- the search ---------------------------------------------------------------

struct Candidate {
    std::string knobs;
    size_t position = 0;  // in the order tried
    std::optional<Halide::Callable> kernel;
    std::vector<std::vector<double>> ratios;              // per layer: candidate / default, per pair
    std::vector<std::vector<double>> ms, default_ms;      // per layer, per pair
    bool slow = false;                                    // rejected early as clearly slower
    double score() const {
        if (slow || ratios.empty()) return std::numeric_limits<double>::infinity();
        std::vector<double> m;
        for (const auto &r : ratios) m.push_back(median(r));
        return geomean(m);
    }
};

// Appends to, and on start-up reads, the journal: one JSON object a line.
class Journal {
public:
    explicit Journal(const std::string &path) : path_(path) {
        if (path.empty()) return;
        if (const auto dir = std::filesystem::path(path).parent_path(); !dir.empty()) {
            std::filesystem::create_directories(dir);
        }
        std::ifstream in(path);
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            try {
                records_.push_back(json::parse(line));
            } catch (const std::exception &) {
                // A line cut short by an interruption: everything before it still counts.
            }
        }
        out_.open(path, std::ios::app);
        if (!out_) throw std::runtime_error("cannot write the tuning journal " + path);
    }
    void write(const json &j) {
        if (path_.empty()) return;
        out_ << j.dump() << "\n";
        out_.flush();
    }
    const std::vector<json> &records() const { return records_; }

private:
    std::string path_;
    std::vector<json> records_;
    std::ofstream out_;
};

std::string fmt_time(double s) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%d:%02d", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    return buf;
}

class ClassTuner {
public:
    ClassTuner(const ShapeClass &cls, const TuneOptions &o, Journal &journal, double budget_s, const std::string &label)
        : cls_(cls), o_(o), journal_(journal), budget_s_(budget_s), label_(label) {
        entry_.op = cls.op;
        entry_.variant = cls.variant;
        entry_.target_class = schedules::target_class(o.target);
        entry_.target = o.target.to_string();
        entry_.schedule_fingerprint = o.schedule_fingerprint;
    }

    ClassReport run() {
        t0_ = Clock::now();
        unsigned seed = o_.seed;
        const auto weights = cls_.params.find("weights_layout");
        const bool packed = weights != cls_.params.end() && weights->second == "packed";
        const bool cpu = !o_.target.has_gpu_feature();
        for (const Layer &l : cls_.layers) problems_.emplace_back(l, cls_.op, packed, o_.batch, seed++, cpu);
        default_ = compile(cls_, "", o_.target);
        if (std::string why = check(*default_, ""); !why.empty()) {
            throw std::runtime_error(entry_.key() + ": the hand schedule fails the reference check: " + why);
        }
        calibrate();
        baselines();

        // Rung 0: every candidate in the seeded order while the budget lasts.
        std::vector<std::string> order = o_.extra_candidates;
        for (const std::string &k : candidate_knob_sets(search_space(cls_.op, o_.target), o_.seed)) {
            if (!k.empty()) order.push_back(k);
        }
        if (o_.max_candidates > 0 && static_cast<int>(order.size()) > o_.max_candidates) order.resize(o_.max_candidates);
        total_ = static_cast<int>(order.size());
        std::vector<Candidate> timed;
        for (size_t i = 0; i < order.size(); i++) {
            // The first candidate always runs (a budget spent on compiling
            // the hand schedule under load still tries one).
            if (tried_ > 0 && seconds_since(t0_) > 0.6 * budget_s_) break;
            tried_++;
            progress();
            Candidate c{order[i]};
            c.position = i;
            if (!from_journal(c) && !first_rung(c)) continue;
            if (!c.slow) timed.push_back(std::move(c));
        }

        // Successive halving: the best quarter gets more pairs, then the best two.
        auto keep_best = [&](size_t n) {
            std::sort(timed.begin(), timed.end(), [](const Candidate &a, const Candidate &b) { return a.score() < b.score(); });
            while (timed.size() > n || (!timed.empty() && timed.back().score() > 1.05)) timed.pop_back();
        };
        keep_best(std::max<size_t>(2, timed.size() / 4));
        for (Candidate &c : timed) more_pairs(c, o_.pairs[1]);
        keep_best(2);
        for (Candidate &c : timed) more_pairs(c, o_.pairs[2]);
        std::sort(timed.begin(), timed.end(),
                  [](const Candidate &a, const Candidate &b) { return a.position < b.position; });
        std::vector<double> scores;
        for (const Candidate &c : timed) scores.push_back(c.score());
        entry_.noise = noise();
        const size_t kept = pick_finalist(scores, entry_.noise);
        finish(kept < timed.size() ? &timed[kept] : nullptr);
        if (o_.progress) std::fprintf(stderr, "\n");
        return {entry_, rejected_};
    }

    double eta_seconds() const { return std::max(0.0, budget_s_ - seconds_since(t0_)); }

private:
    // "" when every layer matches the reference, else why not.
    std::string check(const Halide::Callable &k, const std::string &knobs) {
        for (Problem &p : problems_) {
            std::fill(p.output().begin(), p.output().end(), std::numeric_limits<float>::quiet_NaN());
            p.run(k);
            if (!knobs.empty() && o_.after_run) o_.after_run(knobs, p.output());
            const auto [err, tol] = p.error_and_tolerance();
            if (!(err <= tol)) {
                std::ostringstream s;
                s << "layer " << p.layer().suite << "/" << p.layer().name << ": max error " << err << " > tolerance " << tol;
                return s.str();
            }
        }
        return "";
    }

    void calibrate() {
        for (Problem &p : problems_) {
            p.run(*default_);  // warm-up
            const double t = now_ms();
            p.run(*default_);
            const double ms = now_ms() - t;
            reps_.push_back(std::max(1, static_cast<int>(std::ceil(o_.sample_ms / std::max(ms, 1e-3)))));
        }
    }

    // Milliseconds per call, over reps_ calls. On one thread the kernel runs
    // on this thread (Halide's pool has no workers), so its CPU time is
    // measured: time the scheduler gives other processes does not count,
    // which on a shared machine is most of the noise. More threads: wall time.
    double time_ms(const Halide::Callable &k, size_t layer, const std::string &knobs) {
        Problem &p = problems_[layer];
        const double t = now_ms();
        for (int i = 0; i < reps_[layer]; i++) {
            p.run(k);
            if (!knobs.empty() && o_.after_run) o_.after_run(knobs, p.output());
        }
        return (now_ms() - t) / reps_[layer];
    }

    double now_ms() const {
        if (o_.threads != 1) return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
        timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
    }

    // `pairs` interleaved (default, candidate) timings on layer `l`, the
    // order alternating so neither always runs on a warmer cache.
    void time_pairs(Candidate &c, size_t l, int pairs, const Halide::Callable &kernel) {
        for (int i = 0; i < pairs; i++) {
            double d, t;
            if (i % 2 == 0) {
                d = time_ms(*default_, l, "");
                t = time_ms(kernel, l, c.knobs);
            } else {
                t = time_ms(kernel, l, c.knobs);
                d = time_ms(*default_, l, "");
            }
            c.ratios[l].push_back(t / d);
            c.ms[l].push_back(t);
            c.default_ms[l].push_back(d);
        }
    }

    bool ensure_compiled(Candidate &c) {
        if (c.kernel) return true;
        try {
            c.kernel = compile(cls_, c.knobs, o_.target);
        } catch (const std::exception &e) {
            reject(c, std::string("does not compile: ") + e.what());
            return false;
        }
        std::string why;
        try {
            why = check(*c.kernel, c.knobs);
            if (!why.empty()) why = "wrong result: " + why;
        } catch (const std::exception &e) {
            why = e.what();
        }
        if (!why.empty()) {
            reject(c, why);
            c.kernel.reset();
            return false;
        }
        return true;
    }

    void reject(const Candidate &c, const std::string &why) {
        rejected_.push_back(c.knobs + ": " + why);
        journal_.write({{"class", entry_.key()}, {"knobs", c.knobs}, {"event", "rejected"}, {"why", why}});
    }

    // Compile, check, time a few pairs; stop after the first layer when the
    // candidate is clearly slower (early rejection).
    bool first_rung(Candidate &c) {
        if (!ensure_compiled(c)) return false;
        const size_t n = problems_.size();
        c.ratios.assign(n, {});
        c.ms.assign(n, {});
        c.default_ms.assign(n, {});
        for (size_t l = 0; l < n; l++) {
            time_pairs(c, l, o_.pairs[0], *c.kernel);
            if (median(c.ratios[l]) > 1.25) {
                c.slow = true;
                break;
            }
        }
        journal_.write({{"class", entry_.key()}, {"knobs", c.knobs}, {"event", "timed"}, {"slow", c.slow},
                        {"ratios", c.ratios}});
        if (c.slow) c.kernel.reset();
        best_ = std::min(best_, c.score());
        return true;
    }

    // A first-rung result recorded by an interrupted run.
    bool from_journal(Candidate &c) {
        for (const json &r : journal_.records()) {
            if (r.value("class", "") != entry_.key() || r.value("knobs", "") != c.knobs) continue;
            if (r.value("event", "") == "rejected") {
                rejected_.push_back(c.knobs + ": " + r.value("why", "") + " (journal)");
                c.slow = true;
                return true;
            }
            if (r.value("event", "") == "timed" && r.at("ratios").size() == problems_.size()) {
                c.slow = r.value("slow", false);
                c.ratios = r.at("ratios").get<std::vector<std::vector<double>>>();
                c.ms.assign(problems_.size(), {});
                c.default_ms.assign(problems_.size(), {});
                best_ = std::min(best_, c.score());
                return true;
            }
        }
        return false;
    }

    void more_pairs(Candidate &c, int pairs) {
        if (!ensure_compiled(c)) {
            c.slow = true;
            return;
        }
        for (size_t l = 0; l < problems_.size(); l++) time_pairs(c, l, pairs, *c.kernel);
        progress();
    }

    // The hand schedule against itself, interleaved the same way: what the
    // noise alone makes of a comparison.
    double noise() {
        Candidate same{""};
        same.ratios.assign(problems_.size(), {});
        same.ms.assign(problems_.size(), {});
        same.default_ms.assign(problems_.size(), {});
        for (size_t l = 0; l < problems_.size(); l++) time_pairs(same, l, o_.pairs[2], *default_);
        // The spread of the per-pair log ratios, as a standard error of the
        // median over layers, plus how far the A/A score is from 1.
        std::vector<double> logs;
        for (const auto &r : same.ratios)
            for (double x : r) logs.push_back(std::log(x));
        std::vector<double> dev;
        const double m = median(logs);
        for (double x : logs) dev.push_back(std::abs(x - m));
        const double mad = median(dev) * 1.4826;
        const double se = mad * 1.2533 / std::sqrt(static_cast<double>(logs.size()) / problems_.size()) /
                          std::sqrt(static_cast<double>(problems_.size()));
        return std::max(o_.min_gain, std::abs(same.score() - 1) + 2 * se);
    }

    // After entry_.noise is measured.
    void finish(Candidate *best) {
        const bool accept = best && beats_beyond_noise(best->score(), 1, entry_.noise);
        if (accept) entry_.knobs = schedules::Knobs::parse(best->knobs).values();
        entry_.speedup = accept ? 1 / best->score() : 1.0;
        for (size_t l = 0; l < problems_.size(); l++) {
            LayerTime t;
            t.suite = problems_[l].layer().suite;
            t.layer = problems_[l].layer().name;
            t.shape = shape_text(problems_[l].layer(), cls_.op, o_.batch);
            if (best && !best->default_ms[l].empty()) {
                t.default_ms = median(best->default_ms[l]);
                t.tuned_ms = accept ? median(best->ms[l]) : t.default_ms;
            } else {
                t.default_ms = t.tuned_ms = time_ms(*default_, l, "");
            }
            entry_.layers.push_back(t);
        }
        entry_.candidates_tried = tried_;
        entry_.candidates_rejected = static_cast<int>(rejected_.size());
        entry_.tuning_seconds = seconds_since(t0_);
    }

    void baselines() {
        for (const std::string &name : o_.autoschedulers) {
            Baseline b{"autoscheduler " + name};
            try {
                const Halide::Callable k = compile(cls_, "", o_.target, name);
                if (std::string why = check(k, ""); !why.empty()) throw std::runtime_error("wrong result: " + why);
                Candidate c{"autoscheduler:" + name};
                c.ratios.assign(problems_.size(), {});
                c.ms.assign(problems_.size(), {});
                c.default_ms.assign(problems_.size(), {});
                for (size_t l = 0; l < problems_.size(); l++) time_pairs(c, l, o_.pairs[0], k);
                b.ratio = c.score();
            } catch (const std::exception &e) {
                b.error = e.what();
                b.error = b.error.substr(0, 300);
            }
            entry_.baselines.push_back(b);
        }
    }

    void progress() {
        if (!o_.progress) return;
        const double elapsed = seconds_since(t0_);
        const double frac = std::min(1.0, std::max(static_cast<double>(tried_) / std::max(1, total_), elapsed / budget_s_));
        const int width = 20, filled = static_cast<int>(frac * width);
        std::fprintf(stderr, "\r%s [%s%s] %3.0f%% candidate %d/%d, %zu rejected, best ratio %.3f | %s elapsed, ETA %s   ",
                     label_.c_str(), std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                     frac * 100, tried_, total_, rejected_.size(), std::isfinite(best_) ? best_ : 0.0,
                     fmt_time(elapsed).c_str(), fmt_time(frac > 0 ? elapsed / frac - elapsed : budget_s_).c_str());
        std::fflush(stderr);
    }

    const ShapeClass &cls_;
    const TuneOptions &o_;
    Journal &journal_;
    double budget_s_;
    std::string label_;
    Clock::time_point t0_;
    std::vector<Problem> problems_;
    std::optional<Halide::Callable> default_;
    std::vector<int> reps_;
    DbEntry entry_;
    std::vector<std::string> rejected_;
    int tried_ = 0, total_ = 0;
    double best_ = std::numeric_limits<double>::infinity();
};

}  // namespace

size_t pick_finalist(const std::vector<double> &scores, double noise) {
    if (scores.empty()) return SIZE_MAX;
    const double best = *std::min_element(scores.begin(), scores.end());
    for (size_t i = 0; i < scores.size(); i++) {
        if (!beats_beyond_noise(best, scores[i], noise)) return i;
    }
    return SIZE_MAX;  // not reached: the best one is within noise of itself
}

std::vector<Layer> read_shapes(const std::string &csv_path, const std::vector<std::string> &suites) {
    std::ifstream in(csv_path);
    if (!in) throw std::runtime_error("cannot read " + csv_path);
    std::vector<Layer> layers;
    std::string line;
    for (int line_no = 1; std::getline(in, line); line_no++) {
        if (line.empty() || line[0] == '#') continue;
        const auto f = split(line, ',');
        Layer l;
        try {
            if (f.size() != 12) throw std::invalid_argument("expected 12 fields");
            l.suite = f[0];
            l.name = f[1];
            int *ints[] = {&l.in_h, &l.in_w, &l.in_c, &l.k_h, &l.k_w, &l.stride, &l.dilation, &l.multiplier, &l.out_c};
            for (int i = 0; i < 9; i++) *ints[i] = std::stoi(f[2 + i]);
            l.padding = f[11];
            if (l.padding != "SAME" && l.padding != "VALID") throw std::invalid_argument("padding " + l.padding);
        } catch (const std::exception &e) {
            throw std::runtime_error(csv_path + ":" + std::to_string(line_no) + ": " + e.what() + ": " + line);
        }
        if (suites.empty() || std::find(suites.begin(), suites.end(), l.suite) != suites.end()) layers.push_back(l);
    }
    return layers;
}

std::vector<ShapeClass> shape_classes(const std::vector<Layer> &layers, const std::vector<std::string> &ops,
                                      const std::vector<std::string> &weights) {
    for (const std::string &w : weights) {
        if (w != "tf" && w != "packed") throw std::invalid_argument("unknown weights '" + w + "' (tf, packed)");
    }
    std::vector<ShapeClass> classes;
    for (const std::string &op : ops) {
        if (op != "depthwise" && op != "pointwise" && op != "separable") {
            throw std::invalid_argument("unknown op '" + op + "' (depthwise, pointwise, separable)");
        }
        for (const Layer &l : layers) {
            if (op != "depthwise" && l.out_c == 0) continue;
            ShapeClass c{op};
            if (op == "pointwise") {
                c.variant = "nhwc";
                c.params["layout"] = "nhwc";
            } else {
                variant_of(l, c);
            }
            auto wanted = [&](const char *w) { return std::find(weights.begin(), weights.end(), w) != weights.end(); };
            std::vector<ShapeClass> forms;  // one per weights layout the op reads
            if (op == "depthwise" || wanted("tf")) forms.push_back(c);
            const bool whole_blocks = l.out_c % PackedPointwiseFilter::kBlock == 0;
            if (op != "depthwise" && whole_blocks && wanted("packed")) {
                ShapeClass packed = c;
                packed.variant = "packed_" + c.variant;  // as the AOT kernels: ..._sepconv_packed_3x3m1s1_nhwc
                packed.params["weights_layout"] = "packed";
                forms.push_back(packed);
            }
            for (const ShapeClass &f : forms) {
                auto it = std::find_if(classes.begin(), classes.end(),
                                       [&](const ShapeClass &x) { return x.op == f.op && x.variant == f.variant; });
                if (it == classes.end()) {
                    classes.push_back(f);
                    it = classes.end() - 1;
                }
                it->layers.push_back(l);
            }
        }
    }
    return classes;
}

std::vector<ClassReport> tune(const std::vector<ShapeClass> &classes, const TuneOptions &options) {
    Journal journal(options.journal_path);
    Halide::Internal::JITSharedRuntime::set_num_threads(options.threads);
    const auto t0 = Clock::now();
    std::vector<ClassReport> reports;
    for (size_t i = 0; i < classes.size(); i++) {
        const ShapeClass &cls = classes[i];
        const std::string key = cls.op + "/" + cls.variant + "/" + schedules::target_class(options.target);
        // A class an interrupted run finished.
        const json *done = nullptr;
        for (const json &r : journal.records()) {
            if (r.value("class", "") == key && r.value("event", "") == "done") done = &r;
        }
        if (done) {
            reports.push_back({ScheduleDb::from_json(json{{"format", "sepconv-schedule-db/1"},
                                                          {"entries", {{key, done->at("entry")}}}}
                                                         .dump())
                                   .entries()
                                   .begin()
                                   ->second});
            continue;
        }
        const double left = options.budget_seconds - seconds_since(t0);
        const double budget = std::max(1.0, left / static_cast<double>(classes.size() - i));
        const std::string label = "[" + std::to_string(i + 1) + "/" + std::to_string(classes.size()) + "] " + key;
        ClassReport r = ClassTuner(cls, options, journal, budget, label).run();
        ScheduleDb one;
        one.put(r.entry);
        journal.write({{"class", key}, {"event", "done"}, {"entry", json::parse(one.to_json())["entries"][key]}});
        reports.push_back(std::move(r));
    }
    return reports;
}

}  // namespace sepconv::tuning
