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
// These tile sizes are reasoned, not tuned on a device: bench/gpu/ measures
// them on an H100 when one is available.
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
// output not in the tile become block dimensions too. GPUs have three block
// dimensions, the second and third at most 65535 blocks, so those are the
// tiled ones (a few hundred blocks at most) and the untiled ones, fused with
// the innermost tiled one (rows or channels times the batch, which can run to
// hundreds of thousands), are the first. Returns the innermost block loop
// (where a block-wide intermediate is computed).
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

// The accumulator `acc` (pure bias + one update over `reduction`, innermost
// first) of a tiled output, in the registers of the thread that owns it: the
// reduction outside the register tile, the tile unrolled (its first dimension
// one vector if the tile says so).
void accumulate_in_registers(Halide::Stage pure, Halide::Stage update, const std::vector<RVar> &reduction,
                             bool unroll_reduction, const GpuTile &t, bool registers) {
    std::vector<VarOrRVar> order = {c, x, y, n};
    for (const RVar &r : reduction) order.emplace_back(r);
    update.reorder(order);
    if (unroll_reduction) {
        for (const RVar &r : reduction) update.unroll(r);
    }
    if (!registers) return;
    for (size_t i = 0; i < t.dims.size(); i++) {
        const TileDim &d = t.dims[i];
        if (d.per_thread == 1) continue;
        if (i == 0 && t.vector_access) {
            pure.vectorize(d.var, d.per_thread);
            update.vectorize(d.var, d.per_thread);
        } else {
            pure.unroll(d.var, d.per_thread);
            update.unroll(d.var, d.per_thread);
        }
    }
}

// Tiles `output` by `t` (specialized on the output being one register tile
// large, and on `also`) and computes its accumulator per thread. Smaller
// outputs take one output per thread. Returns the innermost block loop.
Var schedule_tiled_output(Func output, Func acc, const std::vector<RVar> &reduction, bool unroll_reduction,
                           const GpuTile &t, Expr also = Halide::Internal::const_true()) {
    const Expr fits = fits_register_tile(output, t) && also;
    tile_for_gpu(output.specialize(fits), output.args(), t, true);
    const Var block = tile_for_gpu(output, output.args(), t, false);
    acc.compute_at(output, thread_loop(t));
    accumulate_in_registers(acc.specialize(fits), acc.update().specialize(fits), reduction, unroll_reduction, t,
                            true);
    accumulate_in_registers(acc, acc.update(), reduction, unroll_reduction, t, false);
    return block;
}

// Depthwise: channels (NHWC) or columns (NCHW) across a warp; each thread
// walks two neighbouring outputs along the next dimension, whose input
// windows overlap (stride 1: 3x3 taps for two outputs read 3x4 inputs, not 3x6).
GpuTile depthwise_tile(Layout layout, const Halide::Target &target) {
    const int warp = gpu_warp_size(target);
    if (layout == Layout::NHWC) return {{{c, warp, 1}, {x, block_warps, 2}}};
    return {{{x, warp, 1}, {y, block_warps, 2}}};
}

// Pointwise (a matrix product over channels): each thread holds 16
// accumulators (NHWC: four channels, one float4, by four columns; NCHW: two
// columns, one float2, by eight channels), so per input channel it loads 8
// (NHWC) or 10 (NCHW) values for 16 multiply-adds, where a 4x2 tile loads 6
// for 8. Loads that neighbouring threads share (NHWC inputs, NCHW weights)
// are broadcasts within the warp.
GpuTile pointwise_tile(Layout layout, const Halide::Target &target) {
    const int warp = gpu_warp_size(target);
    if (layout == Layout::NHWC) return {{{c, warp / 2, 4}, {x, block_warps / 2, 4}, {y, 4, 1}}, true};
    return {{{x, warp / 2, 2}, {c, 2 * block_warps, 8}}, true};
}

// Fused separable: a block covers 8 pixels and up to 64 output channels; the
// depthwise result for its pixels and all intermediate channels is computed
// first, into shared memory, then read by the pointwise threads (a broadcast:
// every thread of a pixel reads the same word).
struct SeparableTile {
    GpuTile output;           // the pointwise threads
    GpuTile mid;              // the depthwise threads (per_thread unused)
    int pixels_x, pixels_y;   // the block's pixels
};

SeparableTile separable_tile(Layout layout, const Halide::Target &target) {
    const int warp = gpu_warp_size(target);
    if (layout == Layout::NHWC) {
        return {{{{c, warp / 2, 4}, {x, 4, 1}, {y, 2, 1}}, true}, {{{c, warp / 2, 1}, {x, 4, 1}, {y, 2, 1}}}, 4, 2};
    }
    return {{{{x, 8, 1}, {c, warp / 2, 4}}}, {{{x, 8, 1}, {c, warp / 2, 1}}}, 8, 1};
}

}  // namespace

void gpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target) {
    schedule_tiled_output(p.output, p.depthwise, {p.taps.x, p.taps.y}, p.taps_known,
                          depthwise_tile(p.layout, target));
}

void gpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target) {
    schedule_tiled_output(p.output, p.pointwise, {p.channels.x}, false, pointwise_tile(p.layout, target));
}

void gpu_schedule_separable(SeparablePipeline p, const Halide::Target &target) {
    const SeparableTile t = separable_tile(p.layout, target);
    const int pixels = t.pixels_x * t.pixels_y;
    const int shared_bytes = gpu_shared_memory_bytes(target);
    const int max_mid_channels = shared_bytes / (pixels * static_cast<int>(sizeof(float)));
    const Expr mid_fits = p.mid_channels <= max_mid_channels;

    // Checked first, so the tiled and the fallback schedules below may assume it.
    p.output.specialize(!mid_fits)
        .specialize_fail("sepconv: this fused separable kernel keeps the depthwise result of " +
                         std::to_string(pixels) + " pixels in " + std::to_string(shared_bytes / 1024) +
                         " KiB of GPU shared memory, so channels * multiplier must be at most " +
                         std::to_string(max_mid_channels));
    const Var block = schedule_tiled_output(p.output, p.pointwise, {p.channels.x}, false, t.output);

    // The block's depthwise result, all intermediate channels, in shared
    // memory; the threads of the block take channels (and, NCHW, columns) in
    // turn. Each value is accumulated in a register first.
    Func mid = p.depthwise.in();
    const Var channel_group("c_group"), channel_lane("c_lane");
    std::vector<VarOrRVar> threads, order;
    int channel_threads = 1;
    for (const TileDim &d : t.mid.dims) {
        if (d.var.same_as(c)) channel_threads = d.threads;
        threads.emplace_back(d.var.same_as(c) ? channel_lane : d.var);
    }
    order = threads;
    if (threads.size() == 2) order.emplace_back(y);  // NCHW: one row of pixels
    order.emplace_back(channel_group);
    order.emplace_back(n);
    mid.compute_at(p.output, block)
        .store_in(MemoryType::GPUShared)
        .split(c, channel_group, channel_lane, channel_threads, TailStrategy::GuardWithIf)
        .reorder(order);
    if (threads.size() == 2) {
        mid.gpu_threads(threads[0], threads[1]);
    } else {
        mid.gpu_threads(threads[0], threads[1], threads[2]);
    }
    // NCHW: columns contiguous in shared memory, so a warp's pixels fall in
    // different banks.
    if (p.layout == Layout::NCHW) mid.reorder_storage(x, y, c, n);

    p.depthwise.compute_at(mid, threads.front().var);
    if (p.taps_known) p.depthwise.update().unroll(p.taps.x).unroll(p.taps.y);
}

}  // namespace sepconv::schedules
