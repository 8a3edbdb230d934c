"""Seeded random cases for every operation and option, shared by the numpy
reference test (test_random.py) and the TensorFlow test (test_tensorflow.py)."""
import dataclasses

import numpy as np

import reference
import sepconv

ACTIVATIONS = {  # name -> (min, max, leaky_alpha) for the reference
    None: None,
    "relu": (0.0, np.inf, 1.0),
    "relu6": (0.0, 6.0, 1.0),
    "relu_n1_to_1": (-1.0, 1.0, 1.0),
    "clamp": (-0.5, 0.75, 1.0),
    "leaky_relu": (-np.inf, np.inf, 0.25),
}


def activation_object(name):
    if name == "clamp":
        return sepconv.Activation.clamp(-0.5, 0.75)
    if name == "leaky_relu":
        return sepconv.Activation.leaky_relu(0.25)
    return name


@dataclasses.dataclass
class Case:
    op: str  # depthwise, pointwise, separable
    x: np.ndarray  # in data_format
    dw: np.ndarray  # [kh, kw, C, M] (depthwise, separable)
    pw: np.ndarray  # [1, 1, C*M, O] (pointwise, separable)
    bias: np.ndarray  # or None
    strides: tuple  # (s_h, s_w)
    dilations: tuple  # (r_h, r_w)
    padding: object  # "SAME", "VALID" or ((top, bottom), (left, right))
    data_format: str
    activation: str

    # tf.nn's forms of the arguments
    def tf_strides(self):
        return [1, *self.strides, 1] if self.data_format == "NHWC" else [1, 1, *self.strides]

    def tf_padding(self):
        if isinstance(self.padding, str):
            return self.padding
        h, w = [list(p) for p in self.padding]
        return [[0, 0], h, w, [0, 0]] if self.data_format == "NHWC" else [[0, 0], [0, 0], h, w]

    def x_nhwc(self):
        return self.x if self.data_format == "NHWC" else self.x.transpose(0, 2, 3, 1)

    def to_format(self, y_nhwc):
        return y_nhwc if self.data_format == "NHWC" else y_nhwc.transpose(0, 3, 1, 2)

    def reduction(self):
        kh, kw, _, _ = self.dw.shape if self.dw is not None else (1, 1, 1, 1)
        return kh * kw * (self.pw.shape[2] if self.pw is not None else 1)

    def run(self):
        """sepconv's result."""
        kw = dict(bias=self.bias, activation=activation_object(self.activation))
        if self.op == "depthwise":
            return sepconv.depthwise_conv2d(self.x, self.dw, self.tf_strides(), self.tf_padding(), self.data_format,
                                            list(self.dilations), **kw)
        if self.op == "pointwise":
            return sepconv.pointwise_conv2d(self.x, self.pw, self.data_format, **kw)
        return sepconv.separable_conv2d(self.x, self.dw, self.pw, self.tf_strides(), self.tf_padding(),
                                        self.data_format, list(self.dilations), **kw)

    def reference(self):
        """The float64 reference, in data_format."""
        y = self.x_nhwc()
        if self.op != "pointwise":
            y = reference.depthwise_nhwc(y, self.dw, self.strides, self.dilations, self.padding)
        if self.op != "depthwise":
            y = reference.pointwise_nhwc(y, self.pw)
        if self.bias is not None:
            y = y + self.bias
        return self.to_format(reference.activate(y, ACTIVATIONS[self.activation]))


def random_case(rng, op):
    """A valid case: sizes 1..12, kernels 1..7, strides 1..3 (h and w apart),
    dilations 1..3 (strides 1), multipliers 1..3, every padding form, both
    layouts, bias or not, every activation."""
    data_format = str(rng.choice(["NHWC", "NCHW"]))
    n, c, m, o = int(rng.integers(1, 3)), int(rng.integers(1, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 7))
    kh, kw = (int(v) for v in rng.integers(1, 6, 2)) if op != "pointwise" else (1, 1)
    if op == "pointwise" or rng.random() < 0.6:
        strides, dilations = tuple(int(v) for v in rng.integers(1, 4, 2)), (1, 1)
    else:
        strides, dilations = (1, 1), tuple(int(v) for v in rng.integers(1, 4, 2))
    if op == "pointwise":
        strides, m = (1, 1), 1
    eff = [(k - 1) * r + 1 for k, r in zip((kh, kw), dilations)]
    kind = rng.choice(["SAME", "VALID", "EXPLICIT"]) if op != "pointwise" else "VALID"
    if kind == "EXPLICIT":
        padding = tuple((int(a), int(b)) for a, b in rng.integers(0, 4, (2, 2)))
    else:
        padding = str(kind)
    # Sizes for which the padded input holds the dilated filter at least once.
    pads = [sum(p) for p in padding] if kind == "EXPLICIT" else [0, 0]
    h, w = (max(int(rng.integers(1, 13)), e - (p if kind != "SAME" else e)) for e, p in zip(eff, pads))
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    dw = rng.standard_normal((kh, kw, c, m)).astype(np.float32) if op != "pointwise" else None
    out_c = c * m if op == "depthwise" else o
    pw = rng.standard_normal((1, 1, c * m, o)).astype(np.float32) if op != "depthwise" else None
    bias = rng.standard_normal(out_c).astype(np.float32) if rng.random() < 0.5 else None
    activation = list(ACTIVATIONS)[int(rng.integers(0, len(ACTIVATIONS)))]
    return Case(op, x, dw, pw, bias, strides, dilations, padding, data_format, activation)
