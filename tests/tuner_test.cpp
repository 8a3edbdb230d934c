// The autotuner (tools/tuning/): the schedule database's JSON round trip,
// target-qualified knobs, the layer list, and a tiny tuning run that must
// reject a candidate whose output is wrong.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "knobs.h"
#include "schedule_db.h"
#include "search_space.h"
#include "tuner.h"

using namespace sepconv::tuning;
using sepconv::schedules::Knobs;

namespace {

DbEntry sample_entry() {
    DbEntry e;
    e.op = "separable";
    e.variant = "3x3m1s1_nhwc";
    e.target_class = "avx2";
    e.target = "x86-64-linux-avx-avx2-f16c-fma-sse41";
    e.schedule_fingerprint = "0123456789abcdef";
    e.knobs = {{"pw_columns", 4}, {"pw_vectors", 2}};
    e.speedup = 1.25;
    e.noise = 0.03;
    e.layers = {{"mobilenet_v1", "dw1", "1x112x112x32 k3x3 s1 d1 m1 -> 64", 2.5, 2.0}};
    e.baselines = {{"autoscheduler Mullapudi2016", 1.5, ""}, {"autoscheduler Adams2019", 0, "failed"}};
    e.candidates_tried = 12;
    e.candidates_rejected = 1;
    e.tuning_seconds = 30.5;
    return e;
}

std::string temp_path(const std::string &name) {
    return (std::filesystem::temp_directory_path() / ("sepconv_tuner_test_" + std::to_string(getpid()) + "_" + name))
        .string();
}

}  // namespace

TEST(ScheduleDb, RoundTripsThroughJsonAndFile) {
    ScheduleDb db;
    db.put(sample_entry());
    const ScheduleDb back = ScheduleDb::from_json(db.to_json());
    ASSERT_EQ(back.entries().size(), 1u);
    const DbEntry *e = back.find("separable/3x3m1s1_nhwc/avx2");
    ASSERT_NE(e, nullptr);
    const DbEntry want = sample_entry();
    EXPECT_EQ(e->knobs, want.knobs);
    EXPECT_EQ(e->knob_string(), "pw_columns=4,pw_vectors=2");
    EXPECT_EQ(e->schedule_fingerprint, want.schedule_fingerprint);
    EXPECT_EQ(e->target, want.target);
    EXPECT_DOUBLE_EQ(e->speedup, want.speedup);
    ASSERT_EQ(e->layers.size(), 1u);
    EXPECT_EQ(e->layers[0].layer, "dw1");
    EXPECT_DOUBLE_EQ(e->layers[0].tuned_ms, 2.0);
    ASSERT_EQ(e->baselines.size(), 2u);
    EXPECT_DOUBLE_EQ(e->baselines[0].ratio, 1.5);
    EXPECT_EQ(e->baselines[1].error, "failed");
    EXPECT_EQ(e->candidates_rejected, 1);
    EXPECT_EQ(back.to_json(), db.to_json());

    const std::string path = temp_path("db.json");
    db.save(path);
    EXPECT_EQ(ScheduleDb::load(path).to_json(), db.to_json());
    std::filesystem::remove(path);
    EXPECT_TRUE(ScheduleDb::load(path).entries().empty());  // no file: an empty database
}

TEST(ScheduleDb, RejectsAWrongFormatOrKey) {
    EXPECT_THROW(ScheduleDb::from_json(R"({"format": "other", "entries": {}})"), std::runtime_error);
    ScheduleDb db;
    db.put(sample_entry());
    std::string text = db.to_json();
    text.replace(text.find("\"separable/3x3m1s1_nhwc/avx2\""), 29, "\"separable/3x3m1s2_nhwc/avx2\"");
    EXPECT_THROW(ScheduleDb::from_json(text), std::runtime_error);
}

