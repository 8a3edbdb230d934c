"""An independent float64 reference in numpy for the tests: the formulas of
shared/spec/semantics.md, written directly (no sepconv code)."""
import math

import numpy as np


def spatial(size, kernel, stride, dilation, padding):
    """(output size, pad_before, pad_after) for one dimension; padding is
    'SAME', 'VALID' or a (before, after) pair."""
    effective = (kernel - 1) * dilation + 1
    if padding == "VALID":
        before = after = 0
        out = (size - effective + stride) // stride
    elif padding == "SAME":
        out = -(-size // stride)
        total = max(0, (out - 1) * stride + effective - size)
        before, after = total // 2, total - total // 2
    else:
        before, after = padding
        out = (size + before + after - effective) // stride + 1
    return out, before, after


def depthwise_nhwc(x, f, strides, dilations, padding):
    """x [N, H, W, C], f [kh, kw, C, M], strides/dilations (h, w), padding
    'SAME' / 'VALID' / ((top, bottom), (left, right)) -> [N, oh, ow, C*M] float64."""
    x, f = np.asarray(x, np.float64), np.asarray(f, np.float64)
    n, h, w, c = x.shape
    kh, kw, _, m = f.shape
    pads = (padding, padding) if isinstance(padding, str) else padding
    oh, top, bottom = spatial(h, kh, strides[0], dilations[0], pads[0])
    ow, left, right = spatial(w, kw, strides[1], dilations[1], pads[1])
    xp = np.pad(x, ((0, 0), (top, max(bottom, 0) + h), (left, max(right, 0) + w), (0, 0)))
    out = np.zeros((n, oh, ow, c, m))
    for i in range(kh):
        for j in range(kw):
            rows = xp[:, i * dilations[0]: i * dilations[0] + strides[0] * (oh - 1) + 1: strides[0]]
            taps = rows[:, :, j * dilations[1]: j * dilations[1] + strides[1] * (ow - 1) + 1: strides[1]]
            out += taps[..., None] * f[i, j]
    return out.reshape(n, oh, ow, c * m)


def pointwise_nhwc(x, pw):
    return np.einsum("nhwc,co->nhwo", np.asarray(x, np.float64), np.asarray(pw, np.float64)[0, 0])


def activate(y, activation):
    """activation: None or (min, max, leaky_alpha)."""
    if activation is None:
        return y
    lo, hi, alpha = activation
    return np.clip(np.where(y < 0, y * alpha, y), lo, hi)


def tolerance(ref, reduction):
    """The spec's float32 tolerance, scaled by sqrt(reduction length)."""
    return 1e-5 * (1 + np.abs(ref).max(initial=0)) * max(1.0, math.sqrt(reduction))
