// The AOT hot path makes no heap allocation per call (after warm-up): every
// op, both layouts, with and without bias, and the layer objects. A counting
// operator new sees every C++ allocation on the calling thread. The kernels'
// own scratch comes from the runtime's workspace cache (runtime/src/
// workspace.cpp), which sits in front of the halide_malloc in place when the
// first kernel runs: this test's counting one, installed first, so it sees
// exactly the cache's misses, on every thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <thread>

#include "HalideRuntime.h"
#include "harness.h"
#include "sepconv/layers.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace {

// Allocations on this thread while `counting` is set.
thread_local bool counting = false;
thread_local int64_t allocations = 0;

void *counted(std::size_t size) {
    if (counting) allocations++;
    if (void *p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}

void *counted_aligned(std::size_t size, std::align_val_t align) {
    if (counting) allocations++;
    const std::size_t a = static_cast<std::size_t>(align);
    if (void *p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}

// The Halide runtime's heap: calls and bytes outstanding.
std::atomic<int64_t> halide_calls{0}, halide_outstanding{0};
struct HalideBlock {
    size_t size;
    alignas(64) unsigned char data[];
};
void *counting_halide_malloc(void *, size_t size) {
    halide_calls++;
    auto *b = static_cast<HalideBlock *>(std::aligned_alloc(64, (sizeof(HalideBlock) + size + 63) / 64 * 64));
    if (!b) return nullptr;
    b->size = size;
    halide_outstanding += static_cast<int64_t>(size);
    return b->data;
}
void counting_halide_free(void *, void *p) {
    if (!p) return;
    auto *b = reinterpret_cast<HalideBlock *>(static_cast<unsigned char *>(p) - offsetof(HalideBlock, data));
    halide_outstanding -= static_cast<int64_t>(b->size);
    std::free(b);
}

}  // namespace

void *operator new(std::size_t size) { return counted(size); }
void *operator new[](std::size_t size) { return counted(size); }
void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
    try {
        return counted(size);
    } catch (...) {
        return nullptr;
    }
}
void *operator new[](std::size_t size, const std::nothrow_t &t) noexcept { return operator new(size, t); }
void *operator new(std::size_t size, std::align_val_t a) { return counted_aligned(size, a); }
void *operator new[](std::size_t size, std::align_val_t a) { return counted_aligned(size, a); }
void operator delete(void *p) noexcept { std::free(p); }
void operator delete[](void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t) noexcept { std::free(p); }
void operator delete(void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace sepconv {
namespace {

// Warm-up fills the workspace cache of each of Halide's worker threads.
constexpr int kWarmup = 8, kCalls = 5;

struct Counts {
    int64_t cpp = 0, halide = 0;
    int64_t workspace_bytes = 0;  // what the warm-up took from the heap and the cache kept
};

// Runs `call` kWarmup times, then kCalls times counting allocations. A
// pool thread that ran none of the warm-up's tasks (a loaded machine: the
// calling thread took them all) fills its cache at its first task, so the
// warm-up and count are repeated, up to kRounds times, until a round of
// calls allocates nothing; an allocation on every call fails every round.
template <typename Call>
Counts count_allocations(Call call) {
    constexpr int kRounds = 3;
    const int64_t held = halide_outstanding.load();
    Counts c;
    for (int round = 0; round < kRounds; round++) {
        for (int i = 0; i < kWarmup; i++) call();
        const int64_t warm = halide_outstanding.load();
        halide_calls = 0;
        allocations = 0;
        counting = true;
        for (int i = 0; i < kCalls; i++) call();
        counting = false;
        c = {allocations, halide_calls.load(), warm - held};
        if (c.cpp == 0 && c.halide == 0) break;
    }
    return c;
}

class AllocationTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        halide_set_custom_malloc(counting_halide_malloc);
        halide_set_custom_free(counting_halide_free);
    }
};

// A MobileNet-like layer (56x56x64, 3x3): both the specialized NHWC variants
// and the generic NCHW ones run.
struct Layer {
    static constexpr int N = 1, H = 56, W = 56, C = 64, M = 1, O = 64;
    std::mt19937 rng{3};
    std::vector<float> x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, 9 * C * M),
                       pw = testing::random_floats(rng, C * M * O), bias_dw = testing::random_floats(rng, C * M),
                       bias_pw = testing::random_floats(rng, O), out = std::vector<float>(N * H * W * O);
};

std::vector<int64_t> shape(DataFormat f, int64_t n, int64_t h, int64_t w, int64_t c) {
    return f == DataFormat::NHWC ? std::vector<int64_t>{n, h, w, c} : std::vector<int64_t>{n, c, h, w};
}

