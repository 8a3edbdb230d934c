"""sepconv: TensorFlow-exact depthwise, pointwise and separable 2-D convolution
kernels (Halide, ahead-of-time) for float32 numpy arrays, without copies.

    import sepconv
    y = sepconv.separable_conv2d(x, dw, pw, strides=[1, 1, 1, 1], padding="SAME")
    layer = sepconv.layers.SeparableConv2D(64, 3, padding="same", activation="relu")

Errors are ValueError with the runtime's message.
"""
from . import layers
from ._args import empty
from ._sepconv import Activation, PackedPointwiseFilter, aot_kernels, last_kernel, num_threads, set_num_threads
from .ops import depthwise_conv2d, infer_output_shape, pointwise_conv2d, separable_conv2d

__all__ = ["Activation", "PackedPointwiseFilter", "aot_kernels", "depthwise_conv2d", "empty", "infer_output_shape",
           "last_kernel", "layers", "num_threads", "pointwise_conv2d", "separable_conv2d", "set_num_threads"]
__version__ = "0.1.0"
