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
//
// Knobs (schedules/knobs.h), each read as knobs.get(name, hand value); the
// hand value is the best schedule measured (bench/results/README.md).
//   dw_vectors         channel vectors per depthwise register tile (1)
//   dw_columns         output columns per depthwise register tile (vector
//                      registers / 2: 8 on AVX2, 16 on AVX-512 and NEON)
//   sep_dw_vectors     channel vectors per fused depthwise register tile (1)
//   sep_dw_columns     output columns per fused depthwise register tile (8)
//   dw_width_columns   NHWC: columns of a standalone depthwise tile taken
//                      where it pads less work than the main one (7, which
//                      divides MobileNet's widths; 0: none)
//   dw_unroll_taps     1: unroll the taps of a constant kernel size (1)
//   dw_specialize_dilation  1: each depthwise register tile also compiled
//                      for dilation 1, with constant tap offsets (1)
//   dw_rows_per_task   most output rows per parallel task of the depthwise
//                      and of the row-fused separable (8; balanced_rows)
//   dw_padded_strip    1: the depthwise taps read a strip of the zero-padded
//                      input, copied once per input row (compute_padded_strip);
//                      0: they read the input itself, the loops partitioned
//                      into the image's interior and its border; the
//                      depthwise and the fused separable (1)
//   dw_strip_per_channel_tile  NHWC depthwise: 1 keeps the padded-input strip
//                      per channel vector (constant column stride), rows inside
//                      channel tiles; 0 one strip of all channels per task;
//                      also the fused separable's task path (1)
//   pw_vectors         output-channel vectors per pointwise GEMM tile (4 with
//                      32 vector registers, 2 with 16)
//   pw_columns         pixel columns per pointwise GEMM tile (6)
//   pw_narrow_columns  columns of a second GEMM tile with as many
//                      accumulators, taken where it pads less work (4)
//   pw_width_columns   NHWC: columns of a third GEMM tile, taken where it
//                      pads less work than both (7, which divides
//                      MobileNet's widths)
//   pw_few_channel_columns  NHWC: columns of the GEMM tiles of fewer channel
//                      vectors, which outputs narrower than the full tile
//                      take (7; 0: pw_columns)
//   pw_vector_and_a_half  NHWC on TF's filter: 1 tries first a GEMM tile of a
//                      vector and a half of output channels, for outputs of
//                      1.5 to 2 vectors; 0: none (the 1x1 1, the fused
//                      separable 0)
//   pw_activation_cases  1: the GEMM tiles' epilogue (the activation of
//                      their outputs) compiled once per activation special
//                      case (activate_in_registers); 0: the runtime
//                      activation inline (the 1x1 1, the fused separable 0)
//   pw_task_bytes      NHWC pointwise: bytes of input rows per task, re-read
//                      once per output-channel tile (half the L2: 262144)
//   pw_channel_parallel_small_images  NHWC pointwise (and fused separable):
//                      1 runs an image whose input (intermediate) fits
//                      pw_image_bytes (sep_task_bytes) parallel over
//                      output-channel tiles (weight panels packed once per image) (1)
//   pw_image_bytes     NHWC pointwise: the largest such input (the L2: 524288)
//   fused_per_task     NHWC separable: 1 computes a task's depthwise
//                      intermediate first, kept in L2 (1); 0 one output row
//                      at a time inside the pointwise's row loop
//   sep_task_bytes     bytes of a task's depthwise intermediate (half the L2)
//   sep_channel_parallel_min_channels  NHWC separable: the fewest output
//                      channels of an image run parallel over output-channel
//                      tiles (pw_channel_parallel_small_images; 512)
#include "cpu_schedules.h"
#include "cpu_target.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
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
    int inner_lanes;   // a multiple of the vector width, or one and a half
                       // vectors (tile_vector_lanes)
    Var blocked;       // unrolled across registers
    int blocked_size;
    // When defined, the tile is taken only where this also holds (it is
    // tried before a tile that would otherwise be taken).
    Expr preferred = Expr();
};

// Lanes of each vector of tile `t`: the target's `lanes`, except in the tile
// of a vector and a half (gemm_tiles), which is one vector of its width
// (on AVX-512 24 lanes, which LLVM splits into a full and a half register).
int tile_vector_lanes(const RegisterTile &t, int lanes) {
    return t.inner_lanes % lanes == 0 ? lanes : t.inner_lanes;
}

// The output's extents along tile `t`'s inner and blocked dimensions.
std::pair<Expr, Expr> tiled_extents(const RegisterTile &t, Expr out_channels, Expr out_width) {
    return {t.inner.same_as(c) ? out_channels : out_width, t.blocked.same_as(c) ? out_channels : out_width};
}

// The condition `extent == n` in a form a specialization substitutes into
// the code it guards: Halide replaces a `variable == constant` condition's
// variable there (so a loop over tiles of that extent gets a constant trip
// count and can vanish), where a condition on an expression of a variable
// only branches. The fused separable's intermediate on the packed 1x1 filter
// has extent / 16 channels (PointwiseWeights::Packed, generators/algorithm.h):
// `x / k == n` becomes `x == n * k`, which implies it (a packed filter
// holds whole blocks of k; any other x takes the general case). The
// one-channel-tile case stated as `x / 16 == 32` left the packed fused
// separable's channel-tile loop in place (its stmt, bench/results item 33).
Expr extent_is(Expr extent, int n) {
    if (const Halide::Internal::Div *div = extent.as<Halide::Internal::Div>()) {
        const auto k = Halide::Internal::as_const_int(div->b);
        if (div->a.as<Halide::Internal::Variable>() && k) return div->a == n * static_cast<int>(*k);
    }
    return extent == n;
}

// Where the output is large enough for tile `t` (and, for a preferred
// tile, where it is the better fit).
Expr tile_taken(const RegisterTile &t, Expr out_channels, Expr out_width) {
    const auto [inner_extent, blocked_extent] = tiled_extents(t, out_channels, out_width);
    Expr fits = inner_extent >= t.inner_lanes && blocked_extent >= t.blocked_size;
    return t.preferred.defined() ? (fits && t.preferred) : fits;
}

// Outputs computed by tile `t` over the whole image: ShiftInwards tiles
// recompute the overlap of the last tile in each dimension.
Expr padded_work(const RegisterTile &t, Expr out_channels, Expr out_width) {
    const auto [inner_extent, blocked_extent] = tiled_extents(t, out_channels, out_width);
    auto rounded_up = [](Expr e, int tile) { return ((e + tile - 1) / tile) * tile; };
    return rounded_up(inner_extent, t.inner_lanes) * rounded_up(blocked_extent, t.blocked_size);
}