TEST_F(AllocationTest, OpsAllocateNothingPerCall) {
    Layer l;
    for (DataFormat f : {DataFormat::NHWC, DataFormat::NCHW}) {
        for (bool with_bias : {false, true}) {
            Conv2DOptions o;
            o.data_format = f;
            o.padding = Padding::same();
            o.activation = Activation::relu6();
            // Views are built once, outside the counted calls, as a caller would.
            const ConstTensor x(l.x, shape(f, l.N, l.H, l.W, l.C)), dw(l.dw, {3, 3, l.C, l.M}),
                pw(l.pw, {1, 1, l.C * l.M, l.O});
            const MutableTensor out_dw(l.out, shape(f, l.N, l.H, l.W, l.C * l.M)),
                out_pw(l.out, shape(f, l.N, l.H, l.W, l.O));
            std::optional<ConstTensor> b_dw, b_pw;
            if (with_bias) {
                b_dw = ConstTensor(l.bias_dw, {l.C * l.M});
                b_pw = ConstTensor(l.bias_pw, {l.O});
            }
            const std::string what = std::string(to_string(f)) + (with_bias ? " with bias" : " without bias");
            const Counts d = count_allocations([&] { depthwise_conv2d(x, dw, b_dw, out_dw, o); });
            const std::string dw_kernel = last_kernel();
            const Counts p = count_allocations([&] { pointwise_conv2d(x, pw, b_pw, out_pw, o); });
            const std::string pw_kernel = last_kernel();
            const PackedPointwiseFilter packed(pw);  // once, as a caller would
            const Counts pp = count_allocations([&] { pointwise_conv2d(x, packed, b_pw, out_pw, o); });
            const std::string packed_kernel = last_kernel();
            const Counts s = count_allocations([&] { separable_conv2d(x, dw, pw, b_pw, out_pw, o); });
            const std::string sep_kernel = last_kernel();
            EXPECT_EQ(d.cpp, 0) << "depthwise " << what << " (" << dw_kernel << ")";
            EXPECT_EQ(p.cpp, 0) << "pointwise " << what << " (" << pw_kernel << ")";
            EXPECT_EQ(pp.cpp, 0) << "packed pointwise " << what << " (" << packed_kernel << ")";
            EXPECT_EQ(s.cpp, 0) << "separable " << what << " (" << sep_kernel << ")";
            // Kernel scratch (the fused separable's depthwise tile) is reused
            // from the workspace cache: nothing reaches halide_malloc's heap.
            EXPECT_EQ(d.halide, 0) << "depthwise " << what << " (" << dw_kernel << ")";
            EXPECT_EQ(p.halide, 0) << "pointwise " << what << " (" << pw_kernel << ")";
            EXPECT_EQ(pp.halide, 0) << "packed pointwise " << what << " (" << packed_kernel << ")";
            EXPECT_EQ(s.halide, 0) << "separable " << what << " (" << sep_kernel << ")";
            // The kernels' workspace: what their warm-up added to the
            // blocks the cache holds (0 when an earlier kernel's fit).
            for (const auto &[kernel, c] : {std::pair{dw_kernel, d}, std::pair{pw_kernel, p}, std::pair{packed_kernel, pp},
                                       std::pair{sep_kernel, s}}) {
                std::printf("workspace %-36s %-12s %3lld heap allocations/call, warm-up took %lld bytes\n",
                            kernel.c_str(), with_bias ? "with bias" : "no bias", static_cast<long long>(c.halide / kCalls),
                            static_cast<long long>(c.workspace_bytes));
                ::testing::Test::RecordProperty(kernel + (with_bias ? "_bias" : "") + "_workspace_bytes", std::to_string(c.workspace_bytes));
            }
        }
    }
}

