// sepconv._sepconv: the C++ runtime for Python (nanobind). Arrays come in
// through DLPack / the buffer protocol and are viewed, never copied; the
// tf.nn-style argument forms are parsed by the Python package (sepconv/_args.py)
// and arrive here as plain lists. sepconv::Error is a std::invalid_argument,
// which nanobind raises as ValueError with the C++ message.
#include <array>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/array.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include "sepconv/cpu.h"
#include "sepconv/ops.h"
#include "sepconv/registry.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using AnyArray = nb::ndarray<nb::ro>;

std::string dtype_name(nb::dlpack::dtype t) {
    const char *kind = "unknown";
    switch (static_cast<nb::dlpack::dtype_code>(t.code)) {
    case nb::dlpack::dtype_code::Int: kind = "int"; break;
    case nb::dlpack::dtype_code::UInt: kind = "uint"; break;
    case nb::dlpack::dtype_code::Float: kind = "float"; break;
    case nb::dlpack::dtype_code::Bfloat: kind = "bfloat"; break;
    case nb::dlpack::dtype_code::Complex: kind = "complex"; break;
    case nb::dlpack::dtype_code::Bool: return "bool";
    default: break;
    }
    return kind + std::to_string(t.bits);
}

// The view the runtime takes: data, TF-order shape, strides in elements. The
// runtime checks the layout (activations: innermost dimension dense; filters
// and bias: C-contiguous) and says so in its error.
sepconv::ConstTensor view_of(const AnyArray &a, const char *name) {
    if (a.dtype() != nb::dtype<float>()) {
        throw sepconv::Error(std::string(name) + " must be float32, got " + dtype_name(a.dtype()) +
                             " (sepconv does not convert arrays; use numpy.asarray(" + name + ", numpy.float32))");
    }
    if (a.device_type() != nb::device::cpu::value) {
        throw sepconv::Error(std::string(name) + " must be in CPU memory, got DLPack device type " +
                             std::to_string(a.device_type()));
    }
    sepconv::ConstTensor t;
    t.data = static_cast<const float *>(a.data());
    t.shape.resize(a.ndim());
    t.strides.resize(a.ndim());
    // A dimension of extent 1 is never stepped along, and exporters give it
    // any stride (numpy keeps a slice's); give it the dense one, which the
    // kernels' layout constraints expect (innermost stride 1). Likewise for
    // every dimension of an empty array, which is never read (numpy may give
    // it strides of 0).
    bool empty = false;
    for (size_t i = 0; i < a.ndim(); i++) empty |= a.shape(i) == 0;
    int64_t dense = 1;
    for (size_t i = a.ndim(); i-- > 0;) {
        t.shape[i] = static_cast<int64_t>(a.shape(i));
        t.strides[i] = t.shape[i] == 1 || empty ? dense : a.stride(i);
        dense *= t.shape[i];
    }
    return t;
}

sepconv::MutableTensor output_view(const AnyArray &a) {
    const sepconv::ConstTensor t = view_of(a, "output");
    sepconv::MutableTensor out(const_cast<float *>(t.data), t.shape);
    out.strides = t.strides;
    return out;
}

std::optional<sepconv::ConstTensor> bias_view(const std::optional<AnyArray> &bias) {
    if (!bias) return std::nullopt;
    return view_of(*bias, "bias");
}

using PaddingArg = std::variant<std::string, std::vector<std::array<int64_t, 2>>>;

// Conv2DOptions from tf.nn's forms: strides [1, s_h, s_w, 1] (NHWC) or
// [1, 1, s_h, s_w] (NCHW); padding a string or 4 [before, after] pairs;
// dilations [r_h, r_w] (tf.nn.depthwise_conv2d's `dilations` has 2 entries).
sepconv::Conv2DOptions make_options(const std::vector<int64_t> &strides, const PaddingArg &padding,
                                    const std::array<int64_t, 2> &dilations, const std::string &data_format,
                                    const sepconv::Activation &activation) {
    sepconv::Conv2DOptions o;
    o.data_format = sepconv::parse_data_format(data_format);
    o.strides = sepconv::spatial_strides(strides, o.data_format);
    if (const auto *name = std::get_if<std::string>(&padding)) {
        o.padding = sepconv::Padding::parse(*name);
    } else {
        o.padding = sepconv::Padding::from_list(std::get<1>(padding), o.data_format);
    }
    o.dilations = dilations;
    o.activation = activation;
    return o;
}