// Puts `t` first in `tiles`, preferred (tried first and taken where it fits)
// where it computes fewer padded outputs than `least_work`, the least of the
// tiles it is weighed against; lowers `least_work` to its own.
void insert_where_less_padded(std::vector<RegisterTile> &tiles, RegisterTile t, Expr &least_work, Expr out_channels,
                              Expr out_width) {
    const Expr work = padded_work(t, out_channels, out_width);
    t.preferred = work < least_work;
    least_work = Halide::min(least_work, work);
    tiles.insert(tiles.begin(), t);
}

// The vectorized and register-blocked dimensions of an accumulating stage.
// NHWC: channels in vectors, output columns across registers.
// NCHW: columns in vectors, channels across registers.
RegisterTile register_tile(Layout layout, int inner_vectors, int blocked_size, int lanes) {
    if (layout == Layout::NHWC) return {c, inner_vectors * lanes, x, blocked_size};
    return {x, inner_vectors * lanes, c, blocked_size};
}

// Register tiles from the largest down to a single vector, each tried in turn
// (the first one the output is large enough for is used). The tiles of fewer
// vectors than `inner_vectors` are `fewer_vectors_blocked` wide (by default
// as wide as the largest).
std::vector<RegisterTile> tiles_largest_first(Layout layout, int inner_vectors, int blocked_size, int lanes,
                                              int fewer_vectors_blocked = 0) {
    std::vector<RegisterTile> tiles;
    for (int v = inner_vectors; v >= 1; v /= 2) {
        const int blocked = v < inner_vectors && fewer_vectors_blocked > 0 ? fewer_vectors_blocked : blocked_size;
        tiles.push_back(register_tile(layout, v, blocked, lanes));
    }
    if (blocked_size > 1) tiles.push_back(register_tile(layout, 1, 1, lanes));
    return tiles;
}

// The standalone depthwise's register tiles: `vectors` x `columns` and the
// smaller ones (tiles_largest_first), and in NHWC, tried first, a tile of
// `width_columns` output columns (knob dw_width_columns; 0: none), taken
// where it computes fewer padded outputs than the main tile. 7 divides the
// widths of MobileNet's and EfficientNet's layers; a 4-column tile, the tuned
// one of the stride-2 layers (whose 56- and 28-wide outputs it divides),
// computes 8 columns of a 7-wide row and 16 of a 14-wide one. On MobileNet v1
// dw12 and v2 b14 (14x14 input, stride 2) 2 vectors x 7 columns took 0.80x the
// time of 2 x 4 (`sepconv tune --try`, one thread, AVX-512). Its accumulators
// stay within half the registers, as the hand tile's (1 vector on AVX2).
// The fused depthwise does not take it: each fused tile multiplies the
// specializations of the separable (dilation, small-image path, GEMM tiles),
// and with it a fixed-size separable took 1.2-2x as long to generate.
std::vector<RegisterTile> depthwise_tiles(Layout layout, const Halide::Target &target, int vectors, int columns,
                                          int width_columns, Expr out_channels, Expr out_width) {
    const int lanes = float_lanes(target);
    std::vector<RegisterTile> tiles = tiles_largest_first(layout, vectors, columns, lanes);
    const int width_vectors = width_columns > 0 ? std::min(vectors, vector_registers(target) / 2 / width_columns) : 0;
    if (layout == Layout::NHWC && width_vectors > 0 && width_columns != columns) {
        Expr least_work = padded_work(tiles.front(), out_channels, out_width);
        insert_where_less_padded(tiles, register_tile(layout, width_vectors, width_columns, lanes), least_work,
                                 out_channels, out_width);
    }
    return tiles;
}

// The order of a stage's tile loops: io (inner tiles) and bo (blocked tiles)
// around the register tile, and the rows.
enum class TileOrder {
    // io inside bo inside row.
    InnerTilesInside,
    // bo inside row inside io: a stage computed per row sees one inner tile
    // (e.g. one channel vector of the padded input), and a stage computed at
    // io (a weight panel) serves all the task's rows.
    InnerTilesOutsideRows,
};

// The tile loop the accumulator is computed at: the innermost one.
Var innermost_tile_loop(TileOrder order) {
    return order == TileOrder::InnerTilesInside ? Var("io") : Var("bo");
}

// The depthwise's order, standalone and fused (knob
// dw_strip_per_channel_tile): with a padded-input strip per channel vector
// the rows run inside the channel tiles, so each strip holds one vector.
TileOrder depthwise_tile_order(bool strip_per_channel_tile) {
    return strip_per_channel_tile ? TileOrder::InnerTilesOutsideRows : TileOrder::InnerTilesInside;
}

// How the output loops run around the register tiles.
struct OutputLoops {
    // Rows are split into tasks of `rows` output rows (loop `row` inside the
    // loop `row_task`, batch fused into it).
    Expr rows = 1;
    TileOrder order = TileOrder::InnerTilesInside;
    // Parallel over the inner tiles (output channels) instead of row tasks.
    bool parallel_inner_tiles = false;
    // Each tile is first specialized on `fits && condition` for each of these
    // conditions in turn (the same loops, with the condition known inside),
    // then on `fits` alone.
    std::vector<Expr> specialized_first = {};
    // Each tile of several vectors is first specialized on the output being
    // exactly one such tile wide (NHWC: its channels), in its most specific
    // cases: those of specialized_first, or `fits` where there are none. Its
    // loop over inner tiles then runs once and is gone: the tile's input
    // addresses (one per input column and tap row of a depthwise, the column
    // stride being a runtime value) advance with the column tiles instead of
    // being set up again for each. On MobileNet v1 dw1 and v2 b1 (32
    // channels: one 2-vector tile on AVX-512, one thread) the depthwise took
    // 0.89-0.94x the time (b1), the fused separable 0.89x (b1) and 0.93x (dw1)
    // on TF's filter, 0.87x and 0.93x on the packed one (AOT kernels). Only
    // in the most specific cases, for generation time (avx512): a 3x3
    // depthwise takes 9.1 s instead of 7.3, a 3x3 separable 52.6 s instead of
    // 44.6; with every case, 10.6 and 80 s (bench/results/README.md).
    bool one_inner_tile_case = false;
    // false for a stage computed inside another's task (the fused depthwise):
    // its rows are y, batch is n, no row tasks; parallel over the inner tiles
    // only where parallel_inner_tiles says so.
    bool row_tasks = true;
};

