// The JIT: kernels compiled for exactly a call's parameters agree with the AOT
// kernels and the reference; the memory cache hits on a second call, the disk
// cache across processes; 8 threads share it safely; the kernels run on the
// process's Halide runtime.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "HalideRuntime.h"
#include "harness.h"
#include "sepconv/jit.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace sepconv {
namespace {

namespace fs = std::filesystem;

// A fresh cache directory per test process.
std::string temp_cache_dir(const std::string &name) {
    fs::path p = fs::temp_directory_path() / ("sepconv-jit-test-" + std::to_string(getpid()) + "-" + name);
    fs::remove_all(p);
    return p.string();
}

struct Call {
    Op op;
    int kh, kw, m, stride;
    DataFormat format = DataFormat::NHWC;
    bool packed = false;  // the pointwise filter as a PackedPointwiseFilter (whole blocks)
};

// Runs `c` on seeded random data; returns the NHWC output and checks it
// against the reference.
std::vector<float> run(const Call &c, int seed = 1) {
    std::mt19937 rng(seed);
    // A packed filter has whole blocks of 16 output channels (else it stays in TF's layout).
    const int N = 1, H = 10, W = 9, C = 6, O = c.packed ? 16 : 5;
    const int mid = c.op == Op::Pointwise ? C : C * c.m, out_c = c.op == Op::Depthwise ? mid : O;
    Conv2DOptions o;
    o.strides = {c.stride, c.stride};
    o.padding = Padding::same();
    o.data_format = c.format;
    o.activation = Activation::leaky_relu(0.1f);
    const auto x = testing::random_floats(rng, N * H * W * C), dw = testing::random_floats(rng, c.kh * c.kw * C * c.m),
               pw = testing::random_floats(rng, mid * out_c), bias = testing::random_floats(rng, out_c);
    const auto g = testing::reference_geometry(o);
    const auto rx = reference::from_floats(x, {N, H, W, C});
    const reference::Activation leaky{reference::Act::LeakyRelu, 0, 0, 0.1};
    const reference::Tensor ref =
        c.op == Op::Depthwise   ? reference::depthwise(rx, dw, {c.kh, c.kw, C, c.m}, bias, g, leaky)
        : c.op == Op::Pointwise ? reference::pointwise(rx, pw, out_c, bias, leaky)
                                : reference::separable(rx, dw, {c.kh, c.kw, C, c.m}, pw, out_c, bias, g, leaky);
    const auto [RN, OH, OW, OC] = ref.shape;
    const bool nchw = c.format == DataFormat::NCHW;
    auto shape = [&](int64_t a, int64_t b, int64_t cc, int64_t d) {
        return nchw ? std::vector<int64_t>{a, d, b, cc} : std::vector<int64_t>{a, b, cc, d};
    };
    const auto xu = nchw ? testing::nhwc_to_nchw(x, N, H, W, C) : x;
    std::vector<float> out(ref.data.size());
    const ConstTensor in(xu, shape(N, H, W, C)), b(bias, {out_c});
    const MutableTensor ov(out, shape(RN, OH, OW, OC));
    switch (c.op) {
    case Op::Depthwise: depthwise_conv2d(in, ConstTensor(dw, {c.kh, c.kw, C, c.m}), b, ov, o); break;
    case Op::Pointwise: testing::pointwise_conv2d_with(c.packed, in, ConstTensor(pw, {1, 1, C, out_c}), b, ov, o); break;
    case Op::Separable:
        testing::separable_conv2d_with(c.packed, in, ConstTensor(dw, {c.kh, c.kw, C, c.m}),
                                       ConstTensor(pw, {1, 1, mid, out_c}), b, ov, o);
        break;
    }
    const auto got = nchw ? testing::nchw_to_nhwc(out, RN, OH, OW, OC) : out;
    testing::expect_close(got, ref, testing::tolerance(ref, c.kh * c.kw * mid), last_kernel());
    return got;
}

class Jit : public ::testing::Test {
protected:
    void SetUp() override {
        jit::Options o;
        o.cache_dir = temp_cache_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
        o.policy = JitPolicy::AlwaysJit;
        jit::enable(o);
        cache_dir_ = o.cache_dir;
    }
    void TearDown() override {
        jit::disable();
        set_jit_policy(JitPolicy::JitWhenNoSpecializedAot);
        fs::remove_all(cache_dir_);
    }
    std::string cache_dir_;
};

TEST_F(Jit, MatchesAotAndReferenceForEveryOp) {
    for (const Call &c : {Call{Op::Depthwise, 3, 3, 2, 1}, Call{Op::Depthwise, 1, 7, 1, 2},
                          Call{Op::Pointwise, 1, 1, 1, 1},
                          Call{Op::Pointwise, 1, 1, 1, 1, DataFormat::NHWC, true}, Call{Op::Separable, 5, 3, 3, 2},
                          Call{Op::Separable, 3, 3, 1, 1, DataFormat::NCHW},
                          Call{Op::Separable, 3, 3, 1, 2, DataFormat::NHWC, true}}) {
        set_jit_policy(JitPolicy::AlwaysJit);
        const auto jitted = run(c);
        EXPECT_EQ(last_kernel().rfind("sepconv_jit_f32_", 0), 0u) << last_kernel();
        set_jit_policy(JitPolicy::AotOnly);
        const auto aot = run(c);
        EXPECT_EQ(last_kernel().rfind("sepconv_f32_", 0), 0u) << last_kernel();
        ASSERT_EQ(jitted.size(), aot.size());
        for (size_t i = 0; i < aot.size(); i++) ASSERT_NEAR(jitted[i], aot[i], 1e-5f * (1 + std::abs(aot[i])));
    }
    for (const auto &k : jit::kernels()) {
        EXPECT_FALSE(k.from_disk) << k.name;
        EXPECT_GT(k.compile_ms, 0) << k.name;
        std::printf("JIT compile %-40s %8.0f ms\n", k.name.c_str(), k.compile_ms);
    }
}

TEST_F(Jit, SecondCallHitsTheMemoryCache) {
    const Call c{Op::Depthwise, 3, 3, 2, 1};
    run(c);
    const auto first = jit::cache_stats();
    EXPECT_EQ(first.compiles, 1);
    run(c, 2);
    const auto second = jit::cache_stats();
    EXPECT_EQ(second.compiles, 1);
    EXPECT_EQ(second.memory_hits, first.memory_hits + 1);
    EXPECT_EQ(last_kernel(), "sepconv_jit_f32_dwconv_3x3m2s1_nhwc");
}

// Re-runs this binary on the child test below, sharing the cache directory.
TEST_F(Jit, SecondProcessLoadsFromTheDiskCache) {
    run(Call{Op::Separable, 3, 3, 2, 2});
    ASSERT_EQ(jit::cache_stats().compiles, 1);
    const std::string self = fs::read_symlink("/proc/self/exe").string();
    const std::string cmd = "SEPCONV_JIT_TEST_CHILD_CACHE='" + cache_dir_ + "' '" + self +
                            "' --gtest_filter=JitChild.LoadsWithoutCompiling > /dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << "the child process compiled again or failed: " << cmd;
}

TEST(JitChild, LoadsWithoutCompiling) {
    const char *dir = std::getenv("SEPCONV_JIT_TEST_CHILD_CACHE");
    if (!dir) GTEST_SKIP() << "run by Jit.SecondProcessLoadsFromTheDiskCache in a child process";
    jit::Options o;
    o.cache_dir = dir;
    o.policy = JitPolicy::AlwaysJit;
    jit::enable(o);
    run(Call{Op::Separable, 3, 3, 2, 2});
    EXPECT_EQ(jit::cache_stats().compiles, 0);
    EXPECT_EQ(jit::cache_stats().disk_hits, 1);
    ASSERT_EQ(jit::kernels().size(), 1u);
    EXPECT_TRUE(jit::kernels()[0].from_disk);
}

TEST_F(Jit, FallbackPolicyJitsOnlyWhenNoSpecializedAotMatches) {
    set_jit_policy(JitPolicy::JitWhenNoSpecializedAot);
    run(Call{Op::Depthwise, 3, 3, 1, 1});
    EXPECT_EQ(last_kernel(), "sepconv_f32_dwconv_3x3m1s1_nhwc");
    run(Call{Op::Depthwise, 2, 4, 3, 1});
    EXPECT_EQ(last_kernel(), "sepconv_jit_f32_dwconv_2x4m3s1_nhwc");
    set_jit_policy(JitPolicy::AotOnly);
    run(Call{Op::Depthwise, 2, 4, 3, 1});
    EXPECT_EQ(last_kernel(), "sepconv_f32_dwconv_generic_nhwc");
}

TEST_F(Jit, MemoryCacheIsBounded) {
    jit::Options o;
    o.cache_dir = cache_dir_;
    o.memory_entries = 2;
    o.policy = JitPolicy::AlwaysJit;
    jit::enable(o);
    for (int k = 1; k <= 3; k++) run(Call{Op::Depthwise, k, 1, 1, 1});
    run(Call{Op::Depthwise, 1, 1, 1, 1});  // evicted from memory: back from disk
    const auto s = jit::cache_stats();
    EXPECT_EQ(s.compiles, 3);
    EXPECT_GE(s.evictions, 2);
    EXPECT_EQ(s.disk_hits, 1);
}

// A JIT kernel's shared object carries its own copy of the Halide runtime;
// its parallel loops must still run on the process's (the pool that
// sepconv::set_num_threads sizes): they go through the do_par_for installed here.
std::atomic<int> process_par_fors{0};
int counting_do_par_for(void *user_context, halide_task_t f, int min, int size, uint8_t *closure) {
    process_par_fors++;
    return halide_default_do_par_for(user_context, f, min, size, closure);
}

TEST_F(Jit, KernelsRunOnTheProcessHalideRuntime) {
    const halide_do_par_for_t previous = halide_set_custom_do_par_for(counting_do_par_for);
    run(Call{Op::Depthwise, 3, 3, 2, 1});  // two row tasks: one parallel loop
    halide_set_custom_do_par_for(previous);
    EXPECT_EQ(last_kernel(), "sepconv_jit_f32_dwconv_3x3m2s1_nhwc");
    EXPECT_GT(process_par_fors.load(), 0);
}

// 8 threads on 4 distinct keys (so also 2 threads per equal key): each kernel
// is compiled once and every result is right.
TEST_F(Jit, EightThreadsOnDistinctAndEqualKeys) {
    const std::vector<Call> calls = {{Op::Depthwise, 3, 3, 3, 1}, {Op::Separable, 3, 3, 4, 1},
                                     {Op::Depthwise, 2, 2, 1, 2}, {Op::Pointwise, 1, 1, 1, 1}};
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 8; t++) {
        threads.emplace_back([&, t] {
            try {
                for (int rep = 0; rep < 3; rep++) run(calls[t % calls.size()], t * 10 + rep);
            } catch (...) {
                failures++;
            }
        });
    }
    for (auto &th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const auto s = jit::cache_stats();
    EXPECT_EQ(s.compiles, 4);
    EXPECT_EQ(s.memory_hits, 8 * 3 - 4);
}

}  // namespace
}  // namespace sepconv
