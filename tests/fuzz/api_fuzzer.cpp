// libFuzzer target over the public API's validation: random ranks, dims
// (0, negative, huge), strides, dilations, paddings, data formats,
// activations and buffer sizes, for every op and both layer objects. Each
// input must give either a correct result (checked against the float64
// reference when small) or a sepconv::Error that left the output untouched:
// never a crash, a sanitizer report, or a write outside the output (every
// buffer ends at a guard page and starts after canaries).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "guarded_buffer.h"
#include "reference.h"
#include "sepconv/layers.h"
#include "sepconv/ops.h"

namespace sepconv::fuzz {
namespace {

// Buffers are at most this many floats, so every accepted call is quick.
constexpr int64_t kMaxElements = 1 << 14;
// Results with at most this many elements are checked against the reference.
constexpr int64_t kMaxChecked = 1 << 12;
constexpr uint32_t kSentinelBits = 0x7fc0dead;  // a NaN no kernel produces

[[noreturn]] void fail(const char *what, const std::string &detail = "") {
    std::fprintf(stderr, "api_fuzzer: %s %s\n", what, detail.c_str());
    std::abort();
}

int64_t pick_extent(FuzzedDataProvider &p) {
    switch (p.ConsumeIntegralInRange<int>(0, 19)) {
    case 0: return 0;
    case 1: return -1;
    case 2: return std::numeric_limits<int32_t>::max();
    case 3: return int64_t{std::numeric_limits<int32_t>::max()} + 1;
    case 4: return std::numeric_limits<int64_t>::max();
    case 5: return std::numeric_limits<int64_t>::min();
    case 6: return int64_t{1} << p.ConsumeIntegralInRange<int>(10, 62);
    case 7: return p.ConsumeIntegral<int64_t>();
    case 8: return p.ConsumeIntegralInRange<int64_t>(7, 64);
    default: return p.ConsumeIntegralInRange<int64_t>(1, 6);
    }
}

// A small positive value most of the time (strides, dilations, kernel sizes).
int64_t pick_small(FuzzedDataProvider &p) {
    return p.ConsumeIntegralInRange<int>(0, 7) == 0 ? pick_extent(p) : p.ConsumeIntegralInRange<int64_t>(1, 3);
}

std::vector<int64_t> pick_shape(FuzzedDataProvider &p, size_t rank) {
    const int r = p.ConsumeIntegralInRange<int>(0, 15);
    if (r < 3) rank = static_cast<size_t>(r == 0 ? 0 : r == 1 ? rank - 1 : rank + 1);
    std::vector<int64_t> s(rank);
    for (auto &d : s) d = pick_extent(p);
    return s;
}

// A view over a guarded buffer. The buffer holds the view's span when that
// fits kMaxElements; else a few elements, with their true capacity (the
// library must refuse, not read past it).
struct FuzzTensor {
    std::unique_ptr<GuardedBuffer> buffer;
    MutableTensor view;

