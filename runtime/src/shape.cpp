#include "sepconv/shape.h"

#include <limits>
#include <string>

#include "format.h"
#include "sepconv/error.h"

namespace sepconv {
namespace {

// Kernels index with 32-bit integers; every extent, stride, dilation and
// padding amount must fit, which also keeps the arithmetic below from
// overflowing int64.
constexpr int64_t kMaxExtent = std::numeric_limits<int32_t>::max();

// `what` is a C string: the message is built only when throwing (shape
// inference runs on every call, which allocates nothing).
void check_range(int64_t v, int64_t lo, const char *what, const char *index = "") {
    if (v < lo || v > kMaxExtent) {
        throw Error(std::string(what) + index + " must be in [" + std::to_string(lo) + ", " + std::to_string(kMaxExtent) + "], got " +
                    std::to_string(v));
    }
}

void check_dims(const Shape4 &s, const char *name, int64_t first_min) {
    for (int i = 0; i < 4; i++) {
        int64_t lo = i == 0 ? first_min : 1;
        if (s[i] < lo || s[i] > kMaxExtent) {
            throw Error(std::string(name) + " dimensions must be in [" + (i == 0 ? std::to_string(first_min) : "1") +
                        ", " + std::to_string(kMaxExtent) + "], got shape " + to_string(s));
        }
    }
}

}  // namespace

std::string to_string(const Shape4 &s) {
    return format_list(s);
}

SpatialExtent windowed_output(int64_t input, int64_t kernel, int64_t stride, int64_t dilation, Padding::Kind kind,
                              int64_t explicit_before, int64_t explicit_after) {
    check_range(input, 1, "input size");
    check_range(kernel, 1, "filter size");
    check_range(stride, 1, "stride");
    check_range(dilation, 1, "dilation rate");
    check_range(explicit_before, 0, "padding");
    check_range(explicit_after, 0, "padding");
    const int64_t effective = (kernel - 1) * dilation + 1;
    SpatialExtent e;
    switch (kind) {
    case Padding::Kind::Valid:
        e.size = (input - effective + stride) / stride;
        break;
    case Padding::Kind::Same: {
        e.size = (input + stride - 1) / stride;
        const int64_t needed = std::max<int64_t>(0, (e.size - 1) * stride + effective - input);
        e.pad_before = needed / 2;
        e.pad_after = needed - e.pad_before;
        break;
    }
    case Padding::Kind::Explicit:
        e.pad_before = explicit_before;
        e.pad_after = explicit_after;
        e.size = (input + explicit_before + explicit_after - effective + stride) / stride;
        break;
    }
    const auto context = [&] {
        return " [input_size: " + std::to_string(input) + ", effective_filter_size: " + std::to_string(effective) +
               ", stride: " + std::to_string(stride) + "]";
    };
    // C++ division truncates toward zero, as TF's does: a kernel larger than
    // the (padded) input by less than a stride gives 0, not a negative size.
    if (input + e.pad_before + e.pad_after - effective < 0 && e.size >= 0) {
        throw Error("Computed output size would be empty: 0" + context() +
                    "; the (padded) input is smaller than the dilated filter");
    }
    if (e.size < 0) {
        throw Error("Computed output size would be negative: " + std::to_string(e.size) + context());
    }
    check_range(e.size, 1, "output size");
    // The kernels address the padded input (and every tap's offset into it)
    // in 32 bits: a huge dilation under SAME padding pads by more than that
    // (found by the fuzzer: dilation 2^31 - 1 padded by ~2^32, which wrapped
    // to -2 and read outside the input).
    if (input + e.pad_before + e.pad_after > kMaxExtent) {
        throw Error("padded input size overflows the kernel's 32-bit index: " + std::to_string(input) + " + padding " +
                    std::to_string(e.pad_before) + " + " + std::to_string(e.pad_after) + " > " +
                    std::to_string(kMaxExtent) + context());
    }
    return e;
}

void check_strides_and_dilations(const Conv2DOptions &o) {
    for (int i = 0; i < 2; i++) {
        check_range(o.strides[i], 1, "strides", i ? "[w]" : "[h]");
        check_range(o.dilations[i], 1, "dilations", i ? "[w]" : "[h]");
    }
    const bool dilated = o.dilations[0] > 1 || o.dilations[1] > 1;
    const bool strided = o.strides[0] > 1 || o.strides[1] > 1;
    if (dilated && strided) {
        // (stricter than tf.nn.separable_conv2d, which silently computes a
        // wrong result here): Keras's error.
        throw Error("`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=" +
                    format_list(o.strides) + " and dilation_rate=" + format_list(o.dilations));
    }
}

OutputGeometry infer_output_geometry(int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                                     const Conv2DOptions &o) {
    check_strides_and_dilations(o);
    OutputGeometry g;
    g.height = windowed_output(in_h, k_h, o.strides[0], o.dilations[0], o.padding.kind, o.padding.top,
                               o.padding.bottom);
    g.width = windowed_output(in_w, k_w, o.strides[1], o.dilations[1], o.padding.kind, o.padding.left,
                              o.padding.right);
    return g;
}

NHWCDims dims_of(const Shape4 &s, DataFormat format) {
    if (format == DataFormat::NHWC) return {s[0], s[1], s[2], s[3]};
    return {s[0], s[2], s[3], s[1]};
}

Shape4 shape_of(const NHWCDims &d, DataFormat format) {
    if (format == DataFormat::NHWC) return {d.n, d.h, d.w, d.c};
    return {d.n, d.c, d.h, d.w};
}

Shape4 infer_depthwise_output_shape(const Shape4 &input, const Shape4 &filter, const Conv2DOptions &options) {
    check_dims(input, "input", 0);
    check_dims(filter, "filter", 1);
    const NHWCDims in = dims_of(input, options.data_format);
    if (in.c != filter[2]) {
        throw Error("input and filter must have the same depth: " + std::to_string(in.c) + " vs " +
                    std::to_string(filter[2]) + " (input shape " + to_string(input) + " in " +
                    to_string(options.data_format) + ", filter shape " + to_string(filter) + " [k_h, k_w, in_c, M])");
    }
    const OutputGeometry g = infer_output_geometry(in.h, in.w, filter[0], filter[1], options);
    const int64_t out_c = in.c * filter[3];
    check_range(out_c, 1, "output channels (in_c * multiplier)");
    return shape_of({in.n, g.height.size, g.width.size, out_c}, options.data_format);
}

Shape4 infer_pointwise_output_shape(const Shape4 &input, const Shape4 &filter, DataFormat format) {
    check_dims(input, "input", 0);
    check_dims(filter, "pointwise_filter", 1);
    const NHWCDims in = dims_of(input, format);
    if (filter[0] != 1 || filter[1] != 1 || filter[2] != in.c) {
        throw Error("pointwise_filter must have shape [1, 1, " + std::to_string(in.c) + ", out_c], got " +
                    to_string(filter));
    }
    return shape_of({in.n, in.h, in.w, filter[3]}, format);
}

Shape4 infer_separable_output_shape(const Shape4 &input, const Shape4 &depthwise_filter,
                                    const Shape4 &pointwise_filter, const Conv2DOptions &options) {
    const Shape4 mid = infer_depthwise_output_shape(input, depthwise_filter, options);
    const NHWCDims m = dims_of(mid, options.data_format);
    if (pointwise_filter[0] != 1 || pointwise_filter[1] != 1 || pointwise_filter[2] != m.c) {
        throw Error("pointwise_filter must have shape [1, 1, in_c * depth_multiplier = " + std::to_string(m.c) +
                    ", out_c], got " + to_string(pointwise_filter));
    }
    check_dims(pointwise_filter, "pointwise_filter", 1);
    return shape_of({m.n, m.h, m.w, pointwise_filter[3]}, options.data_format);
}

}  // namespace sepconv