// A stage indexed (c, x, y, n) is stored in that order, channels innermost;
// in NCHW the register tiles load and store it as vectors of columns, so
// columns go innermost there. (Stored channels-innermost, an NCHW
// accumulator tile was an array updated with strided vector loads and stores
// around every FMA, and the NCHW fused separable ran at 4 GFLOP/s.)
void store_vectorized_dimension_innermost(Func f, Layout layout) {
    if (layout == Layout::NCHW) f.reorder_storage(x, c, y, n);
}

Layout tiles_layout(const std::vector<RegisterTile> &tiles) {
    return tiles.front().inner.same_as(c) ? Layout::NHWC : Layout::NCHW;
}

// Stage `s`, computed at a register tile `t`, as the tile's registers: its
// inner dimension in vectors (vi) of tile_vector_lanes, then their count
// (vo) and the blocked dimension, unrolled, and then `outer` (a reduction's
// dimensions). The vector-and-a-half tile splits with GuardWithIf: in its
// own branch the stage is exactly one such vector wide (no guard left), and
// the other branches' bounds see its split too, which rounded up (the
// update's default) widened every branch's accumulator to a runtime size,
// kept in memory instead of registers (MobileNet v2 b1's 1x1, 16 channels,
// took 2.2x the time).
void tile_in_registers(Halide::Stage s, const RegisterTile &t, int lanes, const std::vector<RVar> &outer = {}) {
    Var vo("vo"), vi("vi");
    const int vector_lanes = tile_vector_lanes(t, lanes);
    const TailStrategy tail = vector_lanes == lanes ? TailStrategy::Auto : TailStrategy::GuardWithIf;
    std::vector<Halide::VarOrRVar> order = {vi, vo, t.blocked};
    for (const RVar &r : outer) order.emplace_back(r);
    s.split(t.inner, vo, vi, vector_lanes, tail).reorder(order).vectorize(vi).unroll(vo).unroll(t.blocked);
}

// The accumulator's register tile for each tile in `tiles` (a specialization
// taken when the output is at least that large); computed at the innermost
// tile loop.
void schedule_accumulator(Func output, Func acc, const std::vector<RVar> &reduction, bool unroll_reduction,
                          const std::vector<RegisterTile> &tiles, int lanes, Expr out_channels, Expr out_width,
                          TileOrder order) {
    store_vectorized_dimension_innermost(acc, tiles_layout(tiles));
    acc.compute_at(output, innermost_tile_loop(order));
    for (const RegisterTile &t : tiles) {
        const Expr fits = tile_taken(t, out_channels, out_width);
        tile_in_registers(acc.specialize(fits), t, lanes);
        Halide::Stage update = acc.update().specialize(fits);
        tile_in_registers(update, t, lanes, reduction);
        if (unroll_reduction) {
            for (const RVar &r : reduction) update.unroll(r);
        }
    }
}

// The activation of each register tile (`activated`, which the output
// stores), computed at the tile right after its accumulator, in the same
// vectors, and specialized there on each of `cases` (the activation's special
// cases, most specific first: activation_special_cases in
// generators/algorithm.h). Only this epilogue is compiled once per case, not
// the tile's reduction: the runtime activation costs 4 vector operations per
// output vector (compare, masked multiply, max, min), none without an
// activation, 2 for a clamp. The depthwise instead specializes its whole
// tiles (cpu_schedule_depthwise): done this way, its tiles (9 FMAs per
// output vector) took 0.99-1.08x the time on MobileNet's layers, for half
// the time to generate (AVX-512, one thread; bench/results/README.md).
void activate_in_registers(Func output, Func activated, const std::vector<Expr> &cases,
                           const std::vector<RegisterTile> &tiles, int lanes, Expr out_channels, Expr out_width,
                           TileOrder order) {
    store_vectorized_dimension_innermost(activated, tiles_layout(tiles));
    activated.compute_at(output, innermost_tile_loop(order));
    for (const RegisterTile &t : tiles) {
        const Expr fits = tile_taken(t, out_channels, out_width);
        for (const Expr &when : cases) tile_in_registers(activated.specialize(fits && when), t, lanes);
        tile_in_registers(activated.specialize(fits), t, lanes);
    }
}

