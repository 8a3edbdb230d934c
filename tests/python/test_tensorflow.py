"""sepconv against TensorFlow's own ops (tf.nn.depthwise_conv2d,
tf.nn.separable_conv2d, tf.nn.conv2d, keras.layers.SeparableConv2D):
seeded random cases of every operation and option, and every error case
raising where TensorFlow raises.

Run by ctest as `python_tensorflow` (label tensorflow) in .venv-tf through
scripts/test-tensorflow.sh, which turns oneDNN off so that TensorFlow's
reference CPU kernels answer. SEPCONV_TF_CASES sets the number of random cases
per operation (default 200; thousands for a thorough run), SEPCONV_TF_SEED
the seed.

Where TensorFlow's CPU kernels cannot run a valid call (NCHW, strides that
differ between height and width) the comparison goes through an equivalent
TensorFlow formulation (NHWC transposes; tf.nn.conv2d with a block-diagonal
filter). Where sepconv deliberately differs from TensorFlow (the spec's
"stricter" rejections; padding strings in any case) a test says so by name.
"""
import copy
import dataclasses
import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import cases  # noqa: E402
import reference  # noqa: E402
import sepconv  # noqa: E402
from sepconv.layers import SeparableConv2D  # noqa: E402

COUNT = int(os.environ.get("SEPCONV_TF_CASES", "200"))
SEED = int(os.environ.get("SEPCONV_TF_SEED", "11"))


# -- TensorFlow's answer for a case ---------------------------------------------


def block_diagonal(dw):
    """A depthwise filter [kh, kw, C, M] as the dense conv2d filter [kh, kw, C, C*M]."""
    kh, kw, c, m = dw.shape
    dense = np.zeros((kh, kw, c, c * m), np.float32)
    for k in range(c):
        dense[:, :, k, k * m:(k + 1) * m] = dw[:, :, k, :]
    return dense


def tf_activation(y, name):
    if name is None:
        return y
    if name == "relu":
        return tf.nn.relu(y)
    if name == "relu6":
        return tf.nn.relu6(y)
    if name == "leaky_relu":
        return tf.nn.leaky_relu(y, alpha=0.25)
    lo, hi, _ = cases.ACTIVATIONS[name]
    return tf.clip_by_value(y, lo, hi)


def tf_result(case):
    """TensorFlow's output for a valid case, in the case's data format."""
    x = case.x_nhwc()
    nhwc = dataclasses.replace(case, data_format="NHWC")
    strides, padding = nhwc.tf_strides(), nhwc.tf_padding()
    equal_strides = case.strides[0] == case.strides[1]
    if case.op == "pointwise":
        y = tf.nn.conv2d(x, case.pw, [1, 1, 1, 1], "VALID")
    elif case.op == "separable" and equal_strides:
        y = tf.nn.separable_conv2d(x, case.dw, case.pw, strides, padding, dilations=list(case.dilations))
    else:
        if equal_strides:
            y = tf.nn.depthwise_conv2d(x, case.dw, strides, padding, dilations=list(case.dilations))
        else:  # TF's CPU depthwise kernel needs s_h == s_w; conv2d does not
            y = tf.nn.conv2d(x, block_diagonal(case.dw), strides, padding, dilations=[1, *case.dilations, 1])
        if case.op == "separable":
            y = tf.nn.conv2d(y, case.pw, [1, 1, 1, 1], "VALID")
    if case.bias is not None:
        y = tf.nn.bias_add(y, case.bias)
    return case.to_format(tf_activation(y, case.activation).numpy())


def check_against_tf(case, label):
    y, expected = case.run(), tf_result(case)
    assert y.shape == expected.shape, f"{label}: {case}"
    ref = case.reference()
    err = np.abs(y - expected).max(initial=0)
    assert err <= 2 * reference.tolerance(ref, case.reduction()), f"{label}: error {err} vs TF: {case}"


@pytest.mark.parametrize("op", ["depthwise", "separable", "pointwise"])
def test_random_cases_match_tensorflow(op):
    rng = np.random.default_rng([SEED, len(op)])
    for i in range(COUNT):
        check_against_tf(cases.random_case(rng, op), f"{op} case {i}")


# -- errors: sepconv raises ValueError exactly where TensorFlow raises ----------------