sepconv::Op parse_op(const std::string &op) {
    if (op == "depthwise") return sepconv::Op::Depthwise;
    if (op == "pointwise") return sepconv::Op::Pointwise;
    if (op == "separable") return sepconv::Op::Separable;
    throw sepconv::Error("op must be 'depthwise', 'pointwise' or 'separable', got '" + op + "'");
}

std::string padding_repr(const sepconv::Padding &p) {
    switch (p.kind) {
    case sepconv::Padding::Kind::Same: return "'SAME'";
    case sepconv::Padding::Kind::Valid: return "'VALID'";
    default:
        return "explicit(top=" + std::to_string(p.top) + ", bottom=" + std::to_string(p.bottom) +
               ", left=" + std::to_string(p.left) + ", right=" + std::to_string(p.right) + ")";
    }
}

// depthwise_conv2d / pointwise_conv2d for Python: the views are made with the
// GIL held, the kernel runs without it.
using SingleFilterOp = void (*)(const sepconv::ConstTensor &, const sepconv::ConstTensor &,
                                const std::optional<sepconv::ConstTensor> &, const sepconv::MutableTensor &,
                                const sepconv::Conv2DOptions &);
auto single_filter_op(SingleFilterOp op, const char *filter_name) {
    return [op, filter_name](const AnyArray &input, const AnyArray &filter, const std::optional<AnyArray> &bias,
                             const AnyArray &output, const sepconv::Conv2DOptions &options) {
        const auto in = view_of(input, "input"), f = view_of(filter, filter_name);
        const auto b = bias_view(bias);
        const auto out = output_view(output);
        nb::gil_scoped_release release;
        op(in, f, b, out, options);
    };
}

}  // namespace