// The output's loops around the tiles of schedule_accumulator (the same
// `tiles`); `output` may be a specialization of the output Func.
void schedule_output_loops(Halide::Stage output, const std::vector<RegisterTile> &tiles, int lanes, Expr out_channels,
                           Expr out_width, const OutputLoops &l) {
    Var io("io"), ii("ii"), bo("bo"), bi("bi");
    Var row = l.row_tasks ? Var("row") : y, yn = l.row_tasks ? Var("row_task") : n;
    if (l.row_tasks) {
        // Batch inside the fused task loop (task = image + images * row range):
        // fused the other way, the image was decoded as a division by the
        // row-task count, which bounds inference cannot prove positive when
        // the rows per task are balanced (balanced_rows), and it bounded the
        // input's batch from below by -(tasks - 1).
        // GuardWithIf: an image's last task stops at its last row (Halide
        // folds the guard into the row loop's bound, and the stages computed
        // per task, such as the fused separable's intermediate, are bounded
        // by it too). Shifted inwards, a 7-row image in two tasks of 4 rows
        // computed row 3 twice: MobileNet's 7x7 outputs took 8/7 of the work
        // (on one thread v2 b15's fused separable took 1.11x the time of its
        // depthwise and 1x1 run apart; bench/results/README.md).
        output.split(y, Var("y_task"), row, l.rows, TailStrategy::GuardWithIf).fuse(n, Var("y_task"), yn);
        if (!l.parallel_inner_tiles) output.parallel(yn);
    }
    const std::vector<Halide::VarOrRVar> loops = l.order == TileOrder::InnerTilesInside
                                                     ? std::vector<Halide::VarOrRVar>{ii, bi, io, bo, row, yn}
                                                     : std::vector<Halide::VarOrRVar>{ii, bi, bo, row, io, yn};
    // Parallel over the inner tiles, an output with a single inner tile (the
    // 1x1s of MobileNet v2's 14x14 and 28x28 layers into 64 or 96 channels)
    // splits its blocked tiles in two halves, each a parallel task (it ran on
    // one thread). Outside io: a weight panel packed per io is then packed
    // by each half (a small one), where halves nested inside io let a thread
    // waiting on them take another io task and pack a second large panel
    // (MobileNet v1 dw13's 1x1 on two threads took 1.7-1.9x the time).
    const Var bo_task("bo_task");
    const bool halves = l.row_tasks && l.parallel_inner_tiles;  // the output's own tasks only
    for (const RegisterTile &t : tiles) {
        Expr fits = tile_taken(t, out_channels, out_width);
        std::vector<Expr> cases;
        for (const Expr &condition : l.specialized_first) cases.push_back(fits && condition);
        cases.push_back(fits);
        if (l.one_inner_tile_case && t.inner_lanes > lanes) {
            const Expr one_tile = extent_is(tiled_extents(t, out_channels, out_width).first, t.inner_lanes);
            std::vector<Expr> all;
            const size_t specific = l.specialized_first.empty() ? cases.size() : l.specialized_first.size();
            for (size_t i = 0; i < specific; i++) all.push_back(cases[i] && one_tile);
            all.insert(all.end(), cases.begin(), cases.end());
            cases = all;
        }
        for (const Expr &when : cases) {
            Halide::Stage tiled = output.specialize(when);
            tiled.split(t.inner, io, ii, t.inner_lanes, TailStrategy::ShiftInwards)
                .split(t.blocked, bo, bi, t.blocked_size, TailStrategy::ShiftInwards)
                .reorder(loops)
                .vectorize(ii, tile_vector_lanes(t, lanes))
                .unroll(ii)
                .unroll(bi);
            if (halves) {
                const auto [inner_extent, blocked_extent] = tiled_extents(t, out_channels, out_width);
                const Expr inner_tiles = (inner_extent + t.inner_lanes - 1) / t.inner_lanes;
                const Expr blocked_tiles = (blocked_extent + t.blocked_size - 1) / t.blocked_size;
                const Expr per_task = Halide::select(inner_tiles == 1, (blocked_tiles + 1) / 2, blocked_tiles);
                tiled.split(bo, bo_task, bo, per_task, TailStrategy::GuardWithIf)
                    .reorder(bo, row, io, bo_task)
                    .parallel(bo_task);
            }
            if (l.parallel_inner_tiles) tiled.parallel(io);
        }
    }
    // Fallback for outputs smaller than any tile: same loop names (acc is
    // computed at the same loop everywhere), no vectors.
    const RegisterTile &t = tiles.back();
    output.split(t.inner, io, ii, t.inner_lanes, TailStrategy::GuardWithIf)
        .split(t.blocked, bo, bi, t.blocked_size, TailStrategy::GuardWithIf)
        .reorder(loops);
    if (l.parallel_inner_tiles) output.parallel(io);
}

// Tiles `output` and computes the accumulator `acc` (pure bias + one update
// over `reduction`, innermost first) once per tile in registers, the
// output's loops around the tiles as `loops` says. Each tile in `tiles` is a
// specialization taken when the output is at least that large; smaller
// outputs take an unvectorized fallback.
void accumulate_in_registers(Func output, Func acc, const std::vector<RVar> &reduction, bool unroll_reduction,
                             const std::vector<RegisterTile> &tiles, int lanes, Expr out_channels, Expr out_width,
                             const OutputLoops &loops) {
    schedule_accumulator(output, acc, reduction, unroll_reduction, tiles, lanes, out_channels, out_width,
                         loops.order);
    schedule_output_loops(output, tiles, lanes, out_channels, out_width, loops);
}

// 32 registers: 4 vectors x 6 columns = 24 accumulators; 16 registers: 2 x 6 =
// 12. The rest hold the weight vectors and the broadcast input.
int gemm_inner_vectors(const Halide::Target &target) {
    return vector_registers(target) >= 32 ? 4 : 2;
}
constexpr int gemm_blocked = 6;

// The Func named `prefix`... that `stage` reads directly.
Func called_func(const Func &stage, const std::string &prefix) {
    std::string seen;
    for (const auto &[name, function] : Halide::Internal::find_direct_calls(stage.function())) {
        if (name.rfind(prefix, 0) == 0) return Func(function);
        seen += " " + name;
    }
    throw std::logic_error("cpu_schedules: " + stage.name() + " reads no " + prefix + " (it reads" + seen + ")");
}

// The bias, copied once per call into a dense buffer that the accumulators'
// first definition reads. The bias buffer's stride is a runtime value (0, a
// broadcast zero, when there is none), so each bias vector was assembled
// lane by lane in every register tile (a load and an insert per lane). On
// MobileNet v1's 28- to 7-wide stride-1 depthwise layers the copy took the
// time to 0.87-0.92x (AVX-512, one thread; bench/results/README.md).
void copy_bias_once(const Func &acc) {
    called_func(acc, "bias").in(acc).compute_root();
}

// The zero-padded input the depthwise stage reads (zero_padded in
// generators/algorithm.h: per dimension, a select over a clamped load, the
// in-bounds value marked likely). Left inline, Halide partitions the tile
// loops at the image border and the interior tiles load the input directly
// (knob dw_padded_strip = 0); the border tiles test and clamp every tap.
// (Before the likely marks and the one-select-per-dimension form, the select
// ran on every tap of every output, seen in the stmt as a
// select(x8(cond), input[...], x8(0)) per FMA.)
Func padded_input(const Func &depthwise) {
    return called_func(depthwise, "zero_padded");
}

// Computes the padded input once per input row into a strip that lives for
// one row task (knob dw_padded_strip = 1): Halide's sliding window computes
// only the rows a task's next output row newly needs, so the depthwise taps
// are plain loads from L1/L2 and each input element is copied once (plus the
// k_h - stride halo rows of each task). The copy is a load and a store per
// input vector: at stride 1 against 9 FMAs of a 3x3, at stride 2 against
// 9/4, where it took 45% of MobileNet v1 dw2's samples (perf, AVX-512).
// `per_inner_tile`: the strip holds one inner tile (NHWC: one channel vector),
// stored inside the io loop; its column stride is then the constant vector
// width, so every tap's load is a base register plus an immediate instead of
// one of k_h * k_w * columns runtime addresses (with the full-width strip the
// stmt/assembly showed 80 spilled-pointer reloads per 64 FMAs).
// The loops: the depthwise's tiles (io) and rows (`row`) are those of
// `tiles`, its tasks (row_task) those of `tasks`: both the output, or the
// fused separable's intermediate and the output it is computed for.
void compute_padded_strip(const Func &depthwise, Func tiles, Var row, Func tasks, Layout layout, int lanes,
                          bool per_inner_tile) {
    Func strip = padded_input(depthwise);
    store_vectorized_dimension_innermost(strip, layout);
    if (per_inner_tile) {
        strip.store_at(tiles, Var("io"));
    } else {
        strip.store_at(tasks, Var("row_task"));
    }
    strip.compute_at(tiles, row).vectorize(layout == Layout::NHWC ? c : x, lanes, TailStrategy::GuardWithIf);
}