# Each mutation turns a valid NHWC case with equal strides into (usually) an
# invalid one; the arguments then go unchanged to both libraries.
Call = dataclasses.make_dataclass("Call", ["op", "x", "dw", "pw", "bias", "strides", "padding", "data_format",
                                           "dilations"])


def call_of(case):
    return Call(case.op, case.x, case.dw, case.pw, case.bias, case.tf_strides(), case.tf_padding(), case.data_format,
                list(case.dilations))


def grow(a, axis, by=1):
    shape = list(a.shape)
    shape[axis] += by
    return np.ones(shape, np.float32)


MUTATIONS = {
    "filter depth": lambda c: setattr(c, "dw", grow(c.dw, 2)),
    "pointwise depth": lambda c: setattr(c, "pw", grow(c.pw, 2)),
    "pointwise 2x1": lambda c: setattr(c, "pw", grow(c.pw, 0)),
    "input rank 3": lambda c: setattr(c, "x", c.x[0]),
    "filter rank 3": lambda c: setattr(c, "dw", c.dw[0]),
    "strides length 3": lambda c: setattr(c, "strides", c.strides[:3]),
    "strides length 5": lambda c: setattr(c, "strides", c.strides + [1]),
    "batch stride": lambda c: c.strides.__setitem__(0, 2),
    "depth stride": lambda c: c.strides.__setitem__(3, 2),
    "zero strides": lambda c: setattr(c, "strides", [1, 0, 0, 1]),
    "zero dilation": lambda c: setattr(c, "dilations", [0, 1]),
    "negative dilation": lambda c: setattr(c, "dilations", [1, -1]),
    "padding CAUSAL": lambda c: setattr(c, "padding", "CAUSAL"),
    "padding FULL": lambda c: setattr(c, "padding", "FULL"),
    "padding EXPLICIT": lambda c: setattr(c, "padding", "EXPLICIT"),
    "negative explicit padding": lambda c: setattr(c, "padding", [[0, 0], [-1, 1], [0, 0], [0, 0]]),
    # (with dilations of 1: TF ignores these pads when it dilates; see below)
    "batch explicit padding": lambda c: (setattr(c, "padding", [[1, 0], [1, 1], [0, 0], [0, 0]]),
                                         setattr(c, "dilations", [1, 1])),
    "depth explicit padding": lambda c: (setattr(c, "padding", [[0, 0], [1, 1], [0, 0], [0, 2]]),
                                         setattr(c, "dilations", [1, 1])),
    "3 padding pairs": lambda c: setattr(c, "padding", [[0, 0], [1, 1], [0, 0]]),
    "padding triple": lambda c: setattr(c, "padding", [[0, 0], [1, 1, 1], [0, 0], [0, 0]]),
    "data_format NWHC": lambda c: setattr(c, "data_format", "NWHC"),
    "negative output size": lambda c: (setattr(c, "padding", "VALID"), setattr(c, "strides", [1, 1, 1, 1]),
                                       setattr(c, "dilations", [1, 1]),
                                       setattr(c, "dw", np.ones((c.x.shape[1] + 2, 1, *c.dw.shape[2:]), np.float32))),
    "bias length": lambda c: setattr(c, "bias", np.ones(c.pw.shape[3] + 1 if c.pw is not None else c.dw.shape[2] *
                                                        c.dw.shape[3] + 1, np.float32)),
    "valid call": lambda c: None,
}


def run_tf_call(call):
    kw = dict(data_format=call.data_format, dilations=call.dilations)
    if call.op == "depthwise":
        y = tf.nn.depthwise_conv2d(call.x, call.dw, call.strides, call.padding, **kw)
    else:
        y = tf.nn.separable_conv2d(call.x, call.dw, call.pw, call.strides, call.padding, **kw)
    if call.bias is not None:
        y = tf.nn.bias_add(y, call.bias, data_format=call.data_format)
    return y.numpy()


def run_sepconv_call(call):
    kw = dict(data_format=call.data_format, dilations=call.dilations, bias=call.bias)
    if call.op == "depthwise":
        return sepconv.depthwise_conv2d(call.x, call.dw, call.strides, call.padding, **kw)
    return sepconv.separable_conv2d(call.x, call.dw, call.pw, call.strides, call.padding, **kw)


