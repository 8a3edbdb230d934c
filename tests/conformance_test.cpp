// A seeded randomized grid of every operation against the float64 reference:
// kernels 1..7 (incl. 1x7 and 3x1), strides 1..3 (incl. unequal), dilations
// 1..3, multipliers 1..4, SAME / VALID / explicit padding, odd sizes (1x1
// images, H != W, channels that are not a multiple of the vector width),
// batch 1..3, bias on/off, every activation, NHWC and NCHW.
//
// SEPCONV_GRID_CASES sets the number of cases per operation (the "heavy"
// ctest label runs a large grid); SEPCONV_GRID_SEED the seed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <array>
#include <map>
#include <set>
#include <sstream>

#include "harness.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace sepconv {
namespace {

int env_int(const char *name, int fallback) {
    const char *v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

struct Case {
    int n, h, w, c, kh, kw, m, out_c;
    Conv2DOptions options;
    bool bias;
    testing::NamedActivation act;

    std::string describe() const {
        std::ostringstream s;
        s << "input " << n << "x" << h << "x" << w << "x" << c << " kernel " << kh << "x" << kw << " M=" << m
          << " out_c=" << out_c << " strides " << options.strides[0] << "," << options.strides[1] << " dilations "
          << options.dilations[0] << "," << options.dilations[1] << " padding "
          << (options.padding.kind == Padding::Kind::Same    ? "SAME"
              : options.padding.kind == Padding::Kind::Valid ? "VALID"
                                                             : "explicit")
          << " [" << options.padding.top << "," << options.padding.bottom << "," << options.padding.left << ","
          << options.padding.right << "] " << to_string(options.data_format) << (bias ? " bias " : " no-bias ")
          << act.name;
        return s.str();
    }
};

// A random valid case; a third of them steer to the specialized AOT variants'
// shapes (3x3 multiplier 1 stride 1/2, 5x5 multiplier 1) so those are covered too.
Case random_case(std::mt19937 &rng) {
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    static const auto activations = testing::all_activations();
    for (;;) {
        Case k;
        k.n = pick(1, 3);
        k.h = pick(1, 13);
        k.w = pick(1, 13);
        k.c = pick(1, 20);
        k.out_c = pick(1, 40);
        k.m = pick(1, 4);
        const int shape_class = pick(0, 8);
        if (shape_class == 0) {  // 1 x k and k x 1 kernels
            k.kh = 1;
            k.kw = pick(1, 7);
            if (pick(0, 1)) std::swap(k.kh, k.kw);
        } else if (shape_class <= 2) {
            k.kh = k.kw = 3;
            k.m = 1;
        } else if (shape_class == 3) {
            k.kh = k.kw = 5;
            k.m = 1;
        } else {
            k.kh = pick(1, 7);
            k.kw = pick(1, 7);
        }
        if (pick(0, 2) == 0) {
            k.options.dilations = {pick(1, 3), pick(1, 3)};
        } else {
            k.options.strides = {pick(1, 3), pick(1, 3)};
            if (pick(0, 1)) k.options.strides[1] = k.options.strides[0];
        }
        switch (pick(0, 2)) {
        case 0: k.options.padding = Padding::same(); break;
        case 1: k.options.padding = Padding::valid(); break;
        default: k.options.padding = Padding::explicit_amounts(pick(0, 3), pick(0, 3), pick(0, 3), pick(0, 3));
        }
        k.options.data_format = pick(0, 3) == 0 ? DataFormat::NCHW : DataFormat::NHWC;
        k.bias = pick(0, 1);
        k.act = activations[pick(0, static_cast<int>(activations.size()) - 1)];
        k.options.activation = k.act.sepconv;
        const auto g = testing::reference_geometry(k.options);
        if (reference::window(k.h, k.kh, g.stride_h, g.rate_h, g.pad, g.top, g.bottom).ok &&
            reference::window(k.w, k.kw, g.stride_w, g.rate_w, g.pad, g.left, g.right).ok) {
            return k;
        }
    }
}

// Runs `op` on case k through the public API (in k's data format) and checks
// it against the reference. Returns the kernel that ran. `packed`: the
// pointwise filter as a PackedPointwiseFilter.
std::string check_case(Op op, const Case &k, std::mt19937 &rng, bool packed = false) {
    const bool nchw = k.options.data_format == DataFormat::NCHW;
    const auto x = testing::random_floats(rng, static_cast<size_t>(k.n) * k.h * k.w * k.c);
    const auto dw = testing::random_floats(rng, static_cast<size_t>(k.kh) * k.kw * k.c * k.m);
    const int mid = op == Op::Pointwise ? k.c : k.c * k.m;
    const int out_c = op == Op::Depthwise ? mid : k.out_c;
    const auto pw = testing::random_floats(rng, static_cast<size_t>(mid) * out_c);
    const auto bias = k.bias ? testing::random_floats(rng, out_c) : std::vector<float>{};

    const reference::Tensor rx = reference::from_floats(x, {k.n, k.h, k.w, k.c});
    const auto g = testing::reference_geometry(k.options);
    reference::Tensor ref;
    int64_t reduction = 0;
    switch (op) {
    case Op::Depthwise:
        ref = reference::depthwise(rx, dw, {k.kh, k.kw, k.c, k.m}, bias, g, k.act.reference);
        reduction = k.kh * k.kw;
        break;
    case Op::Pointwise:
        ref = reference::pointwise(rx, pw, out_c, bias, k.act.reference);
        reduction = k.c;
        break;
    case Op::Separable:
        ref = reference::separable(rx, dw, {k.kh, k.kw, k.c, k.m}, pw, out_c, bias, g, k.act.reference);
        reduction = static_cast<int64_t>(k.kh) * k.kw * mid;
        break;
    }
    const auto [N, OH, OW, OC] = ref.shape;
    auto shape = [&](int a, int b, int c, int d) {
        return nchw ? std::vector<int64_t>{a, d, b, c} : std::vector<int64_t>{a, b, c, d};
    };
    const std::vector<float> x_user = nchw ? testing::nhwc_to_nchw(x, k.n, k.h, k.w, k.c) : x;
    const std::vector<int64_t> x_shape = shape(k.n, k.h, k.w, k.c), out_shape = shape(N, OH, OW, OC);
    std::vector<float> out(static_cast<size_t>(N) * OH * OW * OC, std::nanf(""));
    std::optional<ConstTensor> b;
    if (k.bias) b = ConstTensor(bias, {out_c});
    switch (op) {
    case Op::Depthwise:
        depthwise_conv2d(ConstTensor(x_user, x_shape), ConstTensor(dw, {k.kh, k.kw, k.c, k.m}), b,
                         MutableTensor(out, out_shape), k.options);
        break;
    case Op::Pointwise:
        testing::pointwise_conv2d_with(packed, ConstTensor(x_user, x_shape), ConstTensor(pw, {1, 1, mid, out_c}), b,
                                       MutableTensor(out, out_shape), k.options);
        break;
    case Op::Separable:
        testing::separable_conv2d_with(packed, ConstTensor(x_user, x_shape), ConstTensor(dw, {k.kh, k.kw, k.c, k.m}),
                                       ConstTensor(pw, {1, 1, mid, out_c}), b, MutableTensor(out, out_shape),
                                       k.options);
        break;
    }
    const std::vector<float> got = nchw ? testing::nchw_to_nhwc(out, N, OH, OW, OC) : out;
    testing::expect_close(got, ref, testing::tolerance(ref, reduction),
                          std::string(to_string(op)) + (packed ? " (packed filter) " : " ") + k.describe() +
                              " kernel " + last_kernel());
    return last_kernel();
}

class Conformance : public ::testing::TestWithParam<Op> {};

TEST_P(Conformance, RandomGridMatchesReference) {
    const Op op = GetParam();
    const int cases = env_int("SEPCONV_GRID_CASES", 400);
    std::mt19937 rng(env_int("SEPCONV_GRID_SEED", 20261123) + static_cast<int>(op));
    std::set<std::string> kernels_run;
    for (int i = 0; i < cases && !HasFailure(); i++) {
        Case k = random_case(rng);
        if (op == Op::Pointwise) k.options = Conv2DOptions{{1, 1}, Padding::valid(), {1, 1}, k.options.data_format,
                                                           k.act.sepconv};
        kernels_run.insert(check_case(op, k, rng));
        // And on the filter packed, with whole 16-channel blocks (the packed variants).
        if (op != Op::Depthwise) {
            Case whole_blocks = k;
            whole_blocks.out_c = (k.out_c + 15) / 16 * 16;
            kernels_run.insert(check_case(op, whole_blocks, rng, true));
        }
    }
    // The grid reaches every AOT variant of this operation.
    for (const KernelInfo &info : aot_kernels()) {
        if (info.op == op) EXPECT_TRUE(kernels_run.count(info.name)) << info.name << " never ran in the grid";
    }
}

// The packed pointwise filter on every register tile and loop path of the
// 1x1: the GEMM tiles of 4 and 6 vectors and the single vector, images small
// enough to run parallel over output channels and large enough for row
// tasks, both layouts; and output channels that are not a multiple of the
// 16-channel block, which stay in TF's layout and run its kernels.
TEST(PackedPointwise, MatchesTheReferenceOnEveryTileAndPath) {
    std::mt19937 rng(20261202);
    const auto activations = testing::all_activations();
    int i = 0;
    for (const int out_c : {16, 24, 64, 96, 100, 160, 256, 1024}) {
        // Up to 512 KiB the runtime shows the image as one row; 64x62x40 is larger (row tasks).
        for (const auto &[h, w, c] : {std::array<int, 3>{1, 1, 3}, {7, 7, 32}, {14, 13, 40}, {60, 58, 32},
                                      {64, 62, 40}}) {
            for (const DataFormat f : {DataFormat::NHWC, DataFormat::NCHW}) {
                Case k{2, h, w, c, 1, 1, 1, out_c};
                k.act = activations[i % activations.size()];
                k.options = Conv2DOptions{{1, 1}, Padding::valid(), {1, 1}, f, k.act.sepconv};
                k.bias = i++ % 2 == 0;
                const std::string kernel = check_case(Op::Pointwise, k, rng, true);
                EXPECT_EQ(kernel.find("packed") != std::string::npos, out_c % 16 == 0) << kernel;
            }
        }
    }
}

// The fused separable on a packed pointwise filter, on each loop path: small
// images run parallel over output-channel tiles, larger ones in row tasks;
// the 3x3 stride 1 and 2 and 5x5 variants and the generic ones (a 3x3 of
// multiplier 2, a 2x4 kernel), both layouts; output channels that are not
// whole blocks stay in TF's layout and run its kernels.
TEST(PackedSeparable, MatchesTheReferenceOnEveryVariantAndPath) {
    std::mt19937 rng(20261203);
    const auto activations = testing::all_activations();
    int i = 0;
    for (const int out_c : {16, 40, 64, 96}) {
        for (const auto &[h, w, c] : {std::array<int, 3>{7, 7, 32}, {14, 13, 24}, {45, 38, 64}}) {
            for (const auto &[kh, kw, m, stride] : {std::array<int, 4>{3, 3, 1, 1}, {3, 3, 1, 2}, {5, 5, 1, 1},
                                                    {3, 3, 2, 1}, {2, 4, 1, 2}}) {
                for (const DataFormat f : {DataFormat::NHWC, DataFormat::NCHW}) {
                    Case k{2, h, w, c, kh, kw, m, out_c};
                    k.act = activations[i % activations.size()];
                    k.options = Conv2DOptions{{stride, stride}, i % 3 ? Padding::same() : Padding::valid(), {1, 1},
                                              f, k.act.sepconv};
                    k.bias = i++ % 2 == 0;
                    const std::string kernel = check_case(Op::Separable, k, rng, true);
                    EXPECT_EQ(kernel.find("packed") != std::string::npos, out_c % 16 == 0) << kernel;
                }
            }
        }
    }
}

// The GEMM tile of a vector and a half of output channels (NHWC, TF's
// filter: schedules/cpu_schedules.cpp, gemm_tiles), taken by outputs of 1.5
// up to 2 vectors: 6 and 7 channels on 4 lanes (SSE4.1, baseline, NEON), 12
// and 15 on AVX2's 8, 24 and 31 on AVX-512's 16. The 1x1 on images run
// parallel over output channels and in row tasks, with a width of fewer
// pixels than the tile's columns (the smaller tiles); the fused separable
// (which takes the tile where the schedule database's knob
// pw_vector_and_a_half turns it on) at stride 1 and 2.
TEST(VectorAndAHalfTile, MatchesTheReferenceOnEachTarget) {
    std::mt19937 rng(20261206);
    const auto activations = testing::all_activations();
    int i = 0;
    for (const int out_c : {6, 7, 12, 15, 24, 31}) {
        for (const auto &[h, w, c] : {std::array<int, 3>{7, 7, 32}, {60, 58, 32}, {9, 5, 17}}) {
            Case k{2, h, w, c, 1, 1, 1, out_c};
            k.act = activations[i % activations.size()];
            k.options = Conv2DOptions{{1, 1}, Padding::valid(), {1, 1}, DataFormat::NHWC, k.act.sepconv};
            k.bias = i++ % 2 == 0;
            check_case(Op::Pointwise, k, rng);
        }
        for (const int stride : {1, 2}) {
            Case k{2, 29, 30, 24, 3, 3, 1, out_c};
            k.act = activations[i % activations.size()];
            k.options = Conv2DOptions{{stride, stride}, Padding::same(), {1, 1}, DataFormat::NHWC, k.act.sepconv};
            k.bias = i++ % 2 == 0;
            check_case(Op::Separable, k, rng);
        }
    }
}

// Every activation, with and without bias, on the depthwise variants' tiles:
// the 3x3 stride 1 and 2 and 5x5 variants compile their undilated tiles for
// no activation, a clamp alone and the general activation (the runtime's
// leaky relu), and copy the bias once per call; 16 and 64 channels take the
// one- and two-vector tiles (AVX-512), 3 the untiled fallback; dilation 2
// runs the general tiles; a 2x4 kernel runs the generic variant.
TEST(Depthwise, EveryActivationMatchesTheReferenceOnEachVariant) {
    std::mt19937 rng(20261205);
    for (const auto &act : testing::all_activations()) {
        for (const auto &[kh, kw, stride] : {std::array<int, 3>{3, 3, 1}, {3, 3, 2}, {5, 5, 1}, {2, 4, 1}}) {
            for (const int c : {3, 16, 64}) {
                for (const int dilation : {1, 2}) {
                    if (stride > 1 && dilation > 1) continue;  // TF rejects strides > 1 with dilation
                    for (const bool bias : {false, true}) {
                        Case k{1, 15, 14, c, kh, kw, 1, c};
                        k.act = act;
                        k.options = Conv2DOptions{{stride, stride}, Padding::same(), {dilation, dilation},
                                                  DataFormat::NHWC, act.sepconv};
                        k.bias = bias;
                        check_case(Op::Depthwise, k, rng);
                    }
                }
            }
        }
    }
}

// filter[0][0][i][j] = 100 * i + j with C = 2 input channels and O outputs.
std::vector<float> numbered_filter(int o) {
    std::vector<float> f(2 * o);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < o; j++) f[i * o + j] = 100.0f * i + j;
    }
    return f;
}

