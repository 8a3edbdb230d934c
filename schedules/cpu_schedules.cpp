// CPU schedules (x86 and ARM) for the sepconv pipelines.
//
// Every stage is an accumulator tile held in vector registers: `inner` is the
// dimension that is contiguous in memory (channels in NHWC, columns in NCHW)
// and is vectorized; `blocked` is a second dimension unrolled across
// registers so each loaded filter / weight vector is reused several times.
// Rows and batch are fused and parallelized.
//
// Tiles are ShiftInwards, so every tile is full and there is no scalar tail
// loop: a channel count that is not a multiple of the vector width recomputes
// a few overlapping lanes instead. That needs the output to be at least one
// tile large, so each schedule is specialized on that, and a plain (but
// correct) fallback covers tiny outputs (1x1 images, fewer channels than lanes).
#include "cpu_schedules.h"
#include "cpu_target.h"

#include <algorithm>
#include <vector>

namespace sepconv::schedules {
namespace {

using Halide::Expr;
using Halide::Func;
using Halide::RVar;
using Halide::TailStrategy;
using Halide::Var;

const Var c("c"), x("x"), y("y"), n("n");

// The register tile of one stage.
struct RegisterTile {
    Var inner;         // vectorized, contiguous in memory
    int inner_lanes;   // a multiple of the vector width
    Var blocked;       // unrolled across registers
    int blocked_size;
};

// The vectorized and register-blocked dimensions of an accumulating stage.
// NHWC: channels in vectors, output columns across registers.
// NCHW: columns in vectors, channels across registers.
RegisterTile register_tile(Layout layout, int inner_vectors, int blocked_size, int lanes) {
    if (layout == Layout::NHWC) return {c, inner_vectors * lanes, x, blocked_size};
    return {x, inner_vectors * lanes, c, blocked_size};
}

// Register tiles from the largest down to a single vector, each tried in turn
// (the first one the output is large enough for is used).
std::vector<RegisterTile> tiles_largest_first(Layout layout, int inner_vectors, int blocked_size, int lanes) {
    std::vector<RegisterTile> tiles;
    for (int v = inner_vectors; v >= 1; v /= 2) tiles.push_back(register_tile(layout, v, blocked_size, lanes));
    if (blocked_size > 1) tiles.push_back(register_tile(layout, 1, 1, lanes));
    return tiles;
}

// Tiles `output` and computes the accumulator `acc` (pure bias + one update
// over `reduction`, innermost first) once per tile in registers. Each tile in
// `tiles` is a specialization taken when the output is at least that large
// (and `also` holds); smaller outputs take an unvectorized fallback.
void accumulate_in_registers(Func output, Func acc, const std::vector<RVar> &reduction, bool unroll_reduction,
                             const std::vector<RegisterTile> &tiles, int lanes, Expr out_channels, Expr out_width,
                             Expr also = Halide::Internal::const_true()) {
    Var yn("yn"), io("io"), ii("ii"), bo("bo"), bi("bi"), vo("vo"), vi("vi");
    output.fuse(y, n, yn).parallel(yn);
    acc.compute_at(output, io);

    for (const RegisterTile &t : tiles) {
        Expr inner_extent = t.inner.same_as(c) ? out_channels : out_width;
        Expr blocked_extent = t.blocked.same_as(c) ? out_channels : out_width;
        Expr fits = also && inner_extent >= t.inner_lanes && blocked_extent >= t.blocked_size;

        output.specialize(fits)
            .split(t.inner, io, ii, t.inner_lanes, TailStrategy::ShiftInwards)
            .split(t.blocked, bo, bi, t.blocked_size, TailStrategy::ShiftInwards)
            .reorder(ii, bi, io, bo, yn)
            .vectorize(ii, lanes)
            .unroll(ii)
            .unroll(bi);
        acc.specialize(fits)
            .split(t.inner, vo, vi, lanes)
            .reorder(vi, vo, t.blocked)
            .vectorize(vi)
            .unroll(vo)
            .unroll(t.blocked);
        std::vector<Halide::VarOrRVar> order = {vi, vo, t.blocked};
        for (const RVar &r : reduction) order.emplace_back(r);
        Halide::Stage update = acc.update().specialize(fits);
        update.split(t.inner, vo, vi, lanes).reorder(order).vectorize(vi).unroll(vo).unroll(t.blocked);
        if (unroll_reduction) {
            for (const RVar &r : reduction) update.unroll(r);
        }
    }
    // Fallback for outputs smaller than any tile: same loop names (acc is
    // computed at io everywhere), no vectors.
    const RegisterTile &t = tiles.back();
    output.split(t.inner, io, ii, t.inner_lanes, TailStrategy::GuardWithIf)
        .split(t.blocked, bo, bi, t.blocked_size, TailStrategy::GuardWithIf)
        .reorder(ii, bi, io, bo, yn);
}

// 32 registers: 4 vectors x 6 columns = 24 accumulators; 16 registers: 2 x 6 =
// 12. The rest hold the weight vectors and the broadcast input.
int gemm_inner_vectors(const Halide::Target &target) {
    return vector_registers(target) >= 32 ? 4 : 2;
}
constexpr int gemm_blocked = 6;

}  // namespace

void cpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    const int lanes = float_lanes(target);
    // One vector of channels by half the register file of columns: a
    // depthwise filter vector is reused only along the row, and the other half
    // of the registers holds input and filter vectors.
    const int vectors = knobs.get("dw_vectors", 1);
    const int columns = knobs.get("dw_columns", vector_registers(target) / 2);
    const bool unroll_taps = p.taps_known && knobs.get("dw_unroll_taps", 1) != 0;
    accumulate_in_registers(p.output, p.depthwise, {p.taps.x, p.taps.y}, unroll_taps,
                            tiles_largest_first(p.layout, vectors, columns, lanes), lanes, p.out_channels,
                            p.out_width);
}

