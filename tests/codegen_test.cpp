// What the generated code does, where a wrong choice still computes the right
// answer: the conformance tests cannot see a slow kernel. Each test lowers a
// generator (libHalide, no machine code) and reads the lowered statements.
#include "factory.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "Halide.h"

namespace {

using Halide::Internal::Allocate;
using Halide::Internal::IRVisitor;
using Halide::Internal::Load;
using Halide::Internal::Ramp;

// A Func's or loop's name without the "$N" suffixes Halide gives a name
// already taken in the process (by another test's pipeline): "output$1",
// "depthwise$1_in_pointwise$0.s0.x.bo" -> "depthwise_in_pointwise.s0.x.bo".
std::string plain_name(const std::string &name) {
    static const std::regex suffix(R"(\$[0-9]+)");
    return std::regex_replace(name, suffix, "");
}

// The lowered functions of a generator (the kernel and its parallel tasks).
std::vector<Halide::Internal::LoweredFunc> lowered(const std::string &generator, const std::string &target,
                                                   const std::map<std::string, std::string> &params) {
    const Halide::GeneratorContext context{Halide::Target(target)};
    auto gen = sepconv::create_generator(generator, context);
    for (const auto &[name, value] : params) gen->set_generatorparam_value(name, value);
    return gen->build_module(generator).functions();
}

// The vector loads of one buffer whose lanes are not one dense run
// (ramp(base, 1, lanes)): gathers, a load per lane.
class ScatteredVectorLoads : public IRVisitor {
public:
    explicit ScatteredVectorLoads(std::string buffer) : buffer_(std::move(buffer)) {}
    int dense = 0;
    std::vector<std::string> scattered;

private:
    using IRVisitor::visit;
    void visit(const Load *op) override {
        IRVisitor::visit(op);
        if (op->name != buffer_ || op->type.is_scalar()) return;
        const Ramp *ramp = op->index.as<Ramp>();
        if (ramp && Halide::Internal::is_const_one(ramp->stride)) {
            dense++;
            return;
        }
        std::ostringstream text;
        text << Halide::Expr(op);
        scattered.push_back(text.str());
    }
    std::string buffer_;
};

// Packed pointwise weights ([16 * C_in, C_out / 16], C_out a multiple of 16)
// are read in whole vectors: every register tile of output channels starts
// on a block of 16, so each weight vector is one dense load. d1fb57f's
// kernels read them lane by lane in every tile of 2 or more channel vectors
// (the schedule's C_out % 16 == 0 specialization reached the simplifier as a
// flag): with the tuned AVX-512 knobs the 1x1 ran at 0.06-0.13x the speed of
// dense loads on MobileNet's layers.
void expect_dense_weight_loads(const std::string &generator, const std::string &weights, const std::string &target,
                               std::map<std::string, std::string> params) {
    params["weights_layout"] = "packed";
    ScatteredVectorLoads loads(weights);
    for (const auto &f : lowered(generator, target, params)) f.body.accept(&loads);
    std::string where = generator + " on " + target;
    for (const auto &[name, value] : params) where += " " + name + "=" + value;
    EXPECT_GT(loads.dense, 0) << where << ": no vector load of " << weights;
    EXPECT_TRUE(loads.scattered.empty()) << where << ": " << loads.scattered.size() << " gathered loads of " << weights
                                         << ", e.g. " << loads.scattered.front();
}

// The allocations of one Func's register tiles (more than one column) whose
// size is a runtime value: such a tile lives in memory, each FMA a load and a
// store around it, where a constant-size one is promoted to registers.
class RuntimeSizedTiles : public IRVisitor {
public:
    explicit RuntimeSizedTiles(std::string func) : func_(std::move(func)) {}
    int constant = 0;
    std::vector<std::string> runtime_sized;

private:
    using IRVisitor::visit;
    void visit(const Allocate *op) override {
        IRVisitor::visit(op);
        if (plain_name(op->name) != func_ || op->extents.size() < 2) return;
        const auto columns = Halide::Internal::as_const_int(op->extents[1]);
        if (!columns || *columns < 2) return;  // the untiled fallback
        if (Halide::Internal::is_const(op->extents[0])) {
            constant++;
            return;
        }
        std::ostringstream text;
        text << op->extents[0] << " x " << *columns;
        runtime_sized.push_back(text.str());
    }
    std::string func_;
};

// Whether `loop` is the loop `var` of the Func `func`'s pure definition.
bool is_loop_of(const std::string &loop, const std::string &func, const std::string &var) {
    return plain_name(loop).rfind(func + ".s0." + var, 0) == 0;
}

// The vectorized loops over column tiles (a For named ...s0.x.bo whose body
// stores vectors into the Func) of a Func, counted by whether a loop over
// its channel tiles (...s0.c.io) runs inside them. (The unvectorized
// fallback for outputs narrower than a vector has no channel-tile loop
// either: there Halide knows that loop runs once.)
class ColumnTileLoops : public IRVisitor {
public:
    explicit ColumnTileLoops(std::string func) : func_(std::move(func)) {}
    int with_channel_tiles = 0, without_channel_tiles = 0;

private:
    using IRVisitor::visit;
    void visit(const Halide::Internal::For *op) override {
        if (is_loop_of(op->name, func_, "x.bo")) {
            Inside inside(func_);
            op->body.accept(&inside);
            if (inside.vector_store) (inside.channel_tile_loop ? with_channel_tiles : without_channel_tiles)++;
        }
        IRVisitor::visit(op);
    }
    struct Inside : IRVisitor {
        explicit Inside(std::string func) : func(std::move(func)) {}
        using IRVisitor::visit;
        void visit(const Halide::Internal::For *op) override {
            channel_tile_loop = channel_tile_loop || is_loop_of(op->name, func, "c.io");
            IRVisitor::visit(op);
        }
        void visit(const Halide::Internal::Store *op) override {
            vector_store = vector_store || (plain_name(op->name) == func && op->value.type().lanes() > 1);
            IRVisitor::visit(op);
        }
        std::string func;
        bool channel_tile_loop = false, vector_store = false;
    };
    std::string func_;
};

const char *kAvx512 = "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41";
const char *kAvx2 = "x86-64-linux-avx-avx2-f16c-fma-sse41";
const char *kArm64 = "arm-64-linux";
// The generator parameters of the 3x3 stride-1 variants (depthwise and
// fused separable), the ones these tests lower.
const std::map<std::string, std::string> k3x3Stride1{
    {"kernel_w", "3"}, {"kernel_h", "3"}, {"multiplier", "1"}, {"stride", "1"}};

TEST(Codegen, PackedPointwiseWeightsLoadAsVectorsInEveryTile) {
    for (const char *target : {kAvx512, kAvx2, kArm64}) expect_dense_weight_loads("pointwise", "weights", target, {});
    // AVX-512 tiles of 1 to 6 channel vectors (the width and narrow tiles of
    // each: pw_width_columns and pw_narrow_columns).
    for (const char *vectors : {"1", "2", "3", "4", "6"}) {
        expect_dense_weight_loads("pointwise", "weights", kAvx512, {{"knobs", std::string("pw_vectors=") + vectors}});
    }
}

TEST(Codegen, PackedSeparableWeightsLoadAsVectors) {
    expect_dense_weight_loads("separable", "pointwise_filter", kAvx512, k3x3Stride1);
}

// Every GEMM register tile of the 1x1 and of the fused separable on TF's
// filter (NHWC) has a constant size. The tile of a vector and a half of channels
// (TF's filter only) first split its accumulator rounding up, which widened
// the accumulator of every other tile to a runtime size: the 16-channel 1x1
// of MobileNet v2 b1 ran its FMAs on memory, 2.2x the time. (The 1x1 on each
// target, the separable on AVX-512 only, with that tile, which it takes
// where the schedule database turns it on: lowering it takes about 20 s a
// target.)
void expect_constant_size_tiles(const std::string &generator, const std::string &target,
                                std::map<std::string, std::string> params) {
    params["weights_layout"] = "tf";
    params["layout"] = "nhwc";  // the vector-and-a-half tile's layout
    RuntimeSizedTiles tiles("pointwise");
    for (const auto &f : lowered(generator, target, params)) f.body.accept(&tiles);
    const std::string where = generator + " on " + target;
    EXPECT_GT(tiles.constant, 0) << where << ": no register tile";
    EXPECT_TRUE(tiles.runtime_sized.empty())
        << where << ": " << tiles.runtime_sized.size() << " runtime-sized tiles, e.g. " << tiles.runtime_sized.front();
}

TEST(Codegen, GemmAccumulatorTilesHaveConstantSizes) {
    for (const char *target : {kAvx512, kAvx2, kArm64}) expect_constant_size_tiles("pointwise", target, {});
    std::map<std::string, std::string> with_tile = k3x3Stride1;
    with_tile["knobs"] = "pw_vector_and_a_half=1";
    expect_constant_size_tiles("separable", kAvx512, with_tile);
}

// A depthwise whose channels are exactly one register tile of several
// vectors (MobileNet's 32-channel 112x112 layers on AVX-512, in 2-vector
// tiles) runs its column tiles with no loop over channel tiles inside them:
// the tile's input addresses then advance with the columns instead of being
// set up again per tile (the standalone depthwise about 0.91x the time, the
// fused separable on TF's filter 0.89x). Other channel counts keep it.
// `func`: the Func the depthwise tiles compute. Returns the loops' counts.
ColumnTileLoops expect_one_channel_tile_case(const std::string &generator, const std::string &func,
                                             std::map<std::string, std::string> params) {
    params["layout"] = "nhwc";
    ColumnTileLoops loops(func);
    for (const auto &f : lowered(generator, kAvx512, params)) f.body.accept(&loops);
    std::string where = generator;
    for (const auto &[name, value] : params) where += " " + name + "=" + value;
    EXPECT_GT(loops.without_channel_tiles, 0)
        << where << ": no column-tile loop without a channel-tile loop inside (" << loops.with_channel_tiles
        << " with one)";
    EXPECT_GT(loops.with_channel_tiles, 0) << where << ": no column-tile loop for several channel tiles";
    return loops;
}

TEST(Codegen, DepthwiseOfOneChannelTileHasNoChannelTileLoop) {
    std::map<std::string, std::string> params = k3x3Stride1;
    params["knobs"] = "dw_vectors=2,dw_columns=7,dw_padded_strip=0,dw_strip_per_channel_tile=0";
    expect_one_channel_tile_case("depthwise", "output", params);
}

// The fused separable's depthwise, computed into the wrapper of the
// depthwise that the pointwise reads (depthwise_in_pointwise), in the
// tuned avx512 stride-1 tile; its GEMM's narrow and width tiles off, which
// halves the time to lower it. On both filters, the same loops: on the
// packed one the intermediate's channels are the filter's extent / 16, and
// the case stated on that quotient left 4 column-tile loops without a
// channel-tile loop against TF's 29 (extent_is in schedules/cpu_schedules.cpp).
TEST(Codegen, FusedDepthwiseOfOneChannelTileHasNoChannelTileLoop) {
    std::map<std::string, int> without_channel_tiles;
    for (const char *weights : {"tf", "packed"}) {
        std::map<std::string, std::string> params = k3x3Stride1;
        params["weights_layout"] = weights;
        params["knobs"] =
            "sep_dw_vectors=2,sep_dw_columns=7,dw_padded_strip=0,dw_strip_per_channel_tile=0,pw_narrow_columns=0,"
            "pw_width_columns=0";
        without_channel_tiles[weights] =
            expect_one_channel_tile_case("separable", "depthwise_in_pointwise", params).without_channel_tiles;
    }
    EXPECT_EQ(without_channel_tiles["packed"], without_channel_tiles["tf"])
        << "column-tile loops without a channel-tile loop, packed filter against TF's";
}

// The lets of the start row of an output's row task (output.s0.y.row.base),
// counted by whether they clamp it (a Min: min(task * rows, height - rows)).
class RowTaskStarts : public IRVisitor {
public:
    int clamped = 0, unclamped = 0;

private:
    using IRVisitor::visit;
    void visit(const Halide::Internal::LetStmt *op) override {
        if (plain_name(op->name) == "output.s0.y.row.base") {
            HasMin min;
            op->value.accept(&min);
            (min.found ? clamped : unclamped)++;
        }
        IRVisitor::visit(op);
    }
    struct HasMin : IRVisitor {
        using IRVisitor::visit;
        void visit(const Halide::Internal::Min *) override { found = true; }
        bool found = false;
    };
};

// An image's last row task ends at its last row: the row split is
// GuardWithIf, so no task starts earlier than task * rows. Shifted inwards
// (the start clamped to height - rows), a 7-row output in two tasks of 4
// computed row 3 twice, 8/7 of the work: MobileNet's 7x7 outputs (v1 dw12,
// dw13; v2 b14, b15) on one thread took the depthwise 1.08-1.19x and the
// fused separable 1.09-1.11x the time (bench/results/README.md, item 34).
// Every op's row tasks are split by schedule_output_loops; lowered here on
// the depthwise and the 1x1.
TEST(Codegen, RowTasksEndAtTheImagesLastRow) {
    for (const char *generator : {"depthwise", "pointwise"}) {
        std::map<std::string, std::string> params =
            std::string(generator) == "depthwise" ? k3x3Stride1 : std::map<std::string, std::string>{};
        params["layout"] = "nhwc";
        RowTaskStarts starts;
        for (const auto &f : lowered(generator, kAvx512, params)) f.body.accept(&starts);
        EXPECT_GT(starts.unclamped, 0) << generator << ": no row task";
        EXPECT_EQ(starts.clamped, 0) << generator << ": row tasks shifted inwards from the image's end";
    }
}

// The stores of a Func's vectors, counted by whether their value still reads
// the runtime activation's parameters (activation_min, activation_max,
// leaky_alpha); and the loops of the GEMM's reduction (pointwise.s1.*).
class ActivationEpilogue : public IRVisitor {
public:
    int with_parameters = 0, without_parameters = 0, reduction_loops = 0;

private:
    using IRVisitor::visit;
    void visit(const Halide::Internal::Store *op) override {
        if (plain_name(op->name) == "activated" && op->value.type().lanes() > 1) {
            ReadsParameters reads;
            op->value.accept(&reads);
            (reads.found ? with_parameters : without_parameters)++;
        }
        IRVisitor::visit(op);
    }
    void visit(const Halide::Internal::For *op) override {
        if (plain_name(op->name).rfind("pointwise.s1.", 0) == 0) reduction_loops++;
        IRVisitor::visit(op);
    }
    struct ReadsParameters : IRVisitor {
        using IRVisitor::visit;
        void visit(const Halide::Internal::Variable *op) override {
            const std::string name = plain_name(op->name);
            found = found || name == "activation_min" || name == "activation_max" || name == "leaky_alpha";
        }
        bool found = false;
    };
};

ActivationEpilogue activation_epilogue(const std::string &generator, std::map<std::string, std::string> params) {
    params["layout"] = "nhwc";
    ActivationEpilogue epilogue;
    for (const auto &f : lowered(generator, kAvx512, params)) f.body.accept(&epilogue);
    return epilogue;
}

// The 1x1's GEMM tiles store their outputs through an epilogue compiled per
// activation case (knob pw_activation_cases, hand 1): one of them with no
// activation at all, whose stores read none of the runtime activation's
// parameters, and the runtime activation's. Only the epilogue: the tile's
// reduction is compiled as often as without the cases. (The runtime
// activation costs 4 vector operations per output vector: with none,
// MobileNet's 1x1s of 24-64 input channels took 0.92-0.98x the time.)
TEST(Codegen, PointwiseEpilogueIsCompiledPerActivationCase) {
    for (const char *weights : {"tf", "packed"}) {
        const ActivationEpilogue cases = activation_epilogue("pointwise", {{"weights_layout", weights}});
        const ActivationEpilogue inline_activation =
            activation_epilogue("pointwise", {{"weights_layout", weights}, {"knobs", "pw_activation_cases=0"}});
        EXPECT_GT(cases.without_parameters, 0) << weights << ": no epilogue without the runtime activation";
        EXPECT_GT(cases.with_parameters, 0) << weights << ": no epilogue with the runtime activation";
        EXPECT_EQ(cases.reduction_loops, inline_activation.reduction_loops)
            << weights << ": the reduction compiled per activation case";
        EXPECT_EQ(inline_activation.with_parameters + inline_activation.without_parameters, 0)
            << weights << ": pw_activation_cases=0 computes the activation in a tile of its own";
    }
}

}  // namespace