NB_MODULE(_sepconv, m) {
    m.doc() = "sepconv's C++ runtime (use the `sepconv` package, not this module)";

    nb::class_<sepconv::Activation>(m, "Activation",
                                    "The activation after bias: leaky_relu(alpha) then clamp(min, max).")
        .def_static("none", &sepconv::Activation::none)
        .def_static("relu", &sepconv::Activation::relu)
        .def_static("relu6", &sepconv::Activation::relu6)
        .def_static("relu_n1_to_1", &sepconv::Activation::relu_n1_to_1)
        .def_static("clamp", &sepconv::Activation::clamp, "min"_a, "max"_a)
        .def_static("leaky_relu", &sepconv::Activation::leaky_relu, "alpha"_a)
        .def_static("parse", [](const std::string &name) { return sepconv::Activation::parse(name); }, "name"_a)
        .def_ro("min", &sepconv::Activation::min)
        .def_ro("max", &sepconv::Activation::max)
        .def_ro("leaky_alpha", &sepconv::Activation::leaky_alpha)
        .def("__repr__", [](const sepconv::Activation &a) {
            return "Activation(min=" + std::to_string(a.min) + ", max=" + std::to_string(a.max) +
                   ", leaky_alpha=" + std::to_string(a.leaky_alpha) + ")";
        });

    nb::class_<sepconv::Conv2DOptions>(m, "Conv2DOptions", "Everything about a convolution but its tensors.")
        .def_prop_ro("strides", [](const sepconv::Conv2DOptions &o) { return o.strides; })
        .def_prop_ro("dilations", [](const sepconv::Conv2DOptions &o) { return o.dilations; })
        .def_prop_ro("data_format", [](const sepconv::Conv2DOptions &o) {
            return std::string(sepconv::to_string(o.data_format));
        })
        .def_ro("activation", &sepconv::Conv2DOptions::activation)
        .def("__repr__", [](const sepconv::Conv2DOptions &o) {
            return "Conv2DOptions(strides=[" + std::to_string(o.strides[0]) + ", " + std::to_string(o.strides[1]) +
                   "], padding=" + padding_repr(o.padding) + ", dilations=[" + std::to_string(o.dilations[0]) +
                   ", " + std::to_string(o.dilations[1]) + "], data_format='" + sepconv::to_string(o.data_format) +
                   "')";
        });

    m.def("make_options", &make_options, "strides"_a, "padding"_a, "dilations"_a, "data_format"_a, "activation"_a);

    m.def(
        "infer_output_shape",
        [](const std::string &op, const std::vector<int64_t> &input, const std::vector<int64_t> &depthwise_filter,
           const std::vector<int64_t> &pointwise_filter, const sepconv::Conv2DOptions &options) {
            return sepconv::infer_output_shape(parse_op(op), input, depthwise_filter, pointwise_filter, options);
        },
        "op"_a, "input"_a, "depthwise_filter"_a, "pointwise_filter"_a, "options"_a);

    // The operations write into `output` (allocated by the caller).
    m.def("depthwise_conv2d", single_filter_op(&sepconv::depthwise_conv2d, "filter"), "input"_a, "filter"_a,
          "bias"_a.none(), "output"_a, "options"_a);
    m.def("pointwise_conv2d", single_filter_op(&sepconv::pointwise_conv2d, "pointwise_filter"), "input"_a,
          "filter"_a, "bias"_a.none(), "output"_a, "options"_a);

    nb::class_<sepconv::PackedPointwiseFilter>(
        m, "PackedPointwiseFilter",
        "A pointwise filter [1, 1, C, O] packed once for repeated pointwise_conv2d and separable_conv2d calls (a "
        "copy: the array may change or go afterwards).")
        .def(
            "__init__",
            [](sepconv::PackedPointwiseFilter *self, const AnyArray &filter) {
                new (self) sepconv::PackedPointwiseFilter(view_of(filter, "pointwise_filter"));
            },
            "filter"_a)
        .def_prop_ro("shape", &sepconv::PackedPointwiseFilter::shape, "The filter's shape, [1, 1, C, O].")
        .def_prop_ro("packed", &sepconv::PackedPointwiseFilter::packed,
                     "Whether the values are in blocks of 16 output channels (O a multiple of 16) or TF's layout.");
    m.def(
        "pointwise_conv2d_packed",
        [](const AnyArray &input, const sepconv::PackedPointwiseFilter &filter, const std::optional<AnyArray> &bias,
           const AnyArray &output, const sepconv::Conv2DOptions &options) {
            const auto in = view_of(input, "input");
            const auto b = bias_view(bias);
            const auto out = output_view(output);
            nb::gil_scoped_release release;
            sepconv::pointwise_conv2d(in, filter, b, out, options);
        },
        "input"_a, "filter"_a, "bias"_a.none(), "output"_a, "options"_a);

    m.def(
        "separable_conv2d",
        [](const AnyArray &input, const AnyArray &depthwise_filter, const AnyArray &pointwise_filter,
           const std::optional<AnyArray> &bias, const AnyArray &output, const sepconv::Conv2DOptions &options) {
            const auto in = view_of(input, "input"), dw = view_of(depthwise_filter, "depthwise_filter"),
                       pw = view_of(pointwise_filter, "pointwise_filter");
            const auto b = bias_view(bias);
            const auto out = output_view(output);
            nb::gil_scoped_release release;
            sepconv::separable_conv2d(in, dw, pw, b, out, options);
        },
        "input"_a, "depthwise_filter"_a, "pointwise_filter"_a, "bias"_a.none(), "output"_a, "options"_a);
    m.def(
        "separable_conv2d_packed",
        [](const AnyArray &input, const AnyArray &depthwise_filter,
           const sepconv::PackedPointwiseFilter &pointwise_filter, const std::optional<AnyArray> &bias,
           const AnyArray &output, const sepconv::Conv2DOptions &options) {
            const auto in = view_of(input, "input"), dw = view_of(depthwise_filter, "depthwise_filter");
            const auto b = bias_view(bias);
            const auto out = output_view(output);
            nb::gil_scoped_release release;
            sepconv::separable_conv2d(in, dw, pointwise_filter, b, out, options);
        },
        "input"_a, "depthwise_filter"_a, "pointwise_filter"_a, "bias"_a.none(), "output"_a, "options"_a);

    m.def(
        "shape_of",
        [](const AnyArray &a) {
            std::vector<int64_t> shape;
            for (size_t i = 0; i < a.ndim(); i++) shape.push_back(static_cast<int64_t>(a.shape(i)));
            return shape;
        },
        "array"_a, "The shape of any buffer-protocol or DLPack object.");

    m.def("set_num_threads", &sepconv::set_num_threads, "threads"_a,
          "The threads every kernel call's parallel loops run on (the calling thread is one of them).");
    m.def("num_threads", &sepconv::num_threads, "The threads kernel calls run on ($HL_NUM_THREADS, else every core).");
    m.def("last_kernel", [] { return sepconv::last_kernel(); },
          "The AOT kernel the calling thread ran last ('' before any).");
    m.def(
        "aot_kernels",
        [] {
            std::vector<std::string> names;
            for (const auto &k : sepconv::aot_kernels()) names.emplace_back(k.name);
            return names;
        },
        "Every AOT kernel variant built into this module.");
}