// Copies the weights of one output-channel tile (tile channels x C_in) into a
// contiguous panel once per task (loop io), read by the register tiles of
// all the task's pixels. Unpacked, successive input channels are C_out floats
// apart: at C_out = 1024 that is a 4 KiB stride, so the panel's lines fall in
// a few cache sets and it was re-read from L3 for every column tile (the
// pointwise of MobileNet v1 dw13 ran 9x slower than oneDNN's).
void pack_weight_panel(const Func &pointwise, Func output, int lanes) {
    Func panel = called_func(pointwise, "pointwise_weights").in(pointwise);
    const std::vector<Var> args = panel.args();  // (output channel, input channel)
    panel.compute_at(output, Var("io")).vectorize(args[0], lanes, TailStrategy::GuardWithIf);
}

// The NHWC GEMM's output loops, for the 1x1 and the fused separable: an
// image where `small_image` holds (undefined: none) is one task parallel over
// output-channel tiles, others run in tasks of `rows` output rows; both with
// output-channel tiles outside the task's rows (schedule_output_loops). The
// weights are in TF's layout, copied into a panel per output-channel tile
// (pack_weight_panel), or packed (PointwiseWeights::Packed). Packed weights
// need no panel: a tile's weights are already one contiguous run per block
// and input channel. C_out is a multiple of the block (the layout's
// contract, require_packed_pointwise_weights in generators/contracts.h), so
// every channel tile, shifted inwards, starts on a block and each weight
// vector is one load.
void schedule_gemm_loops(Func output, const Func &pointwise, const std::vector<RegisterTile> &tiles, int lanes,
                         Expr out_channels, Expr out_width, Expr small_image, Expr out_height, Expr rows,
                         bool packed_weights) {
    auto schedule_loops = [&](Halide::Stage stage) {
        if (small_image.defined()) {
            schedule_output_loops(stage.specialize(small_image), tiles, lanes, out_channels, out_width,
                                  {out_height, TileOrder::InnerTilesOutsideRows, true});
        }
        schedule_output_loops(stage, tiles, lanes, out_channels, out_width,
                              {rows, TileOrder::InnerTilesOutsideRows, false});
    };
    schedule_loops(output);
    if (!packed_weights) pack_weight_panel(pointwise, output, lanes);
}

Expr output_height(const Func &output, Layout layout) {
    return output.output_buffer().dim(layout == Layout::NHWC ? 2 : 1).extent();
}

Expr output_batch(const Func &output) {
    return output.output_buffer().dim(3).extent();  // n is outermost in both layouts
}

// Output rows per parallel task, at most `max_rows`, balanced: the fewest
// tasks that respect the limit, each of ceil(height / tasks) rows, so the
// last task is as long as the others or one row shorter (56 rows in tasks of
// at most 18: 4 x 14, where 18 + 18 + 18 + 2 left a short task, and with
// ShiftInwards row tasks 72 rows of work). At batch 1 an image is at least
// two tasks (two cores busy); at batch 2 and up a task may be a whole image
// (a 7-row layer in tasks of 3 rows read 3 halos, and shifted inwards it
// computed 9 rows).
Expr balanced_rows(Expr max_rows, const Func &output, Layout layout) {
    const Expr height = output_height(output, layout);
    const Expr most_per_image = Halide::select(output_batch(output) > 1, height, (height + 1) / 2);
    const Expr most = Halide::max(1, Halide::min(max_rows, most_per_image));
    const Expr tasks = (height + most - 1) / most;
    return Halide::max(1, (height + tasks - 1) / tasks);
}

// Output rows per task such that `bytes_per_row` times the rows fits in
// `budget_bytes` (the data a task re-reads once per output-channel tile).
Expr rows_fitting(Expr bytes_per_row, int budget_bytes, const Func &output, Layout layout) {
    return balanced_rows(budget_bytes / Halide::max(1, bytes_per_row), output, layout);
}

// Output rows per parallel task for stages that read a padded strip: more
// rows amortize the halo (k_h - stride rows recomputed per task), fewer give
// more tasks. Knob dw_rows_per_task (hand 8: a 3x3 stride-1 halo of 2 rows
// costs 25% of the strip's copies, which are 1/9 of the taps).
Expr rows_per_task(const Func &output, Layout layout, const Knobs &knobs) {
    return balanced_rows(knobs.get("dw_rows_per_task", 8), output, layout);
}

}  // namespace