def outcome(run, call):
    try:
        return run(call)
    except Exception as e:  # noqa: BLE001 (TF raises many types)
        return e


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_errors_raise_where_tensorflow_raises(mutation):
    rng = np.random.default_rng([SEED, len(mutation), ord(mutation[0])])
    for i in range(max(2, COUNT // 20)):
        op = ["depthwise", "separable"][i % 2]
        if mutation.startswith("pointwise") and op == "depthwise":
            continue
        case = cases.random_case(rng, op)
        case = dataclasses.replace(case, data_format="NHWC", x=np.ascontiguousarray(case.x_nhwc()),
                                   strides=(case.strides[0],) * 2, activation=None)
        call = call_of(case)
        MUTATIONS[mutation](call)
        theirs, ours = outcome(run_tf_call, call), outcome(run_sepconv_call, call)
        if isinstance(theirs, Exception):
            assert isinstance(ours, ValueError), f"{mutation} #{i}: TF raised {theirs!r}, sepconv gave {ours!r}"
        else:
            assert not isinstance(ours, Exception), f"{mutation} #{i}: TF ran, sepconv raised {ours!r}: {call}"
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4 * (1 + np.abs(theirs).max(initial=0)))


# -- where sepconv deliberately differs from TensorFlow ---------------------------

X = np.ones((1, 4, 4, 2), np.float32)
DW = np.ones((3, 3, 2, 1), np.float32)


@pytest.mark.parametrize("name, call", [
    # spec (stricter): TF silently computes something here; Keras 2 raised.
    ("stride with dilation", lambda f: f(X, DW, [1, 2, 2, 1], "VALID", dilations=[2, 1])),
    # spec: VALID with input smaller than the dilated filter is an error; TF
    # returns an empty tensor when the floor division gives 0.
    ("empty VALID output", lambda f: f(X[:, :2], DW, [1, 2, 2, 1], "VALID")),
    # spec: zero dims of filters and channels are errors; TF returns empty
    # (or even non-empty) tensors.
    ("zero multiplier", lambda f: f(X, DW[..., :0], [1, 1, 1, 1], "SAME")),
    ("zero-height filter", lambda f: f(X, DW[:0], [1, 1, 1, 1], "VALID")),
    ("zero-height input", lambda f: f(X[:, :0], DW, [1, 1, 1, 1], "SAME")),
    # tf.nn's dilated path drops batch/depth explicit padding unchecked; its
    # undilated kernel rejects it, as sepconv always does.
    ("batch padding when dilated", lambda f: f(X, DW, [1, 1, 1, 1], [[1, 0], [1, 1], [1, 1], [0, 0]],
                                                dilations=[2, 1])),
    # tf.nn ignores dilations of any length when all are 1; sepconv takes [r_h, r_w].
    ("dilations [1, 1, 1]", lambda f: f(X, DW, [1, 1, 1, 1], "SAME", dilations=[1, 1, 1])),
])
def test_stricter_than_tensorflow(name, call):
    call(tf.nn.depthwise_conv2d)  # TensorFlow runs it ...
    with pytest.raises(ValueError):  # ... sepconv refuses it, naming the problem
        call(sepconv.depthwise_conv2d)


@pytest.mark.parametrize("op", ["depthwise_conv2d", "separable_conv2d"])
def test_dilations_of_length_3_are_refused(op):
    # tf.nn reads dilations [2, 1, 1] as rates over height, width and channels
    # (and runs where the channel count allows); sepconv takes [r_h, r_w] only.
    x, dw, pw = np.ones((1, 4, 4, 1), np.float32), np.ones((3, 3, 1, 1), np.float32), np.ones((1, 1, 1, 2), np.float32)
    filters = (dw,) if op == "depthwise_conv2d" else (dw, pw)
    getattr(tf.nn, op)(x, *filters, [1, 1, 1, 1], "SAME", dilations=[2, 1, 1])
    with pytest.raises(ValueError, match="dilations must have 2 elements"):
        getattr(sepconv, op)(x, *filters, [1, 1, 1, 1], "SAME", dilations=[2, 1, 1])


def test_padding_names_in_any_case():
    # TensorFlow's attribute takes only "SAME"/"VALID"; sepconv any case (as Keras).
    with pytest.raises(Exception):
        tf.nn.depthwise_conv2d(X, DW, [1, 1, 1, 1], "same")
    expected = tf.nn.depthwise_conv2d(X, DW, [1, 1, 1, 1], "SAME").numpy()
    np.testing.assert_array_equal(sepconv.depthwise_conv2d(X, DW, [1, 1, 1, 1], "same"), expected)


# -- the Keras layer ------------------------------------------------------------------


def random_layer_config(rng):
    k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    s, r = int(rng.integers(1, 4)), (1, 1)
    if rng.random() < 0.4:
        s, r = 1, (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    return dict(filters=int(rng.integers(1, 7)), kernel_size=k if rng.random() < 0.5 else k[0],
                strides=s if rng.random() < 0.5 else (s, s), padding=str(rng.choice(["valid", "same", "SAME"])),
                data_format=str(rng.choice(["channels_last", "channels_first"])), dilation_rate=r,
                depth_multiplier=int(rng.integers(1, 4)),
                activation=[None, "relu", "relu6", "linear", "leaky_relu"][int(rng.integers(0, 5))],
                use_bias=bool(rng.random() < 0.7))


def keras_result(keras_layer, config, x):
    """The Keras layer's output for x. A channels_first layer is checked through
    the channels_last layer with the same weights on the transposed input:
    Keras 3's ops.add takes the bias of a channels_first output whose width
    equals `filters` for an NHWC bias and adds it along the width."""
    if config["data_format"] == "channels_last":
        return np.asarray(keras_layer(x))
    channels_last = keras.layers.SeparableConv2D(**dict(config, data_format="channels_last"))
    channels_last.build(x.transpose(0, 2, 3, 1).shape)
    channels_last.set_weights(keras_layer.get_weights())
    return np.asarray(channels_last(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)


def test_keras_layer_random_configs():
    rng = np.random.default_rng([SEED, 99])
    for i in range(COUNT):
        config = random_layer_config(rng)
        keras_layer = keras.layers.SeparableConv2D(**config)
        kh, kw = keras_layer.kernel_size
        r = keras_layer.dilation_rate
        h, w = (max(int(rng.integers(1, 13)), (kk - 1) * rr + 1) for kk, rr in zip((kh, kw), r))
        c = int(rng.integers(1, 5))
        shape = (int(rng.integers(1, 3)), h, w, c) if config["data_format"] == "channels_last" else \
            (int(rng.integers(1, 3)), c, h, w)
        keras_layer.build(shape)
        keras_layer.set_weights([rng.standard_normal(v.shape).astype(np.float32) for v in keras_layer.get_weights()])
        x = rng.standard_normal(shape).astype(np.float32)
        expected = keras_result(keras_layer, config, x)
        layer = SeparableConv2D.from_keras(keras_layer)
        y = layer(x)
        assert y.shape == expected.shape, f"layer case {i}: {config}"
        assert layer.compute_output_shape((None, *shape[1:])) == tuple(keras_layer.compute_output_shape(
            (None, *shape[1:]))), f"layer case {i}: {config}"
        scale = 1 + np.abs(expected).max(initial=0)
        err = np.abs(y - expected).max(initial=0)
        assert err <= 2e-5 * scale * np.sqrt(kh * kw * c * config["depth_multiplier"]), \
            f"layer case {i}: error {err}: {config}"


@pytest.mark.parametrize("kwargs", [
    dict(padding="causal"), dict(padding="full"), dict(kernel_size=0), dict(kernel_size=(3, 3, 3)),
    dict(strides=0), dict(strides=(1, 2, 1)), dict(dilation_rate=(0, 1)), dict(filters=0), dict(depth_multiplier=0),
    dict(data_format="NHWC"), dict(kernel_size=(3, "a")),
])
def test_keras_constructor_errors(kwargs):
    args = dict(filters=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(Exception):
        keras.layers.SeparableConv2D(**args)
    with pytest.raises(ValueError):
        SeparableConv2D(**args)


def test_keras_stride_with_dilation_is_stricter():
    # Keras 3 decomposes strides > 1 with dilation_rate > 1; the spec keeps
    # Keras 2's error.
    keras.layers.SeparableConv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction with `dilation_rate > 1`"):
        SeparableConv2D(4, 3, strides=2, dilation_rate=2)


def test_copy_is_independent_of_the_keras_layer():
    keras_layer = keras.layers.SeparableConv2D(3, 3, padding="same", activation="relu")
    keras_layer.build((1, 5, 5, 2))
    layer = SeparableConv2D.from_keras(keras_layer)
    before = copy.deepcopy(layer.get_weights())
    keras_layer.set_weights([w + 1 for w in keras_layer.get_weights()])
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
