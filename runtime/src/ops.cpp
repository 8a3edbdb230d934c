// The public operations: validate everything, pick a kernel, describe the
// user's memory to it as halide_buffer_t (no copies), run it.
#include "sepconv/ops.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "format.h"
#include "cpu_hook.h"
#include "thread_pool.h"
#include "workspace.h"
#include "dispatch.h"
#include "kernel_abi.h"
#include "pointwise_image.h"
#include "sepconv/registry.h"
#include "validate.h"

namespace sepconv {
namespace detail {
void set_last_kernel(const char *name);
}  // namespace detail

namespace {

using detail::Contiguity;

// Halide reports kernel failures through a global handler; keep the message
// per thread and turn it into an exception after the call returns.
thread_local std::string halide_error_message;

void capture_halide_error(void *, const char *msg) {
    halide_error_message = msg;
}

// Halide runtime hooks: errors, the ISA cap of multi-target kernels, the
// kernels' workspace cache and their thread pool.
void install_halide_hooks() {
    static std::once_flag once;
    std::call_once(once, [] {
        halide_set_error_handler(capture_halide_error);
        detail::install_isa_hook();
        detail::install_workspace_cache();
        detail::install_thread_pool();
    });
}

// Runs `call(entry)` for kernel k with the Halide hooks in place; a kernel
// failure (which validation should make impossible) becomes an exception.
template <typename Call>
void run_kernel(const detail::ResolvedKernel &k, Call call) {
    install_halide_hooks();
    detail::before_kernel_call();
    const int result = call(*k.entry);
    detail::after_kernel_call(*k.isa);
    if (result != 0) {
        std::string msg = halide_error_message.empty() ? "error " + std::to_string(result) : halide_error_message;
        halide_error_message.clear();
        throw std::runtime_error(std::string("sepconv: kernel ") + k.entry->info.name + " failed: " + msg);
    }
}

// A halide_buffer_t over user memory: Halide lists dimensions innermost
// first, so a row-major TF shape maps to its reverse. Fixed-size: a call
// allocates nothing.
struct HalideView {
    halide_buffer_t buffer{};
    halide_dimension_t dims[detail::kMaxRank]{};