// The pointwise GEMM tile, the same for the 1x1 and the fused separable.
static std::vector<RegisterTile> gemm_tiles(Layout layout, const Halide::Target &target, const Knobs &knobs) {
    return tiles_largest_first(layout, knobs.get("pw_vectors", gemm_inner_vectors(target)),
                               knobs.get("pw_columns", gemm_blocked), float_lanes(target));
}

void cpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    accumulate_in_registers(p.output, p.pointwise, {p.channels.x}, false, gemm_tiles(p.layout, target, knobs),
                            float_lanes(target), p.out_channels, p.out_width);
}

void cpu_schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs) {
    const int lanes = float_lanes(target);
    accumulate_in_registers(p.output, p.pointwise, {p.channels.x}, false, gemm_tiles(p.layout, target, knobs),
                            lanes, p.out_channels, p.out_width);

    // Fusion: the depthwise result for one tile of output columns (all
    // intermediate channels) is computed right before the pointwise tiles
    // that read it, so it stays in L1 and never goes to memory.
    // In NHWC that is a tile of columns (bo); in NCHW the tiles block
    // channels, so the whole row (yn) is computed first.
    // Knob fused_per_row: 1 computes the whole row first in NHWC too.
    const bool per_row = p.layout == Layout::NCHW || knobs.get("fused_per_row", 0) != 0;
    const Var at = per_row ? Var("yn") : Var("bo");
    p.depthwise.compute_at(p.output, at).vectorize(c, lanes, TailStrategy::GuardWithIf);
    Halide::Stage update = p.depthwise.update();
    update.reorder(c, x, p.taps.x, p.taps.y).vectorize(c, lanes, TailStrategy::GuardWithIf);
    if (p.taps_known && knobs.get("dw_unroll_taps", 1) != 0) update.unroll(p.taps.x).unroll(p.taps.y);
}

}  // namespace sepconv::schedules