void cpu_schedule_depthwise(DepthwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    const int lanes = float_lanes(target);
    // One vector of channels by half the register file of columns: a
    // depthwise filter vector is reused only along the row, and the other half
    // of the registers holds input and filter vectors.
    const int vectors = knobs.get("dw_vectors", 1);
    const int columns = knobs.get("dw_columns", vector_registers(target) / 2);
    const bool unroll_taps = p.taps_known && knobs.get("dw_unroll_taps", 1) != 0;
    // Knob dw_strip_per_channel_tile (NHWC only; hand 1): the padded-input
    // strip per channel vector (constant column stride), rows inside channel tiles.
    const bool strip_per_channel_tile =
        knobs.get("dw_strip_per_channel_tile", 1) != 0 && p.layout == Layout::NHWC;
    // Knob dw_specialize_dilation (kernels of a known size; hand 1): every
    // register tile also compiled for dilation 1 (all the MobileNet and
    // EfficientNet layers), where a tap's column offset into the strip is an
    // immediate; a runtime dilation needs an address per tap column.
    const bool specialize_dilation = knobs.get("dw_specialize_dilation", 1) != 0;  // read in every variant
    const Expr undilated = p.taps_known && specialize_dilation ? (p.dilation_x == 1 && p.dilation_y == 1) : Expr();
    // Those tiles are also compiled for each of the activation's special
    // cases (p.activation_cases: none, then a clamp alone), most specific
    // first: a 3x3 tile's output vector costs 9 FMAs, and the runtime
    // activation 4 more vector operations (compare, masked multiply, max,
    // min), a clamp 2. On MobileNet v1's 28- to 7-wide stride-1 layers (AVX-512,
    // one thread, bias copied) no activation took 0.90-0.93x the time of the
    // runtime one (bench/results/README.md).
    OutputLoops loops;
    if (undilated.defined()) {
        for (const Expr &activation : p.activation_cases) loops.specialized_first.push_back(undilated && activation);
        loops.specialized_first.push_back(undilated);
    }
    loops.rows = rows_per_task(p.output, p.layout, knobs);
    loops.order = depthwise_tile_order(strip_per_channel_tile);
    loops.one_inner_tile_case = true;
    // Knob dw_width_columns (NHWC; hand 7; 0: none): see depthwise_tiles.
    const int width_columns = knobs.get("dw_width_columns", 7);
    accumulate_in_registers(p.output, p.depthwise, {p.taps.x, p.taps.y}, unroll_taps,
                            depthwise_tiles(p.layout, target, vectors, columns, width_columns, p.out_channels,
                                            p.out_width),
                            lanes, p.out_channels, p.out_width, loops);
    // Knob dw_padded_strip (hand 1): the taps read a padded-input strip (1)
    // or the input itself, interior and border loops partitioned (0).
    if (knobs.get("dw_padded_strip", 1) != 0) {
        compute_padded_strip(p.depthwise, p.output, Var("row"), p.output, p.layout, lanes, strip_per_channel_tile);
    }
    copy_bias_once(p.depthwise);
}

// The pointwise GEMM tile, the same for the 1x1 and the fused separable.
// Knob pw_narrow_columns (hand 4; 0: none): a second tile with as many
// accumulators in fewer columns (more channel vectors), taken where it
// computes fewer padded outputs. MobileNet's widths are 7 * 2^k: a 7-wide
// image is 12 columns of work in 6-column tiles and 8 in 4-column ones
// (14: 18 and 16), and the 1x1 of MobileNet v1's 7x7x1024 layer ran in 0.67x
// the time with 3 vectors x 4 columns (bench/results/README.md).
// Knob pw_width_columns (NHWC; hand 7; 0: none): a third tile of that many
// columns, as many channel vectors as fit the accumulators (1 with 16
// registers, 3 with 32), taken where it computes fewer padded outputs than
// both: 7 divides the widths of MobileNet's and EfficientNet's layers, so the
// fused separable's 14- and 7-wide rows (which the runtime cannot show as one
// row of pixels, as it does for the 1x1) compute no padding columns.
// Knob pw_few_channel_columns (NHWC; hand 7; 0: pw_columns): the columns of
// the tiles of fewer channel vectors, taken by outputs narrower than the full
// tile (MobileNet v2's 16-, 24- and 32-channel 1x1s: one or two vectors).
// With 6 columns a one-vector tile held 6 accumulators, fewer than the FMA
// latency times its issue rate (4 x 2) keeps busy, and a 56-wide row was 60
// columns of work; 7 divides the widths. Tried on MobileNet v2 b1-b5's 1x1s
// (`sepconv tune --try`, one thread, AVX-512): 7 columns took 0.83-0.94x the
// time of 6 on the 24- and 32-channel layers; 14 or 24 columns on one
// vector, and 12 on two, lost on some of them (bench/results/README.md).
// NHWC with TF's weights, a tile of a vector and a half of channels is tried
// first, taken by outputs of 1.5 up to 2 vectors of channels (MobileNet v2's
// and EfficientNet's 24 on AVX-512: 16 + 8 lanes). Without it a 24-channel
// output took two ShiftInwards one-vector tiles, 32 channels computed in two
// passes over the input, each broadcasting every input value again (v2 b2
// and b3 at 1.33-1.36x oneDNN's time, bench/results/README.md). Each of its
// accumulators is a full and a half register, so it has the one-vector
// tiles' columns, at most (registers - 3) / 2: the weights take two more
// registers and the broadcast input one. Packed weights have none: their
// output channels are whole blocks of 16 (require_packed_pointwise_weights).
// Knob pw_vector_and_a_half (hand: 1 in the 1x1, 0 in the fused separable)
// turns it on or off. In the fused separable each GEMM tile is a
// specialization with its own copy of the fused depthwise, and this one made
// a 3x4 separable take 1.5x as long to generate (16.5-18.5 s against
// 25.7-26.6 s, AVX-512, one core each; its stmt only 1.09x as long) for
// 0.83-0.90x of v2 b3's time and 0.95-0.99x of b2's: every JIT-compiled and
// AOT separable paid for two layers (bench/results/README.md). The tuner
// tries it per class.
static std::vector<RegisterTile> gemm_tiles(Layout layout, const Halide::Target &target, const Knobs &knobs,
                                            Expr out_channels, Expr out_width, bool packed_weights, bool fused) {
    const int lanes = float_lanes(target);
    const int vectors = knobs.get("pw_vectors", gemm_inner_vectors(target));
    const int columns = knobs.get("pw_columns", gemm_blocked);
    const int narrow = knobs.get("pw_narrow_columns", 4);
    const int width_columns = knobs.get("pw_width_columns", 7);
    const int few_channel_columns = knobs.get("pw_few_channel_columns", 7);  // read in every layout
    const bool vector_and_a_half = knobs.get("pw_vector_and_a_half", fused ? 0 : 1) != 0;  // read in every layout
    std::vector<RegisterTile> tiles =
        tiles_largest_first(layout, vectors, columns, lanes, layout == Layout::NHWC ? few_channel_columns : 0);
    Expr least_work = padded_work(tiles.front(), out_channels, out_width);
    if (narrow > 0 && narrow < columns && vectors * columns % narrow == 0) {
        insert_where_less_padded(tiles, register_tile(layout, vectors * columns / narrow, narrow, lanes), least_work,
                                 out_channels, out_width);
    }
    const int width_vectors = width_columns > 0 ? vectors * columns / width_columns : 0;
    if (layout == Layout::NHWC && width_vectors > 0 && width_columns != columns && width_columns != narrow) {
        insert_where_less_padded(tiles, register_tile(layout, width_vectors, width_columns, lanes), least_work,
                                 out_channels, out_width);
    }
    if (vector_and_a_half && layout == Layout::NHWC && !packed_weights && vectors >= 2 && lanes % 2 == 0) {
        const int one_vector_columns = few_channel_columns > 0 ? few_channel_columns : columns;
        const int columns_fitting = (vector_registers(target) - 3) / 2;
        RegisterTile t = register_tile(layout, 1, std::min(one_vector_columns, columns_fitting), lanes);
        t.inner_lanes = lanes + lanes / 2;
        t.preferred = out_channels < 2 * lanes;
        tiles.insert(tiles.begin(), t);
    }
    return tiles;
}

