// GPU schedules (CUDA, OpenCL) for the sepconv pipelines.
//
// The output is cut into blocks of 128 threads (four 32-thread warps: small
// enough that a streaming multiprocessor holds many blocks and hides memory
// latency, large enough to amortize the block's shared-memory stage). Each
// thread accumulates a small register tile of outputs. The thread index that
// varies fastest walks the dimension that is contiguous in memory (channels
// in NHWC, columns in NCHW), so a warp's loads and stores coalesce.
//
// Tails: each dimension is first split into per-thread register tiles with
// ShiftInwards, so every tile is full and has a constant size (the tile that
// would cross the edge shifts back and recomputes a few outputs), then into
// threads with GuardWithIf (threads past the edge do nothing). A register
// tile needs the output to be at least one tile large; each schedule is
// specialized on that and smaller outputs take one output per thread.
//
// The tile sizes are reasoned from the hardware; two choices below were
// then compared on an H200 (bench/gpu/results/), the rest are not tuned on a
// device.
#include "gpu_schedules.h"
#include "gpu_target.h"

#include <string>
#include <vector>

namespace sepconv::schedules {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::MemoryType;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;
using Halide::VarOrRVar;

const Var c("c"), x("x"), y("y"), n("n");

// Threads per block: four warps.
constexpr int block_warps = 4;

// One dimension of a block: `threads` threads side by side, each computing
// `per_thread` neighbouring outputs.
struct TileDim {
    Var var;
    int threads;
    int per_thread;
};

// The block tile of a stage, dimensions innermost (fastest thread index)
// first, at most three. `vector_access` loads and stores the per-thread
// outputs of dims[0] as one vector (NHWC channels: a float4 is the widest
// single access on CUDA and OpenCL).
struct GpuTile {
    std::vector<TileDim> dims;
    bool vector_access = false;
};

// The loops a tiled dimension becomes.
Var outer_of(const Var &v) { return Var(v.name() + "_o"); }
Var block_of(const Var &v) { return Var(v.name() + "_block"); }
Var thread_of(const Var &v) { return Var(v.name() + "_thread"); }
Var reg_of(const Var &v) { return Var(v.name() + "_reg"); }

// The loop the per-thread accumulator is computed in: the innermost thread loop.
Var thread_loop(const GpuTile &t) { return thread_of(t.dims.front().var); }

// The extent of one of `output`'s dimensions, by variable.
Expr extent_of(Func output, const Var &v) {
    const std::vector<Var> args = output.args();
    for (size_t i = 0; i < args.size(); i++) {
        if (args[i].same_as(v)) return output.output_buffer().dim(static_cast<int>(i)).extent();
    }
    return Expr();
}

// Whether the output is large enough for every register tile of `t`.
Expr fits_register_tile(Func output, const GpuTile &t) {
    Expr fits = Halide::Internal::const_true();
    for (const TileDim &d : t.dims) {
        if (d.per_thread > 1) fits = fits && extent_of(output, d.var) >= d.per_thread;
    }
    return fits;
}

// Cuts `stage` (an output) into blocks and threads as `t` says; with
// `registers` false every thread computes one output. The dimensions of the
// output not in the tile become block dimensions too, innermost. GPUs have
// three block dimensions, the second and third at most 65535 blocks, so the
// innermost ones are fused into the first until three are left: it takes
// what grows with the batch (rows or channels times the batch can run to
// hundreds of thousands), the other two are tiled dimensions (a few hundred
// blocks at most). Returns the innermost block loop (where a block-wide
// intermediate is computed).
Var tile_for_gpu(Halide::Stage stage, const std::vector<Var> &args, const GpuTile &t, bool registers) {
    std::vector<VarOrRVar> regs, threads, blocks;
    for (const Var &a : args) {
        bool tiled = false;
        for (const TileDim &d : t.dims) tiled = tiled || d.var.same_as(a);
        if (!tiled) blocks.emplace_back(a);
    }
    for (const TileDim &d : t.dims) {
        const int per_thread = registers ? d.per_thread : 1;
        stage.split(d.var, outer_of(d.var), reg_of(d.var), per_thread, TailStrategy::ShiftInwards)
            .split(outer_of(d.var), block_of(d.var), thread_of(d.var), d.threads, TailStrategy::GuardWithIf);
        regs.emplace_back(reg_of(d.var));
        threads.emplace_back(thread_of(d.var));
        blocks.emplace_back(block_of(d.var));
    }
    std::vector<VarOrRVar> order = regs;
    order.insert(order.end(), threads.begin(), threads.end());
    order.insert(order.end(), blocks.begin(), blocks.end());
    stage.reorder(order);
    while (blocks.size() > 3) {
        const Var inner = blocks[0].var, outer = blocks[1].var;
        const Var fused(inner.name() + "_" + outer.name());
        stage.fuse(inner, outer, fused);
        blocks.erase(blocks.begin());
        blocks[0] = fused;
    }
    switch (blocks.size()) {
    case 1: stage.gpu_blocks(blocks[0]); break;
    case 2: stage.gpu_blocks(blocks[0], blocks[1]); break;
    default: stage.gpu_blocks(blocks[0], blocks[1], blocks[2]); break;
    }
    switch (threads.size()) {
    case 1: stage.gpu_threads(threads[0]); break;
    case 2: stage.gpu_threads(threads[0], threads[1]); break;
    default: stage.gpu_threads(threads[0], threads[1], threads[2]); break;
    }
    for (size_t i = 0; i < t.dims.size(); i++) {
        if (i == 0 && t.vector_access && registers && t.dims[0].per_thread > 1) {
            stage.vectorize(regs[0].var);
        } else {
            stage.unroll(regs[i].var);
        }
    }
    return blocks[0].var;
}

// How a stage's reduction loop is unrolled: fully (a known, small extent
// such as the taps of a specialized kernel size), by a factor (a long loop of
// run-time extent, such as the pointwise input channels), or not at all.
struct ReductionUnroll {
    bool full = false;
    int factor = 1;
};

// The accumulator `acc` (pure bias + one update over `reduction`, innermost
// first) of a tiled output, in the registers of the thread that owns it: the
// reduction outside the register tile, the tile unrolled (its first dimension
// one vector if the tile says so).
void accumulate_in_registers(Halide::Stage pure, Halide::Stage update, const std::vector<RVar> &reduction,
                             ReductionUnroll unroll_reduction, const GpuTile &t, bool registers) {
    std::vector<VarOrRVar> order = {c, x, y, n};
    for (const RVar &r : reduction) order.emplace_back(r);
    update.reorder(order);
    if (unroll_reduction.full) {
        for (const RVar &r : reduction) update.unroll(r);
    } else if (unroll_reduction.factor > 1) {
        // Several steps of the innermost reduction in one loop body, whose
        // loads ptxas may issue together. The extent is a run-time value:
        // Halide partitions the loop, so the steps of the main loop run
        // unguarded and a tail of guarded steps takes the rest.
        update.unroll(reduction.front(), unroll_reduction.factor, TailStrategy::GuardWithIf);
    }
    if (!registers) return;
    for (size_t i = 0; i < t.dims.size(); i++) {
        const TileDim &d = t.dims[i];
        if (d.per_thread == 1) continue;
        if (i == 0 && t.vector_access) {
            pure.vectorize(d.var, d.per_thread);
            update.vectorize(d.var, d.per_thread);
        } else {
            // Guarded rather than rounded up: where Halide cannot tell which
            // specialization's tile the accumulator has, the other ones' tiles
            // must not grow it (GPU kernels allocate only constant sizes).
            pure.unroll(d.var, d.per_thread, TailStrategy::GuardWithIf);
            update.unroll(d.var, d.per_thread, TailStrategy::GuardWithIf);
        }
    }
}

// A block tile, and when (besides the output being at least one register
// tile large) to use it.
struct TileChoice {
    GpuTile tile;
    Expr when = Halide::Internal::const_true();
};

// Whether choices[i] is the one used: it applies and no earlier one does
// (spelled out, so inside each specialization Halide knows which register
// tile the accumulator has, and sizes it as a constant).
Expr chosen(Func output, const std::vector<TileChoice> &choices, size_t i) {
    Expr when = fits_register_tile(output, choices[i].tile) && choices[i].when;
    for (size_t j = 0; j < i; j++) when = when && !(fits_register_tile(output, choices[j].tile) && choices[j].when);
    return when;
}

// Tiles `output` by the first of `choices` that applies (a specialization
// each) and computes its accumulator per thread. Outputs no choice fits take
// one output per thread in the last choice's block shape. Returns the
// innermost block loop.
Var schedule_tiled_output(Func output, Func acc, const std::vector<RVar> &reduction, ReductionUnroll unroll_reduction,
                          const std::vector<TileChoice> &choices) {
    for (size_t i = 0; i < choices.size(); i++) {
        tile_for_gpu(output.specialize(chosen(output, choices, i)), output.args(), choices[i].tile, true);
    }
    const GpuTile &last = choices.back().tile;
    const Var block = tile_for_gpu(output, output.args(), last, false);
    acc.compute_at(output, thread_loop(last));
    for (size_t i = 0; i < choices.size(); i++) {
        const Expr when = chosen(output, choices, i);
        accumulate_in_registers(acc.specialize(when), acc.update().specialize(when), reduction, unroll_reduction,
                                choices[i].tile, true);
    }
    accumulate_in_registers(acc, acc.update(), reduction, unroll_reduction, last, false);
    return block;
}

// Depthwise: channels (NHWC) or columns (NCHW) across a warp; each thread
// walks two neighbouring outputs along the next dimension, whose input
// windows overlap (stride 1: 3x3 taps for two outputs read 3x4 inputs, not 3x6).
// Knobs: gpu_dw_block_warps (warps per block, 4), gpu_dw_per_thread (2).
GpuTile depthwise_tile(Layout layout, const Halide::Target &target, const Knobs &knobs) {
    const int warp = gpu_warp_size(target);
    const int warps = knobs.get("gpu_dw_block_warps", block_warps);
    const int per_thread = knobs.get("gpu_dw_per_thread", 2);
    if (layout == Layout::NHWC) return {{{c, warp, 1}, {x, warps, per_thread}}};
    return {{{x, warp, 1}, {y, warps, per_thread}}};
}

// Pointwise (a matrix product over channels): each thread holds 16
// accumulators (NHWC: four channels, one float4, by four columns; NCHW: two
// columns, one float2, by eight channels), so per input channel it loads 8
// (NHWC) or 10 (NCHW) values for 16 multiply-adds, where a 4x2 tile loads 6
// for 8. Loads that neighbouring threads share (NHWC inputs, NCHW weights)
// are broadcasts within the warp. Knob gpu_pw_block_warps (warps per block,
// 2): NHWC rows, NCHW channel groups of threads.
GpuTile pointwise_tile(Layout layout, const Halide::Target &target, const Knobs &knobs) {
    const int warp = gpu_warp_size(target);
    // Two warps, not four: a block covers fewer rows, so the small outputs
    // (a 7x7x1024 1x1 at batch 1 is 32 four-warp blocks, on a GPU of 132
    // multiprocessors) spread over more of them. On an H200 this made the
    // 1x1 9-18% faster per suite at batch 1 (MobileNet, EfficientNet, the
    // atrous layers) and up to 14% at batch 32, the same elsewhere
    // (bench/gpu/results/20261204-1748).
    const int warps = knobs.get("gpu_pw_block_warps", 2);
    // NHWC: 16 channel threads x 2 column threads = one warp per row.
    if (layout == Layout::NHWC) return {{{c, warp / 2, 4}, {x, 2, 4}, {y, warps, 1}}, true};
    return {{{x, warp / 2, 2}, {c, 2 * warps, 8}}, true};
}

// Fused separable: a block covers 16 or 8 pixels and up to 64 output
// channels. The depthwise result for its pixels and all intermediate channels
// is computed first, into shared memory, then read by the pointwise threads
// (a broadcast: every thread of a pixel reads the same word). Shared memory
// bounds the pixels times the intermediate channels, so the wider tile (two
// pixels per thread: each weight load feeds 8 multiply-adds, not 4) is for
// layers with fewer channels, such as MobileNet's first, bandwidth-bound ones.
struct SeparableTile {
    GpuTile output;  // the pointwise threads
    int pixels;      // per block
};

// Widest first.
std::vector<SeparableTile> separable_tiles(Layout layout, const Halide::Target &target) {
    const int warp = gpu_warp_size(target);
    if (layout == Layout::NHWC) {
        return {{{{{c, warp / 2, 4}, {x, 4, 2}, {y, 2, 1}}, true}, 16}, {{{{c, warp / 2, 4}, {x, 4, 1}, {y, 2, 1}}, true}, 8}};
    }
    return {{{{{x, 8, 1}, {c, warp / 2, 4}}}, 8}};
}

// The pointwise reduction over input channels (from global memory in the
// 1x1, from shared memory in the fused kernel), unrolled by a factor: knob
// gpu_pw_unroll_channels, 8. Measured on an H200 over the shapes.csv layers
// (bench/gpu/results/20261204-1748, against 20261204-1741 without it): the
// fused kernel 2-15% faster per suite at batch 1 and up to 4% at batch 32,
// the 1x1 alone the same in geomean (some layers faster, some slower); 16
// times the same as 8, 4 as none.
ReductionUnroll pointwise_reduction_unroll(const Knobs &knobs) {
    return {false, knobs.get("gpu_pw_unroll_channels", 8)};
}

}  // namespace

void gpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    schedule_tiled_output(p.output, p.depthwise, {p.taps.x, p.taps.y}, {p.taps_known, 1},
                          {{depthwise_tile(p.layout, target, knobs)}});
}

void gpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    schedule_tiled_output(p.output, p.pointwise, {p.channels.x}, pointwise_reduction_unroll(knobs),
                          {{pointwise_tile(p.layout, target, knobs)}});
}

void gpu_schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs) {
    const std::vector<SeparableTile> tiles = separable_tiles(p.layout, target);
    const int shared_bytes = gpu_shared_memory_bytes(target);
    auto max_mid_channels = [&](const SeparableTile &t) {
        return shared_bytes / (t.pixels * static_cast<int>(sizeof(float)));
    };
    std::vector<TileChoice> choices;
    for (const SeparableTile &t : tiles) choices.push_back({t.output, p.mid_channels <= max_mid_channels(t)});

    // Checked first, so the schedules below may assume it.
    const SeparableTile &narrowest = tiles.back();
    p.output.specialize(p.mid_channels > max_mid_channels(narrowest))
        .specialize_fail("sepconv: this fused separable kernel keeps the depthwise result of " +
                         std::to_string(narrowest.pixels) + " pixels in " + std::to_string(shared_bytes / 1024) +
                         " KiB of GPU shared memory, so channels * multiplier must be at most " +
                         std::to_string(max_mid_channels(narrowest)));
    const Var block =
        schedule_tiled_output(p.output, p.pointwise, {p.channels.x}, pointwise_reduction_unroll(knobs), choices);

    // The block's depthwise result, all intermediate channels, in shared
    // memory; the threads of the block take channels (and the block's
    // pixels) in turn. Each value is accumulated in a register first.
    Func mid = p.depthwise.in();
    mid.compute_at(p.output, block).store_in(MemoryType::GPUShared);
    // NCHW: columns contiguous in shared memory, so a warp's pixels fall in
    // different banks.
    if (p.layout == Layout::NCHW) mid.reorder_storage(x, y, c, n);
    // The same thread shape as the pointwise stage (NHWC: channels by 4
    // columns by 2 rows; NCHW: 8 columns by channels), so no thread idles in
    // either; a wider tile's extra columns are a serial loop.
    const Var channel_group("c_group"), channel_lane("c_lane"), column_group("x_group"), column_lane("x_lane");
    const TileDim &threads_c = tiles.back().output.dims[p.layout == Layout::NHWC ? 0 : 1];
    const TileDim &threads_x = tiles.back().output.dims[p.layout == Layout::NHWC ? 1 : 0];
    mid.split(c, channel_group, channel_lane, threads_c.threads, TailStrategy::GuardWithIf)
        .split(x, column_group, column_lane, threads_x.threads, TailStrategy::GuardWithIf);
    if (p.layout == Layout::NHWC) {
        mid.reorder(channel_lane, column_lane, y, column_group, channel_group, n)
            .gpu_threads(channel_lane, column_lane, y);
    } else {
        mid.reorder(column_lane, channel_lane, y, column_group, channel_group, n).gpu_threads(column_lane, channel_lane);
    }

    p.depthwise.compute_at(mid, p.layout == Layout::NHWC ? channel_lane : column_lane);
    if (p.taps_known) p.depthwise.update().unroll(p.taps.x).unroll(p.taps.y);
}

}  // namespace sepconv::schedules