// Views whose rows are not contiguous (a crop of a wider image, an output
// written into a wider one) keep their rows; the same data dense run as one
// row. TF's filter and the packed one, NHWC.
TEST(PackedPointwise, CropsKeepTheirRowsAndMatchTheReference) {
    std::mt19937 rng(11);
    const int N = 2, H = 9, W = 12, C = 24, O = 32, h = 7, w = 8;
    const auto image = testing::random_floats(rng, N * H * W * C), pw = testing::random_floats(rng, C * O);
    std::vector<float> crop;  // rows 1..7, columns 2..9, dense, for the reference
    for (int n = 0; n < N; n++)
        for (int y = 1; y <= h; y++)
            for (int x = 2; x < 2 + w; x++)
                for (int c = 0; c < C; c++) crop.push_back(image[((n * H + y) * W + x) * C + c]);
    const reference::Tensor ref =
        reference::pointwise(reference::from_floats(crop, {N, h, w, C}), pw, O, {}, reference::Activation{});
    ConstTensor in(image.data() + (1 * W + 2) * C, {N, h, w, C});
    in.strides = {H * W * C, W * C, C, 1};
    for (const bool use_packed : {false, true}) {
        for (const bool crop_input : {true, false}) {
            std::vector<float> wide(N * h * (w + 3) * O, std::nanf(""));  // the output inside a wider image
            MutableTensor out(wide.data(), {N, h, w, O});
            out.strides = {h * (w + 3) * O, (w + 3) * O, O, 1};
            const ConstTensor x = crop_input ? in : ConstTensor(crop, {N, h, w, C});
            testing::pointwise_conv2d_with(use_packed, x, ConstTensor(pw, {1, 1, C, O}), std::nullopt, out);
            std::vector<float> got;
            for (int n = 0; n < N; n++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int o = 0; o < O; o++) got.push_back(wide[((n * h + y) * (w + 3) + x) * O + o]);
            testing::expect_close(got, ref, testing::tolerance(ref, C),
                                  std::string(use_packed ? "packed" : "TF") + (crop_input ? ", cropped input" : ""));
        }
    }
}