    FuzzTensor(FuzzedDataProvider &p, std::vector<int64_t> shape, bool strided) {
        view.shape = std::move(shape);
        if (strided && p.ConsumeBool()) {
            view.strides.resize(view.shape.size());
            __int128 dense = 1;
            for (size_t i = view.shape.size(); i-- > 0;) {
                const int k = p.ConsumeIntegralInRange<int>(0, 7);
                const __int128 near_dense = std::min<__int128>(dense + (k - 2), std::numeric_limits<int64_t>::max());
                view.strides[i] = k == 0 ? pick_extent(p) : k == 1 ? -1 : static_cast<int64_t>(near_dense);
                if (dense < (__int128{1} << 62)) dense *= std::max<int64_t>(view.shape[i], 1);
            }
        }
        // The span the view reaches, computed independently (128-bit).
        __int128 last = 0;
        bool known = true, empty = false;
        __int128 dense = 1;
        for (size_t i = view.shape.size(); i-- > 0;) {
            const int64_t d = view.shape[i];
            if (d <= 0) empty = true;
            const __int128 stride = view.strides.empty() ? dense : view.strides[i];
            if (stride < 0 || stride > (__int128{1} << 62) || dense > (__int128{1} << 62)) known = false;
            if (d > 0 && known) last += (d - 1) * stride;
            if (dense <= (__int128{1} << 62)) dense *= std::max<int64_t>(d, 1);  // (< 2^126: no overflow)
        }
        const bool fits = known && !empty && last + 1 <= kMaxElements;
        size_t elements = fits ? static_cast<size_t>(last + 1) : static_cast<size_t>(p.ConsumeIntegralInRange(1, 16));
        const int capacity_mode = p.ConsumeIntegralInRange<int>(0, 7);
        if (fits && capacity_mode == 0 && elements > 1) elements--;  // one short: must be refused
        buffer = std::make_unique<GuardedBuffer>(elements);
        for (size_t i = 0; i < elements; i++) buffer->data()[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5) / 4;
        view.data = p.ConsumeIntegralInRange<int>(0, 63) == 0 ? nullptr : buffer->data();
        // Unknown capacity (-1) only where the buffer really holds the span.
        view.capacity = (fits && capacity_mode == 1 && elements == static_cast<size_t>(last + 1))
                            ? -1
                            : static_cast<int64_t>(elements);
    }
    ConstTensor in() const { return view; }
};

Padding pick_padding(FuzzedDataProvider &p) {
    switch (p.ConsumeIntegralInRange<int>(0, 2)) {
    case 0: return Padding::same();
    case 1: return Padding::valid();
    default: {
        auto amount = [&] { return p.ConsumeIntegralInRange<int>(0, 5) == 0 ? pick_extent(p) : p.ConsumeIntegralInRange<int64_t>(0, 3); };
        const int64_t t = amount(), b = amount(), l = amount(), r = amount();
        return Padding::explicit_amounts(t, b, l, r);
    }
    }
}

Activation pick_activation(FuzzedDataProvider &p) {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    const float specials[] = {0.0f, -1.0f, 1.0f, 6.0f, inf, -inf, nan, 1e30f, -0.5f};
    auto value = [&] { return specials[p.ConsumeIntegralInRange<size_t>(0, std::size(specials) - 1)]; };
    switch (p.ConsumeIntegralInRange<int>(0, 5)) {
    case 0: return Activation::none();
    case 1: return Activation::relu();
    case 2: return Activation::relu6();
    case 3: {
        Activation a;  // unchecked fields, as a user may set them
        a.min = value();
        a.max = value();
        a.leaky_alpha = value();
        return a;
    }
    case 4: return Activation::leaky_relu(p.ConsumeFloatingPointInRange<float>(-2, 2));
    default: return Activation::clamp(-p.ConsumeFloatingPointInRange<float>(0, 4), p.ConsumeFloatingPointInRange<float>(0, 4));
    }
}

Conv2DOptions pick_options(FuzzedDataProvider &p) {
    Conv2DOptions o;
    o.strides = {pick_small(p), pick_small(p)};
    o.dilations = p.ConsumeBool() ? std::array<int64_t, 2>{1, 1} : std::array<int64_t, 2>{pick_small(p), pick_small(p)};
    o.padding = pick_padding(p);
    o.data_format = p.ConsumeBool() ? DataFormat::NHWC : DataFormat::NCHW;
    o.activation = pick_activation(p);
    return o;
}

// The output buffer: filled with the sentinel, checked after the call.
void fill_sentinel(FuzzTensor &out) {
    for (size_t i = 0; i < out.buffer->size(); i++) std::memcpy(out.buffer->data() + i, &kSentinelBits, 4);
}
void expect_untouched(const FuzzTensor &out, const std::string &error) {
    for (size_t i = 0; i < out.buffer->size(); i++) {
        if (std::memcmp(out.buffer->data() + i, &kSentinelBits, 4) != 0) fail("output written before Error:", error);
    }
}

// Element (n, h, w, c) of a 4-D view in `format`.
double at(const ConstTensor &t, DataFormat format, int64_t n, int64_t h, int64_t w, int64_t c) {
    std::array<int64_t, 4> dense{};
    int64_t s = 1;
    for (int i = 3; i >= 0; i--) {
        dense[i] = s;
        s *= t.shape[i];
    }
    auto stride = [&](int i) { return (t.strides.empty() || t.shape[i] == 1) ? dense[i] : t.strides[i]; };
    const int64_t idx[4] = {n, h, w, c};
    const int order[4] = {0, 1, 2, 3}, nchw[4] = {0, 2, 3, 1};  // position of n, h, w, c in the shape
    const int *pos = format == DataFormat::NHWC ? order : nchw;
    int64_t off = 0;
    for (int i = 0; i < 4; i++) off += idx[i] * stride(pos[i]);
    return t.data[off];
}

reference::Tensor to_reference(const ConstTensor &t, DataFormat format) {
    const auto &s = t.shape;
    reference::Tensor r;
    r.shape = format == DataFormat::NHWC ? std::array<int, 4>{int(s[0]), int(s[1]), int(s[2]), int(s[3])}
                                         : std::array<int, 4>{int(s[0]), int(s[2]), int(s[3]), int(s[1])};
    for (int n = 0; n < r.shape[0]; n++)
        for (int h = 0; h < r.shape[1]; h++)
            for (int w = 0; w < r.shape[2]; w++)
                for (int c = 0; c < r.shape[3]; c++) r.data.push_back(at(t, format, n, h, w, c));
    return r;
}

std::vector<float> dense_values(const ConstTensor &t) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    return {t.data, t.data + n};
}

reference::Geometry geometry(const Conv2DOptions &o) {
    reference::Geometry g;
    g.stride_h = int(o.strides[0]);
    g.stride_w = int(o.strides[1]);
    g.rate_h = int(o.dilations[0]);
    g.rate_w = int(o.dilations[1]);
    g.pad = o.padding.kind == Padding::Kind::Same    ? reference::Pad::Same
            : o.padding.kind == Padding::Kind::Valid ? reference::Pad::Valid
                                                     : reference::Pad::Explicit;
    g.top = int(o.padding.top);
    g.bottom = int(o.padding.bottom);
    g.left = int(o.padding.left);
    g.right = int(o.padding.right);
    return g;
}

// The result against the reference (computed with no activation; sepconv's
// is leaky_relu(alpha) then clamp(min, max)).
void check_result(const ConstTensor &out, DataFormat format, const reference::Tensor &ref, const Activation &act,
                  double reduction) {
    const reference::Tensor got = to_reference(out, format);
    if (got.shape != ref.shape) fail("output shape differs from the reference's");
    double max_abs = 0;
    for (double v : ref.data) max_abs = std::max(max_abs, std::abs(v));
    const double tol = 1e-5 * (1 + max_abs) * std::sqrt(std::max(1.0, reduction));
    for (size_t i = 0; i < ref.data.size(); i++) {
        double want = ref.data[i] < 0 ? act.leaky_alpha * ref.data[i] : ref.data[i];
        want = std::min<double>(act.max, std::max<double>(act.min, want));
        const double tol_i = tol * std::max(1.0, std::abs(double(act.leaky_alpha)));
        // Equal infinities (float32 overflow in both) agree; their difference is NaN.
        if (got.data[i] != want && !(std::abs(got.data[i] - want) <= tol_i)) {
            fail("result differs from the reference:", "index " + std::to_string(i) + " got " +
                                                           std::to_string(got.data[i]) + " want " + std::to_string(want));
        }
    }
}

int64_t elements(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// Runs `call`; an Error must leave the output untouched, anything else thrown is a bug.
template <typename Call>
bool run_checked(FuzzTensor &out, Call call) {
    fill_sentinel(out);
    try {
        call();
    } catch (const Error &e) {
        if (!out.buffer->intact()) fail("canary before the output overwritten");
        expect_untouched(out, e.what());
        return false;
    } catch (const std::exception &e) {
        fail("unexpected exception:", e.what());
    }
    if (!out.buffer->intact()) fail("canary before the output overwritten");
    return true;
}

void fuzz_op(FuzzedDataProvider &p, Op op) {
    const Conv2DOptions o = pick_options(p);
    FuzzTensor input(p, pick_shape(p, 4), true);
    FuzzTensor filter(p, pick_shape(p, 4), p.ConsumeIntegralInRange(0, 7) == 0);
    std::optional<FuzzTensor> pointwise;
    if (op == Op::Separable) pointwise.emplace(p, pick_shape(p, 4), p.ConsumeIntegralInRange(0, 7) == 0);
    std::optional<FuzzTensor> bias;
    if (p.ConsumeBool()) bias.emplace(p, pick_shape(p, 1), p.ConsumeIntegralInRange(0, 7) == 0);
    std::optional<ConstTensor> bias_view;
    if (bias) bias_view = bias->in();
    FuzzTensor output(p, pick_shape(p, 4), true);
    if (p.ConsumeIntegralInRange(0, 15) == 0) output.view.data = const_cast<float *>(input.view.data);  // aliasing

    const bool ok = run_checked(output, [&] {
        switch (op) {
        case Op::Depthwise: depthwise_conv2d(input.in(), filter.in(), bias_view, output.view, o); break;
        case Op::Pointwise: pointwise_conv2d(input.in(), filter.in(), bias_view, output.view, o); break;
        case Op::Separable:
            separable_conv2d(input.in(), filter.in(), pointwise->in(), bias_view, output.view, o);
            break;
        }
    });
    if (!ok || elements(output.view.shape) == 0 || elements(output.view.shape) > kMaxChecked) return;
    const DataFormat f = o.data_format;
    const reference::Tensor x = to_reference(input.in(), f);
    const auto &fs = filter.view.shape;
    const std::vector<float> b = bias ? dense_values(bias->in()) : std::vector<float>{};
    reference::Tensor want;
    double reduction = 1;
    const reference::Activation none;
    switch (op) {
    case Op::Depthwise:
        want = reference::depthwise(x, dense_values(filter.in()), {int(fs[0]), int(fs[1]), int(fs[2]), int(fs[3])}, b,
                                    geometry(o), none);
        reduction = double(fs[0] * fs[1]);
        break;
    case Op::Pointwise:
        want = reference::pointwise(x, dense_values(filter.in()), int(fs[3]), b, none);
        reduction = double(fs[2]);
        break;
    case Op::Separable: {
        const auto &ps = pointwise->view.shape;
        want = reference::separable(x, dense_values(filter.in()), {int(fs[0]), int(fs[1]), int(fs[2]), int(fs[3])},
                                    dense_values(pointwise->in()), int(ps[3]), b, geometry(o), none);
        reduction = double(fs[0] * fs[1] * ps[2]);
        break;
    }
    }
    check_result(output.in(), f, want, o.activation, reduction);
}

void fuzz_infer(FuzzedDataProvider &p) {
    const Conv2DOptions o = pick_options(p);
    const Op op = static_cast<Op>(p.ConsumeIntegralInRange(0, 2));
    try {
        infer_output_shape(op, pick_shape(p, 4), pick_shape(p, 4), pick_shape(p, 4), o);
    } catch (const Error &) {
    }
}

const char *pick_name(FuzzedDataProvider &p, std::initializer_list<const char *> names) {
    return names.begin()[p.ConsumeIntegralInRange<size_t>(0, names.size() - 1)];
}

// A layer: configure, set weights (possibly twice, the second failing), run.
template <typename Layer, typename Config, typename SetWeights>
void fuzz_layer(FuzzedDataProvider &p, const Config &config, SetWeights set_weights) {
    std::optional<Layer> layer;
    try {
        layer.emplace(config);
    } catch (const Error &) {
        return;
    }
    for (int round = p.ConsumeIntegralInRange(1, 2); round > 0; round--) {
        try {
            set_weights(*layer);
        } catch (const Error &) {
        }
    }
    FuzzTensor input(p, pick_shape(p, 4), true);
    FuzzTensor output(p, pick_shape(p, 4), true);
    run_checked(output, [&] {
        if (p.ConsumeBool()) (void)layer->output_shape(input.view.shape);
        (*layer)(input.in(), output.view);
    });
    // A copy runs on its own weights.
    const Layer copy = *layer;
    layer.reset();
    run_checked(output, [&] { copy(input.in(), output.view); });
}

void fuzz_keras(FuzzedDataProvider &p) {
    SeparableConv2DConfig c;
    c.filters = pick_small(p);
    c.kernel_size = IntPair(pick_small(p), pick_small(p));
    c.strides = IntPair(pick_small(p), pick_small(p));
    c.padding = pick_name(p, {"valid", "same", "SAME", "causal", "full"});
    c.data_format = pick_name(p, {"channels_last", "channels_first", "NCHW", "bogus"});
    c.dilation_rate = p.ConsumeBool() ? IntPair(1) : IntPair(pick_small(p), pick_small(p));
    c.depth_multiplier = pick_small(p);
    c.activation = pick_activation(p);
    c.use_bias = p.ConsumeBool();
    fuzz_layer<SeparableConv2D>(p, c, [&](SeparableConv2D &l) {
        FuzzTensor dw(p, pick_shape(p, 4), false), pw(p, pick_shape(p, 4), false), b(p, pick_shape(p, 1), false);
        std::optional<ConstTensor> bias;
        if (p.ConsumeBool()) bias = b.in();
        l.set_weights(dw.in(), pw.in(), bias);
    });
}

void fuzz_contrib(FuzzedDataProvider &p) {
    ContribSeparableConv2DConfig c;
    if (p.ConsumeBool()) c.num_outputs = pick_small(p);
    c.kernel_size = IntPair(pick_small(p), pick_small(p));
    c.depth_multiplier = pick_small(p);
    c.stride = IntPair(pick_small(p), pick_small(p));
    c.padding = pick_name(p, {"SAME", "VALID", "causal"});
    c.data_format = pick_name(p, {"NHWC", "NCHW", "channels_first", "x"});
    c.rate = p.ConsumeBool() ? IntPair(1) : IntPair(pick_small(p), pick_small(p));
    c.activation_fn = pick_activation(p);
    fuzz_layer<ContribSeparableConv2D>(p, c, [&](ContribSeparableConv2D &l) {
        FuzzTensor dw(p, pick_shape(p, 4), false), pw(p, pick_shape(p, 4), false), b(p, pick_shape(p, 1), false);
        std::optional<ConstTensor> pointwise, biases;
        if (p.ConsumeBool()) pointwise = pw.in();
        if (p.ConsumeBool()) biases = b.in();
        std::optional<BatchNorm> bn;
        if (p.ConsumeIntegralInRange(0, 3) == 0) {
            const size_t n = p.ConsumeIntegralInRange<size_t>(0, 8);
            bn = BatchNorm{std::vector<float>(n, 1.5f), std::vector<float>(n, 0.5f), std::vector<float>(n, 0.25f),
                           std::vector<float>(n, p.ConsumeFloatingPointInRange<float>(-1, 2)),
                           p.ConsumeFloatingPointInRange<float>(-1, 1)};
        }
        l.set_weights(dw.in(), pointwise, biases, bn);
    });
}

}  // namespace
}  // namespace sepconv::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace sepconv;
    FuzzedDataProvider p(data, size);
    switch (p.ConsumeIntegralInRange(0, 5)) {
    case 0: fuzz::fuzz_op(p, Op::Depthwise); break;
    case 1: fuzz::fuzz_op(p, Op::Pointwise); break;
    case 2: fuzz::fuzz_op(p, Op::Separable); break;
    case 3: fuzz::fuzz_infer(p); break;
    case 4: fuzz::fuzz_keras(p); break;
    default: fuzz::fuzz_contrib(p); break;
    }
    return 0;
}