TEST_F(AllocationTest, LayersAllocateNothingPerCall) {
    Layer l;
    for (const char *format : {"channels_last", "channels_first"}) {
        const DataFormat f = parse_data_format(format);
        SeparableConv2DConfig keras;
        keras.filters = l.O;
        keras.padding = "same";
        keras.data_format = format;
        SeparableConv2D layer(keras);
        layer.set_weights(ConstTensor(l.dw, {3, 3, l.C, l.M}), ConstTensor(l.pw, {1, 1, l.C * l.M, l.O}),
                          ConstTensor(l.bias_pw, {l.O}));
        const ConstTensor x(l.x, shape(f, l.N, l.H, l.W, l.C));
        const MutableTensor out(l.out, shape(f, l.N, l.H, l.W, l.O));
        EXPECT_EQ(count_allocations([&] { layer(x, out); }).cpp, 0) << "SeparableConv2D " << format;

        for (bool depthwise_only : {false, true}) {
            ContribSeparableConv2DConfig contrib;
            contrib.data_format = to_string(f);
            if (!depthwise_only) contrib.num_outputs = l.O;
            ContribSeparableConv2D c(contrib);
            std::optional<ConstTensor> pw;
            if (!depthwise_only) pw = ConstTensor(l.pw, {1, 1, l.C * l.M, l.O});
            c.set_weights(ConstTensor(l.dw, {3, 3, l.C, l.M}), pw);
            EXPECT_EQ(count_allocations([&] { c(x, out); }).cpp, 0)
                << "contrib separable_conv2d " << format << (depthwise_only ? " depthwise only" : "");
        }
    }
}

// The counters work: a call that must allocate (an error message) is seen.
TEST_F(AllocationTest, CounterSeesAllocations) {
    const Counts c = count_allocations([] {
        try {
            parse_data_format("not a format");
        } catch (const Error &) {
        }
    });
    EXPECT_GT(c.cpp, 0);
}

// And a separable call whose scratch is larger than any block the cache holds
// (32x the channels of the layers above) goes to the heap, once per thread that
// runs a task.
TEST_F(AllocationTest, CounterSeesWorkspaceMisses) {
    constexpr int H = 8, W = 8, C = 2048, O = 8;
    std::mt19937 rng{5};
    const std::vector<float> x = testing::random_floats(rng, H * W * C), dw = testing::random_floats(rng, 9 * C),
                             pw = testing::random_floats(rng, C * O);
    std::vector<float> out(H * W * O);
    Conv2DOptions o;
    o.padding = Padding::same();
    const int64_t before = halide_calls.load();
    separable_conv2d(ConstTensor(x, {1, H, W, C}), ConstTensor(dw, {3, 3, C, 1}), ConstTensor(pw, {1, 1, C, O}),
                     std::nullopt, MutableTensor(out, {1, H, W, O}), o);
    EXPECT_GT(halide_calls.load() - before, 0) << last_kernel();
}

// The cache's policy, through halide_malloc itself on a new thread (an empty
// cache), as README "Reliability" states it: a freed block serves the next
// request that fits; a block over the 32 MiB budget goes back at once; a
// thread keeps at most 8 blocks, the oldest freed goes first; a thread's
// blocks are released when it exits.
TEST_F(AllocationTest, WorkspaceCachePolicy) {
    // Any kernel call installs the cache in front of the counting allocator.
    std::vector<float> x(8), f(9), out(8);
    Conv2DOptions same;
    same.padding = Padding::same();
    depthwise_conv2d(ConstTensor(x, {1, 2, 4, 1}), ConstTensor(f, {3, 3, 1, 1}), std::nullopt,
                     MutableTensor(out, {1, 2, 4, 1}), same);
    const int64_t outstanding_before = halide_outstanding.load();
    std::thread([] {
        const int64_t calls = halide_calls.load();
        void *a = halide_malloc(nullptr, 1000);
        halide_free(nullptr, a);
        EXPECT_EQ(halide_malloc(nullptr, 900), a) << "a freed block serves the next request that fits";
        halide_free(nullptr, a);
        EXPECT_EQ(halide_calls.load() - calls, 1);

        const int64_t held = halide_outstanding.load();
        halide_free(nullptr, halide_malloc(nullptr, std::size_t{33} << 20));
        EXPECT_EQ(halide_outstanding.load(), held) << "a block over the budget is not kept";

        // Nine blocks larger than the cached one, freed in order: eight stay,
        // the first (oldest) goes back to the heap with its 128-byte header.
        constexpr int kBlocks = 9;
        constexpr std::size_t kSize = 64 * 1024;  // a multiple of the header size
        void *blocks[kBlocks];
        for (int i = 0; i < kBlocks; i++) blocks[i] = halide_malloc(nullptr, kSize * (i + 1));
        const int64_t all_held = halide_outstanding.load();
        for (void *b : blocks) halide_free(nullptr, b);
        // The 1000-byte block was freed before the nine: it is the oldest.
        const int64_t released = all_held - halide_outstanding.load();
        EXPECT_EQ(released, static_cast<int64_t>(128 + 1024) + static_cast<int64_t>(128 + kSize))
            << "9 + 1 blocks freed, 8 kept: the two oldest are released";
    }).join();
    EXPECT_EQ(halide_outstanding.load(), outstanding_before) << "an exited thread's blocks are released";
}

}  // namespace
}  // namespace sepconv