TEST(Knobs, QualifiedEntriesApplyToTheirTargetClassOnly) {
    const Knobs knobs = Knobs::parse("dw_columns=4,avx2.dw_columns=6,avx512.pw_vectors=4");
    const Knobs avx2 = knobs.for_target(Halide::Target("x86-64-linux-avx-avx2-f16c-fma-sse41"));
    EXPECT_EQ(avx2.str(), "dw_columns=6");
    const Knobs avx512 = knobs.for_target(Halide::Target("x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41"));
    EXPECT_EQ(avx512.str(), "dw_columns=4,pw_vectors=4");
    EXPECT_EQ(knobs.for_target(Halide::Target("x86-64-linux")).str(), "dw_columns=4");
    // The command-line form the build passes to the generator.
    EXPECT_EQ(Knobs::parse("avx2.dw_columns:6,pw_vectors:2").for_target(Halide::Target("x86-64-linux-avx-avx2")).str(),
              "dw_columns=6,pw_vectors=2");
    EXPECT_EQ(sepconv::schedules::target_class(Halide::Target("arm-64-linux")), "arm64");
    EXPECT_EQ(sepconv::schedules::target_class(Halide::Target("host-cuda")), "cuda");
    EXPECT_THROW(Knobs::parse("avx3.dw_columns=4").for_target(Halide::Target("x86-64-linux")), std::invalid_argument);
}

TEST(SearchSpace, StartsWithTheHandScheduleAndIsDeterministic) {
    const Halide::Target avx2("x86-64-linux-avx-avx2-f16c-fma-sse41");
    const auto space = search_space("depthwise", avx2);
    ASSERT_FALSE(space.empty());
    for (const KnobRange &k : space) EXPECT_EQ(k.name.rfind("dw_", 0), 0u) << k.name;
    const auto a = candidate_knob_sets(space, 7), b = candidate_knob_sets(space, 7), c = candidate_knob_sets(space, 8);
    EXPECT_EQ(a.front(), "");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    size_t product = 1;
    for (const KnobRange &k : space) product *= k.values.size();
    EXPECT_EQ(a.size(), product + 1);
    EXPECT_TRUE(search_space("separable", Halide::Target("host-cuda")).empty() ||
                search_space("separable", Halide::Target("host-cuda")).front().name.rfind("gpu_", 0) == 0);
}

// Finalists that differ by less than the noise keep the one tried first
// (the --try sets lead, a re-time's current knobs first). A re-time of the
// avx2 stride-2 separable had replaced its knobs with a set that generates
// the same code on every timed layer (plus a tile for 12-15 output
// channels, which none of them has): a coin toss between equals.
TEST(Tuner, KeepsTheFinalistTriedFirstUnlessBeatenByMoreThanNoise) {
    EXPECT_EQ(pick_finalist({}, 0.02), SIZE_MAX);
    EXPECT_EQ(pick_finalist({0.9}, 0.02), 0u);
    EXPECT_EQ(pick_finalist({0.86, 0.85}, 0.02), 0u);    // 1.2% apart
    EXPECT_EQ(pick_finalist({0.85, 0.86}, 0.02), 0u);
    EXPECT_EQ(pick_finalist({0.90, 0.85}, 0.02), 1u);    // 6% apart
    EXPECT_EQ(pick_finalist({0.90, 0.85}, 0.06), 0u);    // within a larger noise
    EXPECT_EQ(pick_finalist({0.90, 0.875, 0.86}, 0.02), 1u);  // the earliest within noise of the best
}

