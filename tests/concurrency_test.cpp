// Many threads calling every op at once on random shapes, both layouts, and
// sharing layer objects; with SEPCONV_TEST_JIT, JIT kernels too (few distinct
// keys: a compile takes seconds). Every result is checked against the
// reference. The ThreadSanitizer tree (label tsan) runs the AOT parts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "harness.h"
#include "sepconv/layers.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"
#ifdef SEPCONV_TEST_JIT
#include <unistd.h>

#include "sepconv/jit.h"
#endif

namespace sepconv {
namespace {

int env_int(const char *name, int fallback) {
    const char *v = std::getenv(name);
    return v && *v ? std::atoi(v) : fallback;
}

const int kThreads = env_int("SEPCONV_CONCURRENCY_THREADS", 8);
const int kIterations = env_int("SEPCONV_CONCURRENCY_ITERATIONS", 100);

// One random call, run and checked. `kernel_sizes` / `multipliers` limit the
// variety (for the JIT: each combination is a compile).
struct Shapes {
    std::vector<int> kernel_sizes{1, 2, 3, 5};
    std::vector<int> multipliers{1, 2};
    std::vector<Op> ops{Op::Depthwise, Op::Pointwise, Op::Separable};
    std::vector<DataFormat> formats{DataFormat::NHWC, DataFormat::NCHW};
};

template <typename T>
const T &pick(std::mt19937 &rng, const std::vector<T> &v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}
int uniform(std::mt19937 &rng, int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
}

std::vector<int64_t> in_format(DataFormat f, int n, int h, int w, int c) {
    return f == DataFormat::NHWC ? std::vector<int64_t>{n, h, w, c} : std::vector<int64_t>{n, c, h, w};
}

void random_call(std::mt19937 &rng, const Shapes &s) {
    const Op op = pick(rng, s.ops);
    const DataFormat f = pick(rng, s.formats);
    const int N = uniform(rng, 1, 2), H = uniform(rng, 4, 12), W = uniform(rng, 4, 12), C = uniform(rng, 1, 6),
              O = uniform(rng, 1, 6);
    const int K = op == Op::Pointwise ? 1 : pick(rng, s.kernel_sizes), M = op == Op::Pointwise ? 1 : pick(rng, s.multipliers);
    Conv2DOptions o;
    o.data_format = f;
    o.padding = uniform(rng, 0, 1) ? Padding::same() : Padding::valid();
    if (op != Op::Pointwise) {
        const int stride = uniform(rng, 1, 2);
        o.strides = {stride, stride};
    }
    o.activation = Activation::relu6();
    reference::Geometry g;
    g.stride_h = static_cast<int>(o.strides[0]);
    g.stride_w = static_cast<int>(o.strides[1]);
    g.pad = o.padding.kind == Padding::Kind::Same ? reference::Pad::Same : reference::Pad::Valid;

    const auto x = testing::random_floats(rng, static_cast<size_t>(N) * H * W * C);
    const auto dw = testing::random_floats(rng, static_cast<size_t>(K) * K * C * M);
    const auto pw = testing::random_floats(rng, static_cast<size_t>(op == Op::Pointwise ? C : C * M) * O);
    const int out_c = op == Op::Depthwise ? C * M : O;
    const auto bias = testing::random_floats(rng, out_c);
    const auto xu = f == DataFormat::NCHW ? testing::nhwc_to_nchw(x, N, H, W, C) : x;
    const ConstTensor in(xu, in_format(f, N, H, W, C));
    const std::vector<int64_t> dw_shape{K, K, C, M}, pw_shape{1, 1, op == Op::Pointwise ? C : C * M, O};
    std::vector<int64_t> out_shape;
    try {
        out_shape = infer_output_shape(op, in.shape, dw_shape, pw_shape, o);
    } catch (const Error &) {
        return;  // VALID with a filter larger than the input: nothing to run
    }
    const int oh = static_cast<int>(f == DataFormat::NHWC ? out_shape[1] : out_shape[2]),
              ow = static_cast<int>(f == DataFormat::NHWC ? out_shape[2] : out_shape[3]);
    std::vector<float> out(static_cast<size_t>(N) * oh * ow * out_c);
    const MutableTensor out_view(out, out_shape);
    const std::optional<ConstTensor> b = ConstTensor(bias, {out_c});
    const reference::Activation act{reference::Act::Relu6};
    const auto ref_in = reference::from_floats(x, {N, H, W, C});
    reference::Tensor ref;
    int64_t reduction = 1;
    switch (op) {
    case Op::Depthwise:
        depthwise_conv2d(in, ConstTensor(dw, dw_shape), b, out_view, o);
        ref = reference::depthwise(ref_in, dw, {K, K, C, M}, bias, g, act);
        reduction = K * K;
        break;
    case Op::Pointwise:
        pointwise_conv2d(in, ConstTensor(pw, pw_shape), b, out_view, o);
        ref = reference::pointwise(ref_in, pw, O, bias, act);
        reduction = C;
        break;
    case Op::Separable:
        separable_conv2d(in, ConstTensor(dw, dw_shape), ConstTensor(pw, pw_shape), b, out_view, o);
        ref = reference::separable(ref_in, dw, {K, K, C, M}, pw, O, bias, g, act);
        reduction = K * K * C * M;
        break;
    }
    const auto got = f == DataFormat::NCHW ? testing::nchw_to_nhwc(out, N, oh, ow, out_c) : out;
    testing::expect_close(got, ref, testing::tolerance(ref, reduction),
                          std::string(to_string(op)) + " " + to_string(f) + " on " + last_kernel());
}

// Runs body(thread index, rng) on kThreads threads at once.
template <typename Body>
void on_many_threads(Body body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++) {
        threads.emplace_back([t, &body] {
            std::mt19937 rng(1000 + t);
            body(t, rng);
        });
    }
    for (auto &t : threads) t.join();
}

TEST(Concurrency, AotOpsOnRandomShapes) {
    set_jit_policy(JitPolicy::AotOnly);
    const Shapes shapes;
    on_many_threads([&](int, std::mt19937 &rng) {
        for (int i = 0; i < kIterations; i++) random_call(rng, shapes);
    });
}

// Two layer objects, each called from every thread at once (different
// batch and spatial sizes per call); results checked against the reference.
TEST(Concurrency, SharedLayers) {
    set_jit_policy(JitPolicy::AotOnly);
    std::mt19937 rng(5);
    const int C = 4, M = 2, F = 3;
    const auto dw = testing::random_floats(rng, 3 * 3 * C * M), pw = testing::random_floats(rng, C * M * F),
               bias = testing::random_floats(rng, F);
    SeparableConv2DConfig keras;
    keras.filters = F;
    keras.padding = "same";
    keras.depth_multiplier = M;
    SeparableConv2D separable(keras);
    separable.set_weights(ConstTensor(dw, {3, 3, C, M}), ConstTensor(pw, {1, 1, C * M, F}), ConstTensor(bias, {F}));
    ContribSeparableConv2DConfig contrib;
    contrib.depth_multiplier = M;
    contrib.data_format = "NCHW";
    ContribSeparableConv2D depthwise(contrib);  // depthwise only, relu
    depthwise.set_weights(ConstTensor(dw, {3, 3, C, M}), std::nullopt);

    reference::Geometry same;
    same.pad = reference::Pad::Same;
    on_many_threads([&](int, std::mt19937 &r) {
        for (int i = 0; i < kIterations; i++) {
            const int N = uniform(r, 1, 2), H = uniform(r, 3, 10), W = uniform(r, 3, 10);
            const auto x = testing::random_floats(r, static_cast<size_t>(N) * H * W * C);
            const auto ref_in = reference::from_floats(x, {N, H, W, C});
            std::vector<float> out(static_cast<size_t>(N) * H * W * C * M);
            if (uniform(r, 0, 1)) {
                separable(ConstTensor(x, {N, H, W, C}), MutableTensor(out, {N, H, W, F}));
                out.resize(static_cast<size_t>(N) * H * W * F);
                const auto ref = reference::separable(ref_in, dw, {3, 3, C, M}, pw, F, bias, same, {});
                testing::expect_close(out, ref, testing::tolerance(ref, 9 * C * M), "SeparableConv2D");
            } else {
                const auto xu = testing::nhwc_to_nchw(x, N, H, W, C);
                depthwise(ConstTensor(xu, {N, C, H, W}), MutableTensor(out, {N, C * M, H, W}));
                const auto ref = reference::depthwise(ref_in, dw, {3, 3, C, M}, {}, same, {reference::Act::Relu});
                testing::expect_close(testing::nchw_to_nhwc(out, N, H, W, C * M), ref, testing::tolerance(ref, 9),
                                      "contrib depthwise");
            }
        }
    });
}

#ifdef SEPCONV_TEST_JIT
// JIT and AOT kernels at once: only 3x3 multiplier-2 depthwise and separable
// calls have no specialized AOT variant, so they (one key per op, stride and
// layout; all threads ask for them together) are compiled, once each.
TEST(Concurrency, JitAndAotOnRandomShapes) {
    const auto dir = std::filesystem::temp_directory_path() / ("sepconv-concurrency-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    jit::Options options;
    options.cache_dir = dir.string();
    jit::enable(options);
    set_jit_policy(JitPolicy::JitWhenNoSpecializedAot);
    Shapes shapes;
    shapes.kernel_sizes = {3};
    shapes.multipliers = {1, 2};
    shapes.ops = {Op::Depthwise, Op::Separable};
    shapes.formats = {DataFormat::NHWC};
    on_many_threads([&](int, std::mt19937 &rng) {
        for (int i = 0; i < kIterations / 3; i++) random_call(rng, shapes);
    });
    const jit::CacheStats stats = jit::cache_stats();
    EXPECT_GT(stats.compiles, 0);
    EXPECT_LE(stats.compiles, 4) << "each key is compiled once, however many threads ask for it";
    jit::disable();
    std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace sepconv