TEST(PackedPointwise, PacksBlocksOfSixteenOutputChannels) {
    const auto f = numbered_filter(32);
    const PackedPointwiseFilter p(ConstTensor(f, {1, 1, 2, 32}));
    EXPECT_EQ(p.shape(), (std::vector<int64_t>{1, 1, 2, 32}));
    ASSERT_TRUE(p.packed());
    ASSERT_EQ(p.values().size(), 2u * 32);
    EXPECT_EQ(p.values()[0 * 16 + 5], 5.0f);          // block 0, input channel 0, output channel 5
    EXPECT_EQ(p.values()[1 * 16 + 15], 115.0f);       // block 0, input channel 1, output channel 15
    EXPECT_EQ(p.values()[(2 + 0) * 16 + 3], 19.0f);   // block 1, input channel 0, output channel 19
    EXPECT_EQ(p.values()[(2 + 1) * 16 + 15], 131.0f); // block 1, input channel 1, output channel 31
}

TEST(PackedPointwise, KeepsTfLayoutWhenOutputChannelsAreNotWholeBlocks) {
    const auto f = numbered_filter(20);
    const PackedPointwiseFilter p(ConstTensor(f, {1, 1, 2, 20}));
    EXPECT_FALSE(p.packed());
    EXPECT_EQ(std::vector<float>(p.values().begin(), p.values().end()), f);
}

INSTANTIATE_TEST_SUITE_P(AllOps, Conformance, ::testing::Values(Op::Depthwise, Op::Pointwise, Op::Separable),
                         [](const auto &info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace sepconv