// The pointwise loops run output-channel tiles outside the rows of a task, so
// a tile's weight panel (C_in x tile channels) stays in L1/L2 across all the
// task's pixels instead of being streamed once per column tile (a 1024x1024
// weight matrix is 4 MiB: per column tile that came from L3, 18x slower than
// oneDNN on MobileNet v1 dw13). The task's input rows, re-read once per
// channel tile, are sized to half the L2 (knob pw_task_bytes).
void cpu_schedule_pointwise(PointwisePipeline p, const Halide::Target &target, const Knobs &knobs) {
    // Knob pw_activation_cases (hand 1): the GEMM tiles' epilogue compiled per
    // activation case (activate_in_registers); 0: the runtime activation
    // inline. With no activation, MobileNet's 1x1s of 24-64 input channels
    // took 0.92-0.98x the time (AVX-512, one thread; larger ones 0.98-1.00x).
    const std::vector<Expr> activation_cases =
        knobs.get("pw_activation_cases", 1) != 0 ? p.activation_cases : std::vector<Expr>{};
    const int budget = knobs.get("pw_task_bytes", l2_cache_bytes(target) / 2);
    const bool channel_parallel_small_images = knobs.get("pw_channel_parallel_small_images", 1) != 0;
    const bool nhwc = p.layout == Layout::NHWC;
    const Expr rows = nhwc ? rows_fitting(p.out_width * p.channels.x.extent() * 4, budget, p.output, p.layout)
                           : Expr(1);
    const int lanes = float_lanes(target);
    const std::vector<RegisterTile> tiles =
        gemm_tiles(p.layout, target, knobs, p.out_channels, p.out_width, p.packed_weights, false);
    copy_bias_once(p.pointwise);
    if (!nhwc) {
        accumulate_in_registers(p.output, p.pointwise, {p.channels.x}, false, tiles, lanes, p.out_channels,
                                p.out_width, {rows});
        if (!activation_cases.empty()) {
            activate_in_registers(p.output, p.activated, activation_cases, tiles, lanes, p.out_channels,
                                  p.out_width, TileOrder::InnerTilesInside);
        }
        return;
    }
    // An image whose input fits the L2 (knob pw_image_bytes; small spatial,
    // wide channels: MobileNet's 14x14 and 7x7 layers) runs one image at a
    // time, parallel over output-channel tiles: each weight panel is then
    // packed once per image instead of once per row task (with C_out = 1024
    // the packing reads 4 KiB-strided lines and dominated the profile). Each
    // tile re-reads the image, at 2 FLOPs per float read per tile channel
    // (128 for 64 channels): compute-bound even from L3. The runtime shows
    // such an image as one row of pixels (runtime/src/ops.cpp), so the tiles'
    // columns run along all its pixels.
    const int image_budget = knobs.get("pw_image_bytes", l2_cache_bytes(target));
    const Expr out_height = output_height(p.output, p.layout);
    const Expr image_fits = p.out_width * out_height * p.channels.x.extent() * 4 <= image_budget;
    schedule_accumulator(p.output, p.pointwise, {p.channels.x}, false, tiles, lanes, p.out_channels, p.out_width,
                         TileOrder::InnerTilesOutsideRows);
    if (!activation_cases.empty()) {
        activate_in_registers(p.output, p.activated, activation_cases, tiles, lanes, p.out_channels, p.out_width,
                              TileOrder::InnerTilesOutsideRows);
    }
    schedule_gemm_loops(p.output, p.pointwise, tiles, lanes, p.out_channels, p.out_width,
                        channel_parallel_small_images ? image_fits : Expr(), out_height, rows, p.packed_weights);
}

// The fused depthwise in register tiles, as in the standalone depthwise:
// `mid`, the intermediate the pointwise reads (a wrapper of the depthwise
// accumulator), is computed in tiles of `vectors` channel vectors x `columns`
// output columns, each accumulated over the taps in registers and stored once.
// (Updated in place in `mid`, every tap was a load and a store around one FMA:
// the fused kernel ran slower than our own depthwise + pointwise pair,
// bench/results/README.md.) The caller stores `mid` where it is fused.
// Where `parallel_when` holds (undefined: never), mid's channel tiles run in
// parallel: the small images whose output is one task, parallel over
// output-channel tiles, computed their whole intermediate on one thread first.
Func fused_depthwise_tiles(SeparablePipeline p, int lanes, int vectors, int columns, bool unroll_taps,
                           Expr undilated, TileOrder order, Expr parallel_when) {
    Func mid = p.depthwise.in(p.pointwise);
    store_vectorized_dimension_innermost(mid, p.layout);
    const std::vector<RegisterTile> tiles = tiles_largest_first(p.layout, vectors, columns, lanes);
    schedule_accumulator(mid, p.depthwise, {p.taps.x, p.taps.y}, unroll_taps, tiles, lanes, p.mid_channels,
                         p.out_width, order);
    OutputLoops loops;
    loops.order = order;
    if (undilated.defined()) loops.specialized_first = {undilated};
    loops.row_tasks = false;
    if (parallel_when.defined()) {
        OutputLoops parallel = loops;
        parallel.parallel_inner_tiles = true;
        schedule_output_loops(mid.specialize(parallel_when), tiles, lanes, p.mid_channels, p.out_width, parallel);
    }
    loops.one_inner_tile_case = true;  // not where parallel over the inner tiles: that needs several
    schedule_output_loops(mid, tiles, lanes, p.mid_channels, p.out_width, loops);
    return mid;
}

