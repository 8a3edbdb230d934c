"""Keras-style layers over the sepconv operations (inference only)."""
import math
import operator

import numpy as np

from . import _args, _sepconv, ops


def _int_tuple(value, n, name):
    """Keras's standardize_tuple: one int or n ints, all > 0, with Keras's message."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        try:
            values = tuple(operator.index(v) for v in values)
        except TypeError:
            raise ValueError(message) from None
    bad = {v for v in values if v <= 0}
    if bad:
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value > 0`")
    return values


def _padding(value):
    if not isinstance(value, str) or value.lower() not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of {'valid', 'same'} "
                         f"('causal' is for 1-D convolutions only). Received: {value}")
    return value.lower()


def _data_format(value):
    if value is None:
        return "channels_last"
    value = str(value).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         f"Received: data_format={value}")
    return value


# Keras activations by name (also the __name__ of Keras's activation functions);
# leaky_relu takes Keras 3's default negative_slope of 0.2.
_ACTIVATIONS = {
    "linear": _sepconv.Activation.none,
    "relu": _sepconv.Activation.relu,
    "relu6": _sepconv.Activation.relu6,
    "relu_n1_to_1": _sepconv.Activation.relu_n1_to_1,
    "leaky_relu": lambda: _sepconv.Activation.leaky_relu(0.2),
}


def _activation(value):
    if value is None:
        return "linear", _sepconv.Activation.none()
    if isinstance(value, _sepconv.Activation):
        return value, value
    name = value if isinstance(value, str) else getattr(value, "__name__", None)
    if name in _ACTIVATIONS:
        return name, _ACTIVATIONS[name]()
    raise ValueError(f"Unsupported activation {value!r}: sepconv layers take None, one of "
                     f"{sorted(_ACTIVATIONS)} or a sepconv.Activation")


def _initial_values(initializer, shape, rng, name):
    """Keras's initializers by name (glorot_uniform, glorot_normal, zeros, ones),
    a callable(shape) or an array."""
    shape = tuple(shape)
    if callable(initializer) and not isinstance(initializer, str):
        values = initializer(shape)
    elif isinstance(initializer, str):
        receptive = math.prod(shape[:-2])
        fan_in, fan_out = (shape[-2] * receptive, shape[-1] * receptive) if len(shape) > 1 else (shape[0],) * 2
        if initializer == "zeros":
            values = np.zeros(shape)
        elif initializer == "ones":
            values = np.ones(shape)
        elif initializer == "glorot_uniform":
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            values = rng.uniform(-limit, limit, shape)
        elif initializer == "glorot_normal":
            values = rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), shape)
        else:
            raise ValueError(f"Unsupported {name}: {initializer!r} (use 'glorot_uniform', 'glorot_normal', "
                             "'zeros', 'ones', a callable or an array)")
    else:
        values = initializer
    values = np.ascontiguousarray(values, dtype=np.float32)
    if values.shape != shape:
        raise ValueError(f"{name} must give shape {shape}, got {values.shape}")
    return values


class SeparableConv2D:
    """tf.keras.layers.SeparableConv2D for inference: depthwise convolution
    (kernel_size, strides, padding, dilation_rate, depth_multiplier), a 1x1
    convolution to `filters` channels, bias and activation, in one fused kernel.

    Weights are created on the first call (or build()) from the initializers,
    or given with set_weights([depthwise_kernel, pointwise_kernel(, bias)]) —
    the order and shapes of Keras's get_weights() — or copied from a built
    Keras layer with SeparableConv2D.from_keras(layer).

    Differences from Keras: strides > 1 together with dilation_rate > 1 is an
    error (as in Keras 2; Keras 3 decomposes it); inputs must be float32 arrays
    of rank 4 (not converted); training options (regularizers, constraints)
    are not supported.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None, seed=None, **kwargs):
        for key, value in kwargs.items():
            if key in ("trainable", "dtype") or value is None:
                continue
            raise ValueError(f"Unsupported argument {key}={value!r} (sepconv layers are for inference)")
        self.filters = operator.index(filters)
        self.kernel_size = _int_tuple(kernel_size, 2, "kernel_size")
        self.strides = _int_tuple(strides, 2, "strides")
        self.dilation_rate = _int_tuple(dilation_rate, 2, "dilation_rate")
        self.padding = _padding(padding)
        self.data_format = _data_format(data_format)
        self.depth_multiplier = operator.index(depth_multiplier)
        self.activation, self._activation = _activation(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = depthwise_initializer
        self.pointwise_initializer = pointwise_initializer
        self.bias_initializer = bias_initializer
        self.name = name or "separable_conv2d"
        self._rng = np.random.default_rng(seed)
        if self.depth_multiplier <= 0:
            raise ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly positive value. "
                             f"Received depth_multiplier={self.depth_multiplier}.")
        if self.filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                             f"Received filters={self.filters}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.depthwise_kernel = self.pointwise_kernel = self.bias = None
        self.built = False

    # -- what the layer computes --------------------------------------------

    def _conv_arguments(self):
        """tf.nn's (strides, padding, data_format, dilations) for this layer."""
        channels_last = self.data_format == "channels_last"
        strides = [1, *self.strides, 1] if channels_last else [1, 1, *self.strides]
        return strides, self.padding.upper(), "NHWC" if channels_last else "NCHW", list(self.dilation_rate)

    def _channels(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Input 0 of layer '{self.name}' must have rank 4, got shape {tuple(input_shape)}")
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to '{self.name}' must be defined, "
                             f"got shape {tuple(input_shape)}")
        return int(channels)

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape` (the batch may be None)."""
        input_shape = tuple(input_shape)
        channels = self._channels(input_shape)
        batch = input_shape[0]
        shape = [1 if batch is None else batch, *input_shape[1:]]
        out = _sepconv.infer_output_shape(
            "separable", [int(d) for d in shape], [*self.kernel_size, channels, self.depth_multiplier],
            [1, 1, channels * self.depth_multiplier, self.filters],
            _args.options(*self._conv_arguments(), self._activation))
        return (batch, *out[1:])

    def build(self, input_shape):
        """Creates the weights from the initializers for inputs of `input_shape`."""
        channels = self._channels(tuple(input_shape))
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = _initial_values(self.depthwise_initializer,
                                                (*self.kernel_size, channels, self.depth_multiplier), self._rng,
                                                "depthwise_initializer")
        self.pointwise_kernel = _initial_values(self.pointwise_initializer,
                                                (1, 1, channels * self.depth_multiplier, self.filters), self._rng,
                                                "pointwise_initializer")
        self.bias = (_initial_values(self.bias_initializer, (self.filters,), self._rng, "bias_initializer")
                     if self.use_bias else None)
        self.built = True

    def __call__(self, inputs, out=None):
        inputs = _args.array_arg(inputs, "inputs")
        if not self.built:
            self.build(_args.shape_of(inputs))
        return ops.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, *self._conv_arguments(),
                                    bias=self.bias, activation=self._activation, out=out)

    # -- weights -------------------------------------------------------------

    @property
    def weights(self):
        return self.get_weights()

    def get_weights(self):
        """[depthwise_kernel, pointwise_kernel(, bias)], as Keras orders them."""
        if not self.built:
            return []
        weights = [self.depthwise_kernel, self.pointwise_kernel]
        return weights + [self.bias] if self.use_bias else weights

    def set_weights(self, weights):
        """Sets (and builds from) [depthwise_kernel [k_h, k_w, C, depth_multiplier],
        pointwise_kernel [1, 1, C*depth_multiplier, filters](, bias [filters])]."""
        weights = list(weights)
        expected = 3 if self.use_bias else 2
        if len(weights) != expected:
            raise ValueError(f"Layer '{self.name}' expects {expected} weights (depthwise_kernel, pointwise_kernel"
                             f"{', bias' if self.use_bias else ''}), but received {len(weights)}")
        arrays = [np.ascontiguousarray(w, dtype=np.float32) for w in weights]
        depthwise, pointwise = arrays[0], arrays[1]
        if depthwise.ndim != 4:
            raise ValueError(f"depthwise_kernel must be 4-dimensional, got shape {depthwise.shape}")
        channels = depthwise.shape[2]
        shapes = [(*self.kernel_size, channels, self.depth_multiplier),
                  (1, 1, channels * self.depth_multiplier, self.filters), (self.filters,)]
        for name, array, shape in zip(("depthwise_kernel", "pointwise_kernel", "bias"), arrays, shapes):
            if array.shape != shape:
                raise ValueError(f"Layer '{self.name}' weight {name} has shape {shape}, "
                                 f"received a value of shape {array.shape}")
        self.depthwise_kernel, self.pointwise_kernel = depthwise, pointwise
        self.bias = arrays[2] if self.use_bias else None
        self.built = True

    def get_config(self):
        activation = self.activation if isinstance(self.activation, str) else repr(self.activation)
        return {"name": self.name, "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "depth_multiplier": self.depth_multiplier,
                "activation": activation, "use_bias": self.use_bias}

    @classmethod
    def from_keras(cls, layer):
        """A sepconv layer with a Keras SeparableConv2D's configuration and, if it
        is built, its weights (tf.keras or Keras 3)."""
        config = layer.get_config()
        activation = getattr(layer, "activation", None) or config.get("activation")
        result = cls(filters=config["filters"], kernel_size=config["kernel_size"], strides=config["strides"],
                     padding=config["padding"], data_format=config.get("data_format"),
                     dilation_rate=config["dilation_rate"], depth_multiplier=config["depth_multiplier"],
                     activation=activation, use_bias=config["use_bias"], name=config.get("name"))
        weights = layer.get_weights()
        if weights:
            result.set_weights(weights)
        return result

    def __repr__(self):
        return f"<sepconv.layers.SeparableConv2D {self.get_config()}>"
