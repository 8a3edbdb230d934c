// sepconv/aligned.h: AlignedVector's data is at kTensorAlignment whatever its
// size (small blocks, and large ones that glibc's malloc would place 16 bytes
// past a page), PackedPointwiseFilter keeps its values there, and the kernels
// give the same bits on aligned and unaligned data (alignment is a speed
// matter, never a correctness one).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "harness.h"
#include "sepconv/aligned.h"
#include "sepconv/ops.h"

namespace {

using namespace sepconv;
using sepconv::testing::random_floats;

bool aligned(const void *p) { return reinterpret_cast<std::uintptr_t>(p) % kTensorAlignment == 0; }

TEST(AlignedVector, DataIsAlignedAtEverySize) {
    for (size_t n : {size_t(1), size_t(3), size_t(16), size_t(17), size_t(1000), size_t(1) << 16, size_t(1) << 22}) {
        AlignedVector<float> v(n, 1.0f);
        EXPECT_TRUE(aligned(v.data())) << n << " floats at " << v.data();
        v.resize(n * 3 + 1);  // reallocated
        EXPECT_TRUE(aligned(v.data())) << n * 3 + 1 << " floats at " << v.data();
        EXPECT_EQ(v[n - 1], 1.0f);
    }
}

TEST(AlignedVector, HugeSizeIsBadArrayNewLength) {
    AlignedAllocator<float> a;
    EXPECT_THROW(a.allocate(SIZE_MAX / 2), std::bad_array_new_length);
}

// The packed 1x1 weights the kernels load a block (16 floats) at a time.
TEST(AlignedVector, PackedPointwiseFilterValuesAreAligned) {
    for (int64_t c : {3, 512}) {
        const std::vector<float> w(size_t(c) * 512, 0.5f);
        const PackedPointwiseFilter packed(ConstTensor(w, {1, 1, c, 512}));
        EXPECT_TRUE(packed.packed());
        EXPECT_TRUE(aligned(packed.values().data())) << c << " x 512 weights at " << packed.values().data();
    }
}

// The depthwise (AVX-512's 16-lane channel vectors, 3x3, stride 1 and 2) and
// the separable on data 64-byte aligned and 1, 4 and 7 floats past it.
TEST(AlignedVector, KernelsGiveTheSameBitsAtAnyAlignment) {
    std::mt19937 rng(7);
    const int64_t N = 1, H = 9, W = 11, C = 48, O = 32;
    const std::vector<float> input = random_floats(rng, N * H * W * C);
    const std::vector<float> dw = random_floats(rng, 3 * 3 * C), pw = random_floats(rng, C * O);
    const std::vector<float> bias = random_floats(rng, O);
    for (int stride : {1, 2}) {
        Conv2DOptions options;
        options.strides = {stride, stride};
        options.padding = Padding::same();
        const int64_t OH = (H + stride - 1) / stride, OW = (W + stride - 1) / stride;
        std::vector<float> want_dw, want_sep;
        for (size_t offset : {size_t(0), size_t(1), size_t(4), size_t(7)}) {
            AlignedVector<float> in_memory(input.size() + offset), dw_out(N * OH * OW * C + offset),
                sep_out(N * OH * OW * O + offset);
            std::copy(input.begin(), input.end(), in_memory.begin() + offset);
            const ConstTensor in(in_memory.data() + offset, {N, H, W, C});
            depthwise_conv2d(in, ConstTensor(dw, {3, 3, C, 1}), std::nullopt,
                             MutableTensor(dw_out.data() + offset, {N, OH, OW, C}), options);
            separable_conv2d(in, ConstTensor(dw, {3, 3, C, 1}), ConstTensor(pw, {1, 1, C, O}), ConstTensor(bias, {O}),
                             MutableTensor(sep_out.data() + offset, {N, OH, OW, O}), options);
            const std::vector<float> got_dw(dw_out.begin() + offset, dw_out.end());
            const std::vector<float> got_sep(sep_out.begin() + offset, sep_out.end());
            if (offset == 0) {
                want_dw = got_dw, want_sep = got_sep;
                continue;
            }
            EXPECT_EQ(got_dw, want_dw) << "depthwise, stride " << stride << ", " << offset << " floats past 64 bytes";
            EXPECT_EQ(got_sep, want_sep) << "separable, stride " << stride << ", " << offset << " floats past 64 bytes";
        }
    }
}

}  // namespace