void cpu_schedule_separable(SeparablePipeline p, const Halide::Target &target, const Knobs &knobs) {
    const int lanes = float_lanes(target);
    const bool unroll_taps = p.taps_known && knobs.get("dw_unroll_taps", 1) != 0;
    // Knob pw_activation_cases (hand 0 here): as in the 1x1. In the fused
    // kernel the cases' conditions stay live through its depthwise, which
    // spilled more: 0.96-0.98x the time on MobileNet v1 dw1 and dw2, but
    // 1.02-1.05x on v2's 32-channel outputs (AVX-512, one thread).
    const std::vector<Expr> activation_cases =
        knobs.get("pw_activation_cases", 0) != 0 ? p.activation_cases : std::vector<Expr>{};
    // Knob fused_per_task (NHWC; hand 1): the depthwise intermediate of a
    // whole row task is computed first and kept in L2; 0 computes it one
    // output row at a time inside the pointwise's row loop (NCHW always).
    const bool per_task = knobs.get("fused_per_task", 1) != 0 && p.layout == Layout::NHWC;
    const Expr rows_per_row_task = rows_per_task(p.output, p.layout, knobs);
    const int sep_budget = knobs.get("sep_task_bytes", l2_cache_bytes(target) / 2);
    // Knobs sep_dw_vectors x sep_dw_columns: channel vectors x output columns
    // of the fused depthwise's register tile (hand 1 x 8: AVX2's 16 registers
    // hold 8 accumulators, the input and the filter vectors; with 16 columns,
    // AVX-512's 5x5 separable took minutes to compile). The standalone
    // depthwise's tuned tile is 2 x 4 (schedules/db/schedules.json).
    const int vectors = knobs.get("sep_dw_vectors", 1);
    const int columns = knobs.get("sep_dw_columns", 8);
    // Knob dw_specialize_dilation (hand 1): as in the depthwise.
    const bool specialize_dilation = knobs.get("dw_specialize_dilation", 1) != 0;
    const Expr undilated = p.taps_known && specialize_dilation ? (p.dilation_x == 1 && p.dilation_y == 1) : Expr();
    const bool channel_parallel_small_images = knobs.get("pw_channel_parallel_small_images", 1) != 0;
    // Read on both paths, so a knob set is valid whichever path it selects.
    const int channel_parallel_min_channels = knobs.get("sep_channel_parallel_min_channels", 512);
    const bool strip_per_channel_tile = knobs.get("dw_strip_per_channel_tile", 1) != 0;
    // Knob dw_padded_strip (hand 1): as in the depthwise.
    const bool padded_strip = knobs.get("dw_padded_strip", 1) != 0;
    copy_bias_once(p.pointwise);
    if (per_task) {
        // The task's rows: its depthwise intermediate (rows x width x C*M) fits
        // in half the L2 (knob sep_task_bytes), so the pointwise reads it from
        // L2, never DRAM, and each pointwise weight panel is read once per task
        // (output-channel tiles outside the task's rows, as in the 1x1).
        const Expr out_height = output_height(p.output, p.layout);
        const Expr rows = rows_fitting(p.out_width * p.mid_channels * 4, sep_budget, p.output, p.layout);
        const std::vector<RegisterTile> tiles =
            gemm_tiles(p.layout, target, knobs, p.out_channels, p.out_width, p.packed_weights, true);
        schedule_accumulator(p.output, p.pointwise, {p.channels.x}, false, tiles, lanes, p.out_channels,
                             p.out_width, TileOrder::InnerTilesOutsideRows);
        if (!activation_cases.empty()) {
            activate_in_registers(p.output, p.activated, activation_cases, tiles, lanes, p.out_channels,
                                  p.out_width, TileOrder::InnerTilesOutsideRows);
        }
        // As in the 1x1: an image whose intermediate fits the budget is one
        // task, parallel over output-channel tiles (panels packed once per
        // image), where it has at least `sep_channel_parallel_min_channels`
        // output channels (hand 512; as many tiles as a thread pool shares
        // out). MobileNet v2 b7, b14 and b15 (64-160 channels: 1-3 tiles) ran
        // slower on two threads than on one (b7: 68.5 against 31.1 µs); in row
        // tasks they took 0.35-0.52x that time, where v1 dw12 and dw13 (1024
        // channels, 2-4 MiB of weights each row task would re-read) took
        // 1.08x and 1.01x (bench/results items 27, 28).
        const Expr image_fits = p.out_width * out_height * p.mid_channels * 4 <= sep_budget &&
                                p.out_channels >= channel_parallel_min_channels;
        schedule_gemm_loops(p.output, p.pointwise, tiles, lanes, p.out_channels, p.out_width,
                            channel_parallel_small_images ? image_fits : Expr(), out_height, rows, p.packed_weights);

        // The task's depthwise reads a padded strip slid down its rows, as in
        // the depthwise (knob dw_strip_per_channel_tile, read above on both
        // paths): 1, one channel vector at a time (rows inside), each with its
        // own strip, so tap offsets are immediates; 0, one strip of all
        // channels, rows outside the channel tiles. 1 re-reads the input's
        // lines once per channel vector (at stride 2 the strip copy took 24%
        // of MobileNet v1 dw2's fused time in Halide's profiler); the tuned
        // choices are in schedules/db/schedules.json. Without the strip
        // (dw_padded_strip = 0) the channel tiles still run in that order.
        Func mid = fused_depthwise_tiles(p, lanes, vectors, columns, unroll_taps, undilated,
                                         depthwise_tile_order(strip_per_channel_tile),
                                         channel_parallel_small_images ? image_fits : Expr());
        mid.compute_at(p.output, Var("row_task"));
        if (padded_strip) compute_padded_strip(p.depthwise, mid, y, p.output, p.layout, lanes, strip_per_channel_tile);
        return;
    }

    // One output row of the intermediate (all its channels) is computed
    // right before the pointwise tiles of that row, so it stays in L1; the
    // padded input is a strip per row task, as in the depthwise.
    const std::vector<RegisterTile> tiles =
        gemm_tiles(p.layout, target, knobs, p.out_channels, p.out_width, p.packed_weights, true);
    accumulate_in_registers(p.output, p.pointwise, {p.channels.x}, false, tiles, lanes, p.out_channels,
                            p.out_width, {rows_per_row_task});
    if (!activation_cases.empty()) {
        activate_in_registers(p.output, p.activated, activation_cases, tiles, lanes, p.out_channels, p.out_width,
                              TileOrder::InnerTilesInside);
    }
    if (padded_strip) compute_padded_strip(p.depthwise, p.output, Var("row"), p.output, p.layout, lanes, false);
    fused_depthwise_tiles(p, lanes, vectors, columns, unroll_taps, undilated, TileOrder::InnerTilesInside, Expr())
        .compute_at(p.output, Var("row"));
}

}  // namespace sepconv::schedules