    HalideView(const float *data, const int64_t *shape, const int64_t *strides, int rank) {
        for (int i = 0; i < rank; i++) {
            dims[i] = {0, static_cast<int32_t>(shape[rank - 1 - i]), static_cast<int32_t>(strides[rank - 1 - i]), 0};
        }
        buffer.host = reinterpret_cast<uint8_t *>(const_cast<float *>(data));
        buffer.type = halide_type_t(halide_type_float, 32);
        buffer.dimensions = rank;
        buffer.dim = dims;
    }
    HalideView(const HalideView &) = delete;
    halide_buffer_t *get() { return &buffer; }
};

// A user tensor with its strides, checked. Refers to the caller's view.
struct Operand {
    const char *name;
    const float *data;
    const std::vector<int64_t> &dims;
    detail::Strides strides;
    template <typename T>
    Operand(const TensorView<T> &t, const char *name, Contiguity c, bool allow_empty_batch = false)
        : name(name), data(t.data), dims(t.shape),
          strides(detail::checked_strides(t, name, 4, c, allow_empty_batch)) {}
    Shape4 shape() const { return detail::as_shape4(dims); }
    detail::Span span() const { return detail::span_of(data, dims, strides); }
    HalideView halide() const { return {data, dims.data(), strides.data(), 4}; }
    // The pointwise filter [1, 1, C, O] as the kernels' 2-D [O, C] view.
    HalideView matrix() const {
        const int64_t shape[2] = {dims[2], dims[3]}, matrix_strides[2] = {dims[3], 1};
        return {data, shape, matrix_strides, 2};
    }
};

// A bias, or zeros: a broadcast (stride 0) view of one zero.
const float kZero = 0.0f;
struct BiasView {
    int64_t size, stride;
    const float *data;
    BiasView(const std::optional<ConstTensor> &bias, int64_t expected, const char *what)
        : size(expected), stride(0), data(&kZero) {
        if (!bias) return;
        stride = detail::checked_strides(*bias, "bias", 1, Contiguity::Dense, false)[0];
        if (bias->shape[0] != expected) {
            throw Error("bias must have " + std::to_string(expected) + " elements (" + what + "), got shape " +
                        format_list(bias->shape));
        }
        data = bias->data;
    }
    HalideView halide() const { return {data, &size, &stride, 1}; }
};

// The output, checked: shape as inferred, and no overlap with any input
// (a null input is a copy sepconv owns: a packed filter).
struct Output {
    Operand operand;
    bool empty;
    Output(const MutableTensor &output, const Shape4 &expected, std::initializer_list<const Operand *> inputs)
        : operand(output, "output", Contiguity::InnermostDense, true) {
        if (operand.shape() != expected) {
            throw Error("output must have shape " + to_string(expected) + ", got " + format_list(output.shape));
        }
        empty = expected[0] == 0;  // every other extent is >= 1 (checked)
        if (empty) return;
        detail::check_elements_distinct(operand.dims, operand.strides, output.strides, "output");
        const detail::Span span = operand.span();
        for (const Operand *in : inputs) {
            if (in) detail::check_no_overlap(span, in->span(), in->name);
        }
    }
};

struct Activations {
    float min, max, alpha;
};
Activations checked_activation(const Activation &a) {
    if (!(a.min <= a.max)) {
        throw Error("activation bounds must satisfy min <= max, got min = " + format_float(a.min) +
                    ", max = " + format_float(a.max));
    }
    if (!std::isfinite(a.leaky_alpha)) {
        throw Error("leaky_relu alpha must be finite, got " + format_float(a.leaky_alpha));
    }
    return {a.min, a.max, a.leaky_alpha};
}

bool verbose() {
    static const bool v = [] {
        const char *env = std::getenv("SEPCONV_VERBOSE");
        return env && *env && std::string(env) != "0";
    }();
    return v;
}

// The request's input channel count, and whether the input's and the
// output's columns are dense (NHWC, column stride = channel count): the
// calls a per-layer kernel (KernelInfo::channels) may run.
void describe_columns(KernelRequest &request, const Operand &in, const Operand &out, DataFormat format) {
    request.channels = dims_of(in.shape(), format).c;
    request.dense_columns = format == DataFormat::NHWC && in.strides[2] == request.channels &&
                            out.strides[2] == out.shape()[3];
}

detail::ResolvedKernel choose(const KernelRequest &request) {
    // The reason is a string: build it only when it is printed.
    if (!verbose()) {
        detail::ResolvedKernel k = detail::resolve(request, nullptr);
        detail::set_last_kernel(k.entry->info.name);
        return k;
    }
    std::string why;
    detail::ResolvedKernel k = detail::resolve(request, &why);
    std::fprintf(stderr, "sepconv: %s -> %s (%s)\n", to_string(request.op), k.entry->info.name, why.c_str());
    detail::set_last_kernel(k.entry->info.name);
    return k;
}

}  // namespace

void depthwise_conv2d(const ConstTensor &input, const ConstTensor &filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options) {
    const Operand in(input, "input", Contiguity::InnermostDense, true), f(filter, "filter", Contiguity::Dense);
    const NHWCDims x = dims_of(in.shape(), options.data_format);
    const Shape4 out_shape = infer_depthwise_output_shape(in.shape(), f.shape(), options);
    const OutputGeometry g = infer_output_geometry(x.h, x.w, f.shape()[0], f.shape()[1], options);
    const BiasView b(bias, f.shape()[2] * f.shape()[3], "in_channels * multiplier");
    const Activations act = checked_activation(options.activation);
    const Output out(output, out_shape, {&in, &f});
    if (out.empty) return;

    KernelRequest request{Op::Depthwise,   options.data_format, f.shape()[0],     f.shape()[1],
                          f.shape()[3],    options.strides[0],  options.strides[1]};
    describe_columns(request, in, out.operand, options.data_format);
    const detail::ResolvedKernel k = choose(request);
    HalideView hx = in.halide(), hf = f.halide(), hb = b.halide(), ho = out.operand.halide();
    run_kernel(k, [&](const detail::KernelEntry &e) {
        return e.depthwise(hx.get(), hf.get(), hb.get(), static_cast<int>(options.strides[1]),
                           static_cast<int>(options.strides[0]), static_cast<int>(options.dilations[1]),
                           static_cast<int>(options.dilations[0]), static_cast<int>(g.width.pad_before),
                           static_cast<int>(g.height.pad_before), act.min, act.max, act.alpha, ho.get());
    });
}

namespace {

// A small image with contiguous rows in the input and the output, shown to
// the 1x1 kernels as one row of pixels (pointwise_image_as_one_row).
bool pixels_as_one_row(const Operand &in, const Operand &out, DataFormat format) {
    const Shape4 x = in.shape();
    const bool nhwc = format == DataFormat::NHWC;
    const int64_t h = nhwc ? x[1] : x[2], w = nhwc ? x[2] : x[3], c = nhwc ? x[3] : x[1];
    const int h_dim = nhwc ? 1 : 2, w_dim = nhwc ? 2 : 3;
    auto rows_contiguous = [&](const Operand &t) { return t.strides[h_dim] == w * t.strides[w_dim]; };
    return detail::pointwise_image_as_one_row(h, w, c) && rows_contiguous(in) && rows_contiguous(out);
}

// `t` with its height and width merged into one row (pixels_as_one_row).
HalideView as_one_row(const Operand &t, DataFormat format) {
    const bool nhwc = format == DataFormat::NHWC;
    const int h_dim = nhwc ? 1 : 2, w_dim = nhwc ? 2 : 3;
    int64_t shape[4], strides[4];
    for (int i = 0; i < 4; i++) shape[i] = t.dims[i], strides[i] = t.strides[i];
    shape[w_dim] *= shape[h_dim];
    shape[h_dim] = 1;
    strides[h_dim] = shape[w_dim] * strides[w_dim];
    return {t.data, shape, strides, 4};
}

// The pointwise call on weights `hw` (TF's matrix or the packed blocks), for
// a filter of shape `filter_shape`; `filter` is the user's filter when it may
// overlap the output (nullptr for a packed copy sepconv owns).
void run_pointwise(const Operand &in, const Shape4 &filter_shape, HalideView &hw, bool packed, const Operand *filter,
                   const std::optional<ConstTensor> &bias, const MutableTensor &output, const Conv2DOptions &options) {
    const Shape4 out_shape = infer_pointwise_output_shape(in.shape(), filter_shape, options.data_format);
    const BiasView b(bias, filter_shape[3], "out_channels");
    const Activations act = checked_activation(options.activation);
    const Output out(output, out_shape, {&in, filter});
    if (out.empty) return;

    KernelRequest request{Op::Pointwise, options.data_format};
    request.packed_weights = packed;
    const detail::ResolvedKernel k = choose(request);
    const bool one_row = pixels_as_one_row(in, out.operand, options.data_format);
    HalideView hx = one_row ? as_one_row(in, options.data_format) : in.halide(), hb = b.halide(),
               ho = one_row ? as_one_row(out.operand, options.data_format) : out.operand.halide();
    run_kernel(k, [&](const detail::KernelEntry &e) {
        return e.pointwise(hx.get(), hw.get(), hb.get(), act.min, act.max, act.alpha, ho.get());
    });
}

// The packed filter as the kernels see it. Packed: [O / kBlock][C * kBlock]
// row-major, the kernels' 2-D [C * kBlock, O / kBlock]; else TF's [C][O],
// the kernels' [O, C].
HalideView weights_view(const PackedPointwiseFilter &filter) {
    const Shape4 f = detail::as_shape4(filter.shape());
    constexpr int64_t block = PackedPointwiseFilter::kBlock;
    const int64_t shape[2] = {filter.packed() ? f[3] / block : f[2], filter.packed() ? f[2] * block : f[3]},
                  strides[2] = {shape[1], 1};
    return {filter.values().data(), shape, strides, 2};
}

}  // namespace

void pointwise_conv2d(const ConstTensor &input, const ConstTensor &filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options) {
    const Operand in(input, "input", Contiguity::InnermostDense, true), w(filter, "pointwise_filter", Contiguity::Dense);
    HalideView hw = w.matrix();
    run_pointwise(in, w.shape(), hw, false, &w, bias, output, options);
}

PackedPointwiseFilter::PackedPointwiseFilter(const ConstTensor &filter) {
    const detail::Strides s = detail::checked_strides(filter, "pointwise_filter", 4, Contiguity::Dense, false);
    const Shape4 f = detail::as_shape4(filter.shape);
    if (f[0] != 1 || f[1] != 1) {
        throw Error("pointwise_filter must have shape [1, 1, in_c, out_c], got " + format_list(filter.shape));
    }
    const int64_t c = f[2], o = f[3];
    // The kernels index the values with 32-bit integers.
    if (c * o > std::numeric_limits<int32_t>::max()) {
        throw Error("pointwise_filter has " + std::to_string(c * o) + " elements, more than 2^31 - 1: shape " +
                    format_list(filter.shape));
    }
    shape_ = filter.shape;
    packed_ = o % kBlock == 0;
    values_.resize(c * o);
    for (int64_t i = 0; i < c; i++) {
        for (int64_t j = 0; j < o; j++) {
            const int64_t at = packed_ ? ((j / kBlock) * c + i) * kBlock + j % kBlock : i * o + j;
            values_[at] = filter.data[i * s[2] + j * s[3]];
        }
    }
}

void pointwise_conv2d(const ConstTensor &input, const PackedPointwiseFilter &filter,
                      const std::optional<ConstTensor> &bias, const MutableTensor &output,
                      const Conv2DOptions &options) {
    const Operand in(input, "input", Contiguity::InnermostDense, true);
    HalideView hw = weights_view(filter);
    run_pointwise(in, detail::as_shape4(filter.shape()), hw, filter.packed(), nullptr, bias, output, options);
}

namespace {

// The separable call on pointwise weights `hpw` (TF's matrix or the packed
// blocks) of a filter of shape `pw_shape`; `pw_filter` is the user's filter
// when it may overlap the output (nullptr for a packed copy sepconv owns).
void run_separable(const Operand &in, const Operand &dw, const Shape4 &pw_shape, HalideView &hpw, bool packed,
                   const Operand *pw_filter, const std::optional<ConstTensor> &bias, const MutableTensor &output,
                   const Conv2DOptions &options) {
    const NHWCDims x = dims_of(in.shape(), options.data_format);
    const Shape4 out_shape = infer_separable_output_shape(in.shape(), dw.shape(), pw_shape, options);
    const OutputGeometry g = infer_output_geometry(x.h, x.w, dw.shape()[0], dw.shape()[1], options);
    const BiasView b(bias, pw_shape[3], "out_channels");
    const Activations act = checked_activation(options.activation);
    const Output out(output, out_shape, {&in, &dw, pw_filter});
    if (out.empty) return;

    KernelRequest request{Op::Separable,   options.data_format, dw.shape()[0],    dw.shape()[1],
                          dw.shape()[3], options.strides[0],  options.strides[1]};
    request.packed_weights = packed;
    describe_columns(request, in, out.operand, options.data_format);
    const detail::ResolvedKernel k = choose(request);
    HalideView hx = in.halide(), hdw = dw.halide(), hb = b.halide(), ho = out.operand.halide();
    run_kernel(k, [&](const detail::KernelEntry &e) {
        return e.separable(hx.get(), hdw.get(), hpw.get(), hb.get(), static_cast<int>(options.strides[1]),
                           static_cast<int>(options.strides[0]), static_cast<int>(options.dilations[1]),
                           static_cast<int>(options.dilations[0]), static_cast<int>(g.width.pad_before),
                           static_cast<int>(g.height.pad_before), act.min, act.max, act.alpha, ho.get());
    });
}

}  // namespace

void separable_conv2d(const ConstTensor &input, const ConstTensor &depthwise_filter,
                      const ConstTensor &pointwise_filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options) {
    const Operand in(input, "input", Contiguity::InnermostDense, true),
        dw(depthwise_filter, "depthwise_filter", Contiguity::Dense),
        pw(pointwise_filter, "pointwise_filter", Contiguity::Dense);
    HalideView hpw = pw.matrix();
    run_separable(in, dw, pw.shape(), hpw, false, &pw, bias, output, options);
}

void separable_conv2d(const ConstTensor &input, const ConstTensor &depthwise_filter,
                      const PackedPointwiseFilter &pointwise_filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options) {
    const Operand in(input, "input", Contiguity::InnermostDense, true),
        dw(depthwise_filter, "depthwise_filter", Contiguity::Dense);
    HalideView hpw = weights_view(pointwise_filter);
    run_separable(in, dw, detail::as_shape4(pointwise_filter.shape()), hpw, pointwise_filter.packed(), nullptr, bias,
                  output, options);
}

std::vector<int64_t> infer_output_shape(Op op, const std::vector<int64_t> &input,
                                        const std::vector<int64_t> &depthwise_filter,
                                        const std::vector<int64_t> &pointwise_filter, const Conv2DOptions &options) {
    auto shape4 = [](const std::vector<int64_t> &s, const char *name) {
        if (s.size() != 4) {
            throw Error(std::string(name) + " must be 4-dimensional, got rank " + std::to_string(s.size()) +
                        " with shape " + format_list(s));
        }
        return detail::as_shape4(s);
    };
    Shape4 out;
    switch (op) {
    case Op::Depthwise:
        out = infer_depthwise_output_shape(shape4(input, "input"), shape4(depthwise_filter, "filter"), options);
        break;
    case Op::Pointwise:
        out = infer_pointwise_output_shape(shape4(input, "input"), shape4(pointwise_filter, "pointwise_filter"),
                                           options.data_format);
        break;
    case Op::Separable:
        out = infer_separable_output_shape(shape4(input, "input"), shape4(depthwise_filter, "depthwise_filter"),
                                           shape4(pointwise_filter, "pointwise_filter"), options);
        break;
    }
    return {out.begin(), out.end()};
}

}  // namespace sepconv
