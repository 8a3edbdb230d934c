"""How arrays cross into the kernels: zero-copy, buffer protocol, DLPack, the
GIL released, output allocation."""
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import reference
import sepconv

ONES = [1, 1, 1, 1]


def test_inputs_are_not_copied():
    # numpy reports its allocations to tracemalloc: a copy of the 16 MiB input
    # (or of the filters) would show up in the peak.
    x = np.ones((1, 256, 256, 64), np.float32)
    dw = np.ones((3, 3, 64, 1), np.float32)
    pw = np.ones((1, 1, 64, 64), np.float32)
    out = np.empty((1, 256, 256, 64), np.float32)
    sepconv.separable_conv2d(x, dw, pw, ONES, "SAME", out=out)  # warm up
    tracemalloc.start()
    try:
        y = sepconv.separable_conv2d(x, dw, pw, ONES, "SAME", out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert y is out
    assert peak < x.nbytes // 16, f"{peak} bytes allocated during the call"


def test_output_is_a_new_float32_array_or_out():
    x, f = np.ones((2, 4, 4, 3), np.float32), np.ones((1, 1, 3, 2), np.float32)
    y = sepconv.depthwise_conv2d(x, f, ONES, "VALID")
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (2, 4, 4, 6) and y.flags.c_contiguous
    out = np.empty_like(y)
    assert sepconv.depthwise_conv2d(x, f, ONES, "VALID", out=out) is out
    np.testing.assert_array_equal(out, y)


def test_outputs_and_empty_start_at_64_bytes():
    # numpy.empty's large arrays start 16 bytes into a cache line; sepconv's
    # outputs and sepconv.empty start on one (the AVX-512 kernels' alignment).
    for shape in [(1, 56, 56, 128), (2, 3, 5, 7), (1, 1, 1, 1), (0, 4, 4, 8)]:
        a = sepconv.empty(shape)
        assert a.shape == shape and a.dtype == np.float32 and a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % 64 == 0, (shape, a.ctypes.data % 64)  # no data: no address
    x = sepconv.empty((1, 56, 56, 128))
    x[...] = 1.0
    y = sepconv.depthwise_conv2d(x, np.ones((3, 3, 128, 1), np.float32), ONES, "SAME")
    assert y.ctypes.data % 64 == 0
    assert y[0, 1, 1, 0] == 9.0 and y[0, 0, 0, 0] == 4.0


def test_strided_activations_are_viewed_in_place():
    # A crop of a larger NHWC image: rows and columns are strided, channels dense.
    rng = np.random.default_rng(1)
    image = rng.standard_normal((2, 20, 20, 3)).astype(np.float32)
    crop = image[:, 3:15, 5:17, :]
    assert not crop.flags.c_contiguous
    f = rng.standard_normal((3, 3, 3, 2)).astype(np.float32)
    out = np.empty((2, 12, 24, 6), np.float32)[:, :, ::2, :]  # a strided output too
    y = sepconv.depthwise_conv2d(crop, f, ONES, "SAME", out=out)
    ref = reference.depthwise_nhwc(crop, f, (1, 1), (1, 1), "SAME")
    assert np.abs(y - ref).max() <= reference.tolerance(ref, 9)


def test_read_only_inputs():
    x = np.ones((1, 3, 3, 1), np.float32)
    x.flags.writeable = False
    assert sepconv.depthwise_conv2d(x, np.ones((3, 3, 1, 1), np.float32), ONES, "VALID").item() == 9.0


def test_buffer_protocol_objects():
    x = memoryview(np.arange(1, 7, dtype=np.float32).tobytes()).cast("f", (1, 3, 2, 1))
    f = memoryview(np.array([1, 2, 3, 4], np.float32).tobytes()).cast("f", (2, 1, 1, 2))
    y = sepconv.depthwise_conv2d(x, f, ONES, "VALID")
    np.testing.assert_array_equal(y.ravel(), [10, 14, 14, 20, 18, 26, 22, 32])


class DLPackOnly:
    """An object that offers its memory only through DLPack."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, **kwargs):
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


def test_dlpack_objects():
    x = DLPackOnly(np.arange(1, 7, dtype=np.float32).reshape(1, 3, 2, 1))
    f = DLPackOnly(np.array([1, 2, 3, 4], np.float32).reshape(2, 1, 1, 2))
    y = sepconv.depthwise_conv2d(x, f, ONES, "VALID")
    np.testing.assert_array_equal(y.ravel(), [10, 14, 14, 20, 18, 26, 22, 32])


def test_nested_lists_are_converted():
    y = sepconv.depthwise_conv2d([[[[1.0], [2.0]], [[3.0], [4.0]]]], [[[[1.0]]], [[[1.0]]]], ONES, "VALID")
    np.testing.assert_array_equal(y.ravel(), [4, 6])


def test_empty_batch():
    y = sepconv.separable_conv2d(np.ones((0, 5, 5, 2), np.float32), np.ones((3, 3, 2, 1), np.float32),
                                 np.ones((1, 1, 2, 4), np.float32), ONES, "SAME")
    assert y.shape == (0, 5, 5, 4)


def test_the_gil_is_released_while_a_kernel_runs():
    x = np.ones((8, 128, 128, 64), np.float32)
    dw, pw = np.ones((5, 5, 64, 1), np.float32), np.ones((1, 1, 64, 64), np.float32)
    out = np.empty((8, 128, 128, 64), np.float32)
    span = []

    def run():
        start = time.perf_counter()
        sepconv.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "SAME", out=out)
        span.extend([start, time.perf_counter()])

    # With a long switch interval the worker keeps the GIL from its first
    # timestamp to its second unless the kernel lets it go; this thread
    # yields it at every step (sleep(0)) so the worker is never kept waiting.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(2.0)
    try:
        worker = threading.Thread(target=run)
        stamps = []
        worker.start()
        while worker.is_alive():
            stamps.append(time.perf_counter())
            time.sleep(0)
        worker.join()
    finally:
        sys.setswitchinterval(interval)
    start, end = span
    inside = sum(start < t < end for t in stamps)
    assert inside >= 10, f"{inside} iterations here during the {1e3 * (end - start):.1f} ms kernel"


@pytest.mark.parametrize("name", ["relu", "relu6", "relu_n1_to_1", "linear", None])
def test_activation_names(name):
    x = np.linspace(-10, 10, 2 * 3 * 3 * 2, dtype=np.float32).reshape(2, 3, 3, 2)
    y = sepconv.depthwise_conv2d(x, np.ones((1, 1, 2, 1), np.float32), ONES, "VALID", activation=name)
    bounds = {"relu": (0, np.inf), "relu6": (0, 6), "relu_n1_to_1": (-1, 1)}.get(name, (-np.inf, np.inf))
    np.testing.assert_array_equal(y, np.clip(x, *bounds))


def test_activation_objects():
    x = np.linspace(-10, 10, 18, dtype=np.float32).reshape(1, 3, 3, 2)
    f = np.ones((1, 1, 2, 1), np.float32)
    y = sepconv.depthwise_conv2d(x, f, ONES, "VALID", activation=sepconv.Activation.leaky_relu(0.1))
    np.testing.assert_allclose(y, np.where(x < 0, x * np.float32(0.1), x), rtol=1e-6)
    y = sepconv.depthwise_conv2d(x, f, ONES, "VALID", activation=sepconv.Activation.clamp(-2, 3))
    np.testing.assert_array_equal(y, np.clip(x, -2, 3))


def test_kernel_queries():
    kernels = sepconv.aot_kernels()
    assert "sepconv_f32_pwconv_nhwc" in kernels
    sepconv.pointwise_conv2d(np.ones((1, 2, 2, 3), np.float32), np.ones((1, 1, 3, 4), np.float32))
    assert sepconv.last_kernel() == "sepconv_f32_pwconv_nhwc"


def test_concurrent_calls_from_threads():
    rng = np.random.default_rng(3)
    jobs = [(rng.standard_normal((2, 24, 24, 8)).astype(np.float32),
             rng.standard_normal((3, 3, 8, 2)).astype(np.float32),
             rng.standard_normal((1, 1, 16, 12)).astype(np.float32)) for _ in range(8)]
    expected = [sepconv.separable_conv2d(x, dw, pw, ONES, "SAME") for x, dw, pw in jobs]
    results = [None] * len(jobs)

    def run(i):
        for _ in range(5):
            results[i] = sepconv.separable_conv2d(*jobs[i], ONES, "SAME")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("out_c", [64, 24])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_packed_pointwise_filter(out_c, data_format):
    # Packed once, its own copy: the result equals the reference after the
    # array changes; 64 output channels are whole 16-channel blocks (the
    # packed kernels), 24 are not (kept in TF's layout).
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 5, 32), dtype=np.float32)
    pw = rng.standard_normal((1, 1, 32, out_c), dtype=np.float32)
    bias = rng.standard_normal(out_c, dtype=np.float32)
    packed = sepconv.PackedPointwiseFilter(pw)
    assert packed.shape == [1, 1, 32, out_c] and packed.packed == (out_c % 16 == 0)
    ref = reference.pointwise_nhwc(x.astype(np.float64), pw.astype(np.float64)) + bias
    pw[:] = 0
    x_in = x if data_format == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    y = sepconv.pointwise_conv2d(x_in, packed, data_format, bias=bias)
    if data_format == "NCHW":
        y = y.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)
    assert ("packed" in sepconv.last_kernel()) == (out_c % 16 == 0)


@pytest.mark.parametrize("out_c", [32, 40])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_packed_pointwise_filter_in_separable_conv2d(out_c, data_format):
    # The fused separable on the packed filter: 32 output channels run the
    # packed kernels, 40 (not whole 16-channel blocks) TF's.
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 9, 8, 24), dtype=np.float32)
    dw = rng.standard_normal((3, 3, 24, 1), dtype=np.float32)
    pw = rng.standard_normal((1, 1, 24, out_c), dtype=np.float32)
    packed = sepconv.PackedPointwiseFilter(pw)
    mid = reference.depthwise_nhwc(x.astype(np.float64), dw.astype(np.float64), [2, 2], [1, 1], "SAME")
    ref = reference.pointwise_nhwc(mid, pw.astype(np.float64))
    pw[:] = 0
    x_in = x if data_format == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    strides = [1, 2, 2, 1] if data_format == "NHWC" else [1, 1, 2, 2]
    y = sepconv.separable_conv2d(x_in, dw, packed, strides, "SAME", data_format)
    if data_format == "NCHW":
        y = y.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-4)
    assert ("packed" in sepconv.last_kernel()) == (out_c % 16 == 0)


def test_thread_count():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 23, 19, 16), np.float32)
    dw = rng.standard_normal((3, 3, 16, 1), np.float32)
    pw = rng.standard_normal((1, 1, 16, 32), np.float32)
    outputs = []
    for n in (1, 2):
        sepconv.set_num_threads(n)
        assert sepconv.num_threads() == n
        outputs.append(sepconv.separable_conv2d(x, dw, pw, ONES, "SAME"))
    np.testing.assert_array_equal(outputs[0], outputs[1])  # the tiles do not depend on the threads
    with pytest.raises(ValueError, match="threads must be at least 1, got 0"):
        sepconv.set_num_threads(0)
