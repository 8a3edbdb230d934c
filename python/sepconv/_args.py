"""tf.nn's argument forms, read into what the C++ runtime takes.

Every malformed argument raises ValueError naming it; the runtime checks the
values themselves (ranges, batch/channel entries, combinations).
"""
import operator

import numpy as np

from . import _sepconv


def int_list(value, name, length=None):
    """A sequence of Python/numpy ints as a list (no floats, no strings)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise ValueError(f"{name} must be a list of {length or 'N'} ints, got {value!r}")
    try:
        values = [operator.index(v) for v in value]
    except TypeError:
        raise ValueError(f"{name} must be a list of ints, got {value!r}") from None
    if length is not None and len(values) != length:
        raise ValueError(f"{name} must have {length} elements, got {len(values)}: {values}")
    return values


def padding_arg(padding):
    """'SAME' / 'VALID' (a string), or explicit [before, after] pairs, one per dimension."""
    if isinstance(padding, str):
        return padding
    if isinstance(padding, bytes):
        return padding.decode()
    if isinstance(padding, (list, tuple, np.ndarray)):
        pairs = []
        for i, pair in enumerate(padding):
            if not hasattr(pair, "__len__") or isinstance(pair, (str, bytes)) or len(pair) != 2:
                raise ValueError("When `padding` is a list, each element of `padding` must be a list/tuple of "
                                 f"size 2. Received: padding={padding!r} with element at index {i}: {pair!r}")
            pairs.append(int_list(pair, f"padding[{i}]", 2))
        return pairs
    raise ValueError("padding must be 'SAME', 'VALID' or a list of 4 [before, after] pairs, "
                     f"got {padding!r}")


def activation_arg(activation):
    """None, a name ('relu', 'relu6', 'relu_n1_to_1', 'linear', 'none') or an Activation."""
    if activation is None:
        return _sepconv.Activation.none()
    if isinstance(activation, _sepconv.Activation):
        return activation
    if isinstance(activation, str):
        return _sepconv.Activation.parse(activation)
    raise ValueError("activation must be None, a name ('relu', 'relu6', 'relu_n1_to_1', 'linear') or a "
                     f"sepconv.Activation, got {activation!r}")


def options(strides, padding, data_format, dilations, activation):
    """Conv2DOptions from tf.nn's arguments: strides has 4 entries in data_format's
    order, dilations 2 ([rate_h, rate_w]) or None."""
    if data_format is None:
        data_format = "NHWC"
    if not isinstance(data_format, str):
        raise ValueError(f"data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    strides = int_list(strides, "strides")
    dilations = [1, 1] if dilations is None else int_list(dilations, "dilations", 2)
    return _sepconv.make_options(strides, padding_arg(padding), dilations, data_format,
                                 activation_arg(activation))


def array_arg(value, name):
    """An array for the kernels, never copied: numpy arrays and objects with the
    buffer protocol or DLPack pass as they are (the extension checks float32,
    CPU memory and layout); anything else (nested lists, scalars) is converted
    to a new float32 array, as tf.convert_to_tensor would."""
    if value is None:
        raise ValueError(f"{name} must be an array, got None")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSUV":  # no DLPack / buffer export for these
            raise ValueError(f"{name} must be float32, got {value.dtype} (sepconv does not convert arrays; use "
                             f"numpy.asarray({name}, numpy.float32))")
        return value
    if hasattr(value, "__dlpack__"):
        return value
    try:
        memoryview(value)
        return value
    except TypeError:
        pass
    try:
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a float32 array, got {type(value).__name__}: {e}") from None


# A cache line, and an AVX-512 vector (sepconv/aligned.h's kTensorAlignment).
TENSOR_ALIGNMENT = 64


def empty(shape):
    """A new, uninitialized C-contiguous float32 array of `shape` whose data
    starts at a 64-byte boundary: the alignment the kernels read fastest, at
    which TF and PyTorch allocate tensors. numpy.empty's large arrays start 16
    bytes into a cache line, which splits every AVX-512 load and store of an
    NHWC channel vector (the depthwise took 1.2-1.9x the time). sepconv's
    own outputs are allocated this way; use it for inputs too."""
    shape = tuple(int(d) for d in shape)
    count = int(np.prod(shape, dtype=np.int64))
    lanes = TENSOR_ALIGNMENT // 4
    raw = np.empty(count + lanes, dtype=np.float32)
    start = (-raw.ctypes.data % TENSOR_ALIGNMENT) // 4
    return raw[start:start + count].reshape(shape)


def output_arg(out, shape):
    """A new float32 array of `shape` (64-byte aligned: empty), or the caller's
    `out` when it fits."""
    if out is None:
        return empty(shape)
    if not isinstance(out, np.ndarray):
        raise ValueError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != np.float32:
        raise ValueError(f"out must be float32, got {out.dtype}")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out must have shape {list(shape)}, got {list(out.shape)}")
    return out


def shape_of(array):
    shape = getattr(array, "shape", None)
    if shape is None:
        shape = _sepconv.shape_of(array)
    return [int(d) for d in shape]