TEST(Layers, ShapesFileGroupsIntoVariantClasses) {
    const std::string path = temp_path("shapes.csv");
    std::ofstream(path) << "# suite,layer,in_h,in_w,in_c,k_h,k_w,stride,dilation,multiplier,out_c,padding\n"
                           "net,a,16,16,8,3,3,1,1,1,16,SAME\n"
                           "net,b,16,16,8,3,3,2,1,1,16,SAME\n"
                           "net,c,16,16,8,5,5,2,1,1,0,VALID\n"
                           "other,d,9,9,4,3,3,1,1,2,8,SAME\n";
    const auto layers = read_shapes(path, {"net"});
    ASSERT_EQ(layers.size(), 3u);
    const auto classes = shape_classes(layers, {"depthwise", "pointwise", "separable"});
    std::vector<std::string> names;
    for (const auto &c : classes) names.push_back(c.op + "/" + c.variant + ":" + std::to_string(c.layers.size()));
    EXPECT_EQ(names, (std::vector<std::string>{
                         "depthwise/3x3m1s1_nhwc:1", "depthwise/3x3m1s2_nhwc:1", "depthwise/5x5m1_nhwc:1",
                         "pointwise/nhwc:2", "pointwise/packed_nhwc:2", "separable/3x3m1s1_nhwc:1",
                         "separable/packed_3x3m1s1_nhwc:1", "separable/3x3m1s2_nhwc:1",
                         "separable/packed_3x3m1s2_nhwc:1"}));
    // One weights layout; a packed class only for whole blocks of 16 output channels.
    auto names_of = [](const std::vector<ShapeClass> &cs) {
        std::vector<std::string> v;
        for (const auto &c : cs) v.push_back(c.op + "/" + c.variant + (c.params.count("weights_layout") ? "+" : ""));
        return v;
    };
    EXPECT_EQ(names_of(shape_classes(layers, {"separable"}, {"packed"})),
              (std::vector<std::string>{"separable/packed_3x3m1s1_nhwc+", "separable/packed_3x3m1s2_nhwc+"}));
    Layer narrow = layers[0];
    narrow.out_c = 24;
    EXPECT_EQ(names_of(shape_classes({narrow}, {"pointwise"})), (std::vector<std::string>{"pointwise/nhwc"}));
    EXPECT_THROW(shape_classes(layers, {"pointwise"}, {"blocked"}), std::invalid_argument);
    std::ofstream(path) << "net,a,16,16,8,3,3,x,1,1,16,SAME\n";
    EXPECT_THROW(read_shapes(path), std::runtime_error);
    std::filesystem::remove(path);
}

// A small SAME-padded 3x3 stride-1 layer of the suite "tiny".
Layer tiny_layer(int size, int in_c, int out_c) {
    Layer l;
    l.suite = "tiny";
    l.name = "l1";
    l.in_h = l.in_w = size;
    l.in_c = in_c;
    l.k_h = l.k_w = 3;
    l.out_c = out_c;
    l.padding = "SAME";
    return l;
}

// A short tuning run on this host: `candidates` tried first, one timed pair
// per layer and stage, no progress bar.
TuneOptions quick_options(const std::vector<std::string> &candidates) {
    TuneOptions o;
    o.target = Halide::Target("host");
    o.schedule_fingerprint = "test";
    for (const std::string &k : candidates) o.extra_candidates.push_back(Knobs::parse(k).str());
    o.max_candidates = static_cast<int>(candidates.size());
    o.budget_seconds = 3600;  // never the limit: every candidate is tried
    o.pairs[0] = o.pairs[1] = o.pairs[2] = 1;
    o.sample_ms = 0.1;
    o.progress = false;
    return o;
}

// A tiny tuning run (one small layer, one candidate besides the hand
// schedule) in which that candidate's output is corrupted through the test
// seam: it must be rejected before it is timed and never become the result.
TEST(Tuner, RejectsACandidateWithWrongOutput) {
    const auto classes = shape_classes({tiny_layer(12, 16, 16)}, {"depthwise"});
    ASSERT_EQ(classes.size(), 1u);

    const std::string wrong = Knobs::parse("dw_columns=2,dw_unroll_taps=1,dw_vectors=2").str();
    TuneOptions o = quick_options({wrong});  // only `wrong`
    o.journal_path = temp_path("journal");
    int corrupted = 0;
    o.after_run = [&](const std::string &knobs, Halide::Runtime::Buffer<float> &out) {
        if (knobs == wrong) {
            out(3, 4, 5, 0) += 0.5f;
            corrupted++;
        }
    };
    const auto reports = tune(classes, o);
    ASSERT_EQ(reports.size(), 1u);
    const ClassReport &r = reports[0];
    EXPECT_GT(corrupted, 0);
    ASSERT_EQ(r.rejected.size(), 1u);
    EXPECT_EQ(r.rejected[0].rfind(wrong + ": wrong result", 0), 0u) << r.rejected[0];
    EXPECT_TRUE(r.entry.knobs.empty()) << r.entry.knob_string();
    EXPECT_EQ(r.entry.candidates_rejected, 1);
    ASSERT_EQ(r.entry.layers.size(), 1u);
    EXPECT_GT(r.entry.layers[0].default_ms, 0);

    // The journal records the rejection: a resumed run does not try it again.
    std::ifstream journal(o.journal_path);
    std::string text((std::istreambuf_iterator<char>(journal)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"rejected\""), std::string::npos);
    std::filesystem::remove(o.journal_path);
}

