"""sepconv.layers.SeparableConv2D: Keras's constructor arguments and errors,
weights, and results against the float64 reference."""
import numpy as np
import pytest

import reference
import sepconv
from sepconv.layers import SeparableConv2D


def test_int_or_pair_arguments():
    layer = SeparableConv2D(8, 3, strides=2, dilation_rate=1)
    assert layer.kernel_size == (3, 3) and layer.strides == (2, 2) and layer.dilation_rate == (1, 1)
    layer = SeparableConv2D(8, (3, 5), strides=[1, 2], padding="SAME", data_format="channels_first")
    assert layer.kernel_size == (3, 5) and layer.strides == (1, 2) and layer.padding == "same"
    assert layer.data_format == "channels_first"


@pytest.mark.parametrize("kwargs, message", [
    (dict(padding="causal"), "'causal' is for 1-D convolutions only"),
    (dict(padding="full"), "The `padding` argument must be one of"),
    (dict(strides=2, dilation_rate=2), "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (dict(strides=(1, 2), dilation_rate=(2, 1)), "`strides > 1` not supported in conjunction"),
    (dict(kernel_size=0), "The `kernel_size` argument must be a tuple of 2 integers"),
    (dict(kernel_size=(3, 3, 3)), "The `kernel_size` argument must be a tuple of 2 integers"),
    (dict(kernel_size=(3, 1.5)), "The `kernel_size` argument must be a tuple of 2 integers"),
    (dict(strides=(1, 0)), "The `strides` argument must be a tuple of 2 integers"),
    (dict(dilation_rate=-1), "The `dilation_rate` argument must be a tuple of 2 integers"),
    (dict(filters=0), "Invalid value for argument `filters`"),
    (dict(depth_multiplier=0), "Invalid value for argument `depth_multiplier`"),
    (dict(data_format="NHWC"), "The `data_format` argument must be one of"),
    (dict(activation="gelu"), "Unsupported activation"),
    (dict(depthwise_regularizer="l2"), "Unsupported argument depthwise_regularizer"),
])
def test_constructor_errors(kwargs, message):
    args = dict(filters=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError) as info:
        SeparableConv2D(**args)
    assert message in str(info.value)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_call_matches_reference(data_format, use_bias):
    rng = np.random.default_rng(7)
    layer = SeparableConv2D(5, (3, 2), strides=(2, 1), padding="same", data_format=data_format, depth_multiplier=2,
                            activation="relu6", use_bias=use_bias, bias_initializer="ones", seed=3)
    x = rng.standard_normal((2, 9, 7, 3)).astype(np.float32)
    x_in = x if data_format == "channels_last" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    y = layer(x_in)
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(3, 2, 3, 2), (1, 1, 6, 5)] + ([(5,)] if use_bias else [])
    ref = reference.pointwise_nhwc(reference.depthwise_nhwc(x, weights[0], (2, 1), (1, 1), "SAME"), weights[1])
    ref = np.clip(ref + (weights[2] if use_bias else 0), 0, 6)
    if data_format == "channels_first":
        ref = ref.transpose(0, 3, 1, 2)
    assert y.shape == ref.shape == ((2, 5, 7, 5) if data_format == "channels_last" else (2, 5, 5, 7))
    assert layer.compute_output_shape((None, *x_in.shape[1:])) == (None, *y.shape[1:])
    assert np.abs(y - ref).max() <= reference.tolerance(ref, 6 * 6)


def test_set_weights_from_numpy():
    layer = SeparableConv2D(2, 1, use_bias=True, activation=None)
    layer.set_weights([np.ones((1, 1, 2, 1)), np.full((1, 1, 2, 2), 2.0), [0.5, -0.5]])
    y = layer(np.ones((1, 2, 2, 2), np.float32))
    np.testing.assert_array_equal(y, np.broadcast_to([4.5, 3.5], (1, 2, 2, 2)))
    with pytest.raises(ValueError, match="expects 3 weights"):
        layer.set_weights([np.ones((1, 1, 2, 1)), np.ones((1, 1, 2, 2))])
    with pytest.raises(ValueError, match="weight pointwise_kernel has shape"):
        layer.set_weights([np.ones((1, 1, 2, 1)), np.ones((1, 1, 3, 2)), np.zeros(2)])


def test_input_channels_must_match_the_weights():
    layer = SeparableConv2D(2, 3, padding="same")
    layer(np.ones((1, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="same depth"):
        layer(np.ones((1, 4, 4, 2), np.float32))


def test_valid_padding_too_small_input():
    with pytest.raises(ValueError, match="Computed output size"):
        SeparableConv2D(2, 5)(np.ones((1, 3, 3, 1), np.float32))


def test_activation_callables_by_name():
    def relu(x):
        return np.maximum(x, 0)

    layer = SeparableConv2D(1, 1, activation=relu, use_bias=False)
    layer.set_weights([np.ones((1, 1, 1, 1)), -np.ones((1, 1, 1, 1))])
    np.testing.assert_array_equal(layer(np.full((1, 1, 2, 1), [[[1.0], [-1.0]]], np.float32)).ravel(), [0, 1])
    layer = SeparableConv2D(1, 1, activation="leaky_relu", use_bias=False)
    layer.set_weights([np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1))])
    np.testing.assert_allclose(layer(np.full((1, 1, 1, 1), -1.0, np.float32)).ravel(), [-0.2])


def test_sepconv_activation_objects():
    layer = SeparableConv2D(1, 1, activation=sepconv.Activation.clamp(-1, 2), use_bias=False)
    layer.set_weights([np.ones((1, 1, 1, 1)), np.ones((1, 1, 1, 1))])
    np.testing.assert_array_equal(layer(np.array([-5, 0, 5], np.float32).reshape(1, 1, 3, 1)).ravel(), [-1, 0, 2])
