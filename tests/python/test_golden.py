"""The golden vectors of shared/spec/semantics.md through the Python API."""
import numpy as np

import reference
import sepconv

ONES = [1, 1, 1, 1]


def iota(n, scale=1.0):
    return np.arange(1, n + 1, dtype=np.float32) * np.float32(scale)


def test_depthwise_doc_example_valid():
    x, f = iota(6).reshape(1, 3, 2, 1), np.array([1, 2, 3, 4], np.float32).reshape(2, 1, 1, 2)
    y = sepconv.depthwise_conv2d(x, f, strides=ONES, padding="VALID")
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, [[[[10, 14], [14, 20]], [[18, 26], [22, 32]]]])


def test_depthwise_doc_example_explicit_padding():
    x, f = iota(6).reshape(1, 3, 2, 1), np.array([1, 2, 3, 4], np.float32).reshape(2, 1, 1, 2)
    y = sepconv.depthwise_conv2d(x, f, ONES, [[0, 0], [1, 0], [1, 0], [0, 0]])
    np.testing.assert_array_equal(
        y, [[[[0, 0], [3, 4], [6, 8]], [[0, 0], [10, 14], [14, 20]], [[0, 0], [18, 26], [22, 32]]]])


def test_depthwise_two_channels_multiplier_two():
    y = sepconv.depthwise_conv2d(iota(12).reshape(1, 2, 3, 2), iota(16).reshape(2, 2, 2, 2), ONES, "VALID")
    assert y.shape == (1, 1, 2, 4)
    np.testing.assert_array_equal(y.ravel(), [196, 216, 272, 296, 252, 280, 344, 376])


def test_separable_same():
    x, dw, pw = iota(32, 0.5).reshape(1, 4, 4, 2), iota(24, 0.5).reshape(2, 2, 2, 3), iota(42, 0.5).reshape(1, 1, 6, 7)
    y = sepconv.separable_conv2d(x, dw, pw, ONES, "SAME")
    assert y.shape == (1, 4, 4, 7)
    np.testing.assert_array_equal(y.ravel()[:9], [6644.5, 6971.5, 7298.5, 7625.5, 7952.5, 8279.5, 8606.5, 8154.5,
                                                  8556.5])
    np.testing.assert_array_equal(y.ravel()[-7:], [2036.25, 2119.5, 2202.75, 2286, 2369.25, 2452.5, 2535.75])
    ref = reference.pointwise_nhwc(reference.depthwise_nhwc(x, dw, (1, 1), (1, 1), "SAME"), pw)
    assert np.abs(y - ref).max() <= reference.tolerance(ref, 2 * 2 * 6)


def test_depthwise_same_stride_2():
    y = sepconv.depthwise_conv2d(iota(16).reshape(1, 4, 4, 1), np.ones((3, 3, 1, 1), np.float32), [1, 2, 2, 1], "SAME")
    np.testing.assert_array_equal(y.ravel(), [54, 45, 72, 54])


def test_shapes_only():
    assert sepconv.infer_output_shape("depthwise", [4, 147, 147, 2], [3, 3, 2, 8], strides=[1, 3, 3, 1]) == [4, 49, 49,
                                                                                                          16]
    assert sepconv.infer_output_shape("depthwise", [5, 41, 35, 2], [4, 7, 2, 2], dilations=[3, 2]) == [5, 32, 23, 4]
    assert sepconv.infer_output_shape("depthwise", [4, 1, 1, 3], [3, 3, 3, 2],
                                      padding=[[0, 0], [10, 20], [15, 25], [0, 0]]) == [4, 29, 39, 6]
