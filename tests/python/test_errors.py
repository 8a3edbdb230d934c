"""Bad arguments raise ValueError with the runtime's message, and nothing is written."""
import numpy as np
import pytest

import sepconv

ONES = [1, 1, 1, 1]
X = np.ones((1, 5, 5, 2), np.float32)
DW = np.ones((3, 3, 2, 2), np.float32)
PW = np.ones((1, 1, 4, 3), np.float32)


CASES = [
    (lambda: sepconv.depthwise_conv2d(X[0], DW, ONES, "VALID"), "input must be 4-dimensional"),
    (lambda: sepconv.depthwise_conv2d(X, DW[0], ONES, "VALID"), "filter must be 4-dimensional"),
    (lambda: sepconv.depthwise_conv2d(X, DW[:, :, :1], ONES, "VALID"),
     "input and filter must have the same depth: 2 vs 1"),
    (lambda: sepconv.separable_conv2d(X, DW, PW[:, :, :3], ONES, "VALID"), "pointwise_filter must have shape"),
    (lambda: sepconv.separable_conv2d(X, DW, np.ones((2, 1, 4, 3), np.float32), ONES, "VALID"),
     "pointwise_filter must have shape"),
    (lambda: sepconv.separable_conv2d(X, DW, PW, ONES, "VALID", bias=np.ones(4, np.float32)),
     "bias must have 3 elements"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [1, 1, 1], "VALID"), "strides must have 4 elements"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [1, 0, 1, 1], "VALID"), "strides must all be >= 1"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [2, 1, 1, 1], "VALID"), "batch and depth dimensions"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [1, 1, 1, 2], "VALID"), "batch and depth dimensions"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [1, 1.5, 1, 1], "VALID"), "strides must be a list of ints"),
    (lambda: sepconv.depthwise_conv2d(X, DW, 1, "VALID"), "strides must be a list"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", dilations=[1, 1, 1, 1]), "dilations must have 2"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", dilations=[0, 1]), "dilations[h] must be in [1,"),
    (lambda: sepconv.depthwise_conv2d(X, DW, [1, 2, 2, 1], "VALID", dilations=[2, 2]),
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "causal"), "padding 'causal' is only supported for 1-D"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "FULL"), "padding must be 'SAME', 'VALID'"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "EXPLICIT"), "padding must be 'SAME', 'VALID'"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, [[0, 0], [1, 1], [0, 0]]), "explicit padding must have 4"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, [[0, 0], [1, 1], [1], [0, 0]]), "size 2"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, [[0, 0], [-1, 1], [0, 0], [0, 0]]), "must be nonnegative"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, [[1, 0], [1, 1], [0, 0], [0, 0]]),
     "Nonzero explicit padding in the batch or depth"),
    (lambda: sepconv.depthwise_conv2d(X, np.ones((7, 1, 2, 1), np.float32), ONES, "VALID"),
     "Computed output size would be negative"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", data_format="NWHC"), "data_format must be"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", activation="gelu"), "activation must be one of"),
    (lambda: sepconv.depthwise_conv2d(X.astype(np.float64), DW, ONES, "VALID"), "input must be float32, got float64"),
    (lambda: sepconv.depthwise_conv2d(X, DW.astype(np.int32), ONES, "VALID"), "filter must be float32, got int32"),
    (lambda: sepconv.depthwise_conv2d(X, np.asfortranarray(DW), ONES, "VALID"), "filter must be dense row-major"),
    (lambda: sepconv.depthwise_conv2d(X.astype(object), DW, ONES, "VALID"), "input must be float32, got object"),
    (lambda: sepconv.depthwise_conv2d(X[:, ::-1], DW, ONES, "VALID"), "input strides must be >= 0"),
    (lambda: sepconv.depthwise_conv2d(np.ones((1, 5, 5, 4), np.float32)[..., ::2], DW, ONES, "VALID"),
     "input innermost stride must be 1"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", out=np.zeros((1, 3, 3, 5), np.float32)),
     "out must have shape [1, 3, 3, 4]"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", out=np.zeros((1, 3, 3, 4))), "out must be float32"),
    (lambda: sepconv.depthwise_conv2d(X, DW, ONES, "VALID", out=X), "out must have shape"),
    (lambda: sepconv.depthwise_conv2d([[1.0]], DW, ONES, "VALID"), "input must be 4-dimensional"),
    (lambda: sepconv.depthwise_conv2d(None, DW, ONES, "VALID"), "input must be an array"),
    (lambda: sepconv.pointwise_conv2d(X, np.ones((1, 1, 3, 3), np.float32)), "pointwise_filter must have shape"),
]


@pytest.mark.parametrize("call, message", CASES, ids=[message for _, message in CASES])
def test_error(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_overlapping_output_is_refused_and_untouched():
    buffer = np.zeros(64, np.float32)
    x = buffer[:50].reshape(1, 5, 5, 2)
    out = buffer[14:64].reshape(1, 5, 5, 2)
    with pytest.raises(ValueError, match="must not overlap input"):
        sepconv.depthwise_conv2d(x, np.ones((1, 1, 2, 1), np.float32), ONES, "VALID", out=out)


def test_nothing_written_on_error():
    out = np.full((1, 3, 3, 4), 7.0, np.float32)
    with pytest.raises(ValueError):
        sepconv.separable_conv2d(X, DW, PW, ONES, "VALID", bias=np.ones(5, np.float32), out=np.full((1, 3, 3, 3), 7.0,
                                                                                                   np.float32))
    with pytest.raises(ValueError):
        sepconv.depthwise_conv2d(X, DW, ONES, "VALID", bias=np.ones(3, np.float32), out=out)
    assert (out == 7.0).all()
