"""The operations, with tf.nn's argument names and forms.

Extensions over tf.nn (keyword-only): `bias` (added per output channel),
`activation` (None, 'relu', 'relu6', 'relu_n1_to_1', 'linear' or a
sepconv.Activation such as Activation.clamp(lo, hi) / leaky_relu(alpha)) and
`out` (a float32 array of the output's shape to write into). The result is a
new float32 numpy array (or `out`). `name` is accepted and ignored.
"""
from . import _args, _sepconv


def _run(op, kernel, arrays, options, bias, out):
    """Infers the output shape, allocates it and runs `kernel` (GIL released)."""
    shapes = [a.shape if isinstance(a, _sepconv.PackedPointwiseFilter) else _args.shape_of(a) for _, a in arrays]
    if op == "depthwise":
        shape = _sepconv.infer_output_shape(op, shapes[0], shapes[1], [], options)
    elif op == "pointwise":
        shape = _sepconv.infer_output_shape(op, shapes[0], [], shapes[1], options)
    else:
        shape = _sepconv.infer_output_shape(op, shapes[0], shapes[1], shapes[2], options)
    output = _args.output_arg(out, shape)
    if bias is not None:
        bias = _args.array_arg(bias, "bias")
    kernel(*[a for _, a in arrays], bias, output, options)
    return output


def _packed_or_array(filter, name, kernel, packed_kernel):
    """(the kernel for `filter`, the filter): a PackedPointwiseFilter as it
    is, anything else as an array."""
    if isinstance(filter, _sepconv.PackedPointwiseFilter):
        return packed_kernel, filter
    return kernel, _args.array_arg(filter, name)


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None, *,
                     bias=None, activation=None, out=None):
    """tf.nn.depthwise_conv2d: input [N, H, W, C] (NHWC) or [N, C, H, W] (NCHW),
    filter [k_h, k_w, C, M] -> [N, out_h, out_w, C*M] (channel k*M + q).

    strides: 4 ints, [1, s_h, s_w, 1] (NHWC) or [1, 1, s_h, s_w] (NCHW).
    padding: 'SAME', 'VALID', or [[0, 0], [top, bottom], [left, right], [0, 0]]
    (NHWC; [[0, 0], [0, 0], [top, bottom], [left, right]] for NCHW).
    dilations: [rate_h, rate_w] or None; rates > 1 need strides of 1.
    """
    options = _args.options(strides, padding, data_format, dilations, activation)
    arrays = [("input", _args.array_arg(input, "input")), ("filter", _args.array_arg(filter, "filter"))]
    return _run("depthwise", _sepconv.depthwise_conv2d, arrays, options, bias, out)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, data_format=None,
                     dilations=None, name=None, *, bias=None, activation=None, out=None):
    """tf.nn.separable_conv2d: depthwise_conv2d(input, depthwise_filter) then a 1x1
    convolution with pointwise_filter [1, 1, C*M, O], fused -> [N, out_h, out_w, O].
    `pointwise_filter` may be a sepconv.PackedPointwiseFilter, packed once for
    repeated calls."""
    options = _args.options(strides, padding, data_format, dilations, activation)
    kernel, pointwise_filter = _packed_or_array(pointwise_filter, "pointwise_filter", _sepconv.separable_conv2d,
                                                _sepconv.separable_conv2d_packed)
    arrays = [("input", _args.array_arg(input, "input")),
              ("depthwise_filter", _args.array_arg(depthwise_filter, "depthwise_filter")),
              ("pointwise_filter", pointwise_filter)]
    return _run("separable", kernel, arrays, options, bias, out)


def pointwise_conv2d(input, filter, data_format=None, name=None, *, bias=None, activation=None, out=None):
    """A 1x1, stride-1 convolution (tf.nn.conv2d with a [1, 1, C, O] filter,
    strides 1, 'VALID'): input [N, H, W, C] -> [N, H, W, O]. `filter` may be a
    sepconv.PackedPointwiseFilter, packed once for repeated calls."""
    options = _args.options([1, 1, 1, 1], "VALID", data_format, None, activation)
    kernel, filter = _packed_or_array(filter, "filter", _sepconv.pointwise_conv2d, _sepconv.pointwise_conv2d_packed)
    arrays = [("input", _args.array_arg(input, "input")), ("filter", filter)]
    return _run("pointwise", kernel, arrays, options, bias, out)


def infer_output_shape(op, input_shape, depthwise_filter_shape=(), pointwise_filter_shape=(), strides=(1, 1, 1, 1),
                       padding="VALID", data_format=None, dilations=None):
    """The output shape of `op` ('depthwise', 'pointwise' or 'separable') from shapes alone."""
    options = _args.options(strides, padding, data_format, dilations, None)
    return _sepconv.infer_output_shape(op, _args.int_list(input_shape, "input_shape"),
                                       _args.int_list(depthwise_filter_shape, "depthwise_filter_shape"),
                                       _args.int_list(pointwise_filter_shape, "pointwise_filter_shape"), options)