// A packed class times the kernel on a PackedPointwiseFilter: the hand
// schedule passes the reference check (the problem's weights are packed as
// the kernel reads them) and the entry is keyed as the packed AOT variant.
TEST(Tuner, PackedClassRunsOnPackedWeights) {
    const auto classes = shape_classes({tiny_layer(9, 12, 48)}, {"pointwise"}, {"packed"});  // 3 blocks of 16
    ASSERT_EQ(classes.size(), 1u);
    const TuneOptions o = quick_options({"pw_columns=2,pw_vectors=1"});
    const auto reports = tune(classes, o);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_TRUE(reports[0].rejected.empty()) << reports[0].rejected.front();
    EXPECT_EQ(reports[0].entry.key(), "pointwise/packed_nhwc/" + sepconv::schedules::target_class(o.target));
}

// The depthwise taps read either a strip of the zero-padded input or the input
// itself, with the tile loops partitioned into the image's interior and its
// border (knob dw_padded_strip). Without the strip they must compute the
// reference at every border: a stride-2 layer padded on all four sides
// (13 -> 7, SAME) and, for the depthwise, a dilated stride-1 layer (a 2-wide
// border). The tuner checks every candidate against the float64 reference
// before timing it and rejects a wrong one. The candidates are the loop
// orders the tuned database does not hold (schedules/db/schedules.json: one
// strip of all channels, the fused task path), which the AOT kernels' tests
// run: the strip per channel vector, and the fused separable's row path;
// and the fused depthwise in two-vector tiles (40 channels: the tiles overlap),
// on a small image (its depthwise parallel over channel tiles). (Each
// AVX-512 separable takes 30-60 s to compile, so the set is small.)
TEST(Tuner, DirectInputReadsComputeTheReferenceAtEveryBorder) {
    Layer strided = tiny_layer(13, 40, 24);  // 40: two and a half AVX-512 vectors, the channel tiles overlap
    strided.name = "s2";
    strided.stride = 2;
    Layer dilated = strided;
    dilated.name = "d2";
    dilated.in_h = 11;
    dilated.stride = 1;
    dilated.dilation = 2;
    struct Case {
        std::string op;
        std::vector<Layer> layers;
        std::vector<std::string> knob_sets;
    };
    const std::vector<Case> cases = {
        {"depthwise", {strided, dilated}, {"dw_padded_strip=0"}},
        {"separable",
         {strided},
         {"dw_padded_strip=0", "dw_padded_strip=0,fused_per_task=0",
          "dw_padded_strip=0,sep_dw_vectors=2,sep_dw_columns=4"}},
    };
    for (const Case &c : cases) {
        const TuneOptions o = quick_options(c.knob_sets);
        const auto reports = tune(shape_classes(c.layers, {c.op}), o);
        ASSERT_EQ(reports.size(), c.layers.size()) << c.op;  // one class per stride
        for (const ClassReport &r : reports) {
            EXPECT_TRUE(r.rejected.empty()) << r.entry.key() << ": " << r.rejected.front();
            EXPECT_EQ(r.entry.candidates_tried, static_cast<int>(c.knob_sets.size())) << r.entry.key();
        }
    }
}
