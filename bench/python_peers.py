#!/usr/bin/env python3
"""The Python peers on the layers of shapes.csv: ONNX Runtime, PyTorch (CPU),
TensorFlow and TFLite (ai-edge-litert). Same operations, batch sizes and
thread count as sepconv_bench; warm-up, then the median of repetitions; every
output checked against a float64 numpy reference before it is timed (a wrong
result fails the run). Writes Google Benchmark-style JSON that
bench/report.py merges with sepconv_bench's.

    python_peers.py --threads 1 --out peers_t1.json [--suite mobilenet_v1,...] [--batches 1,8]

One thread count per process: TensorFlow fixes its thread pools at start-up.
The venv comes from scripts/bench.sh (bench/requirements.txt); a peer whose
package is missing is reported and skipped.
"""
import argparse
import csv
import json
import math
import os
import platform
import statistics
import sys
import time
import zlib

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SHAPES = os.path.join(HERE, "..", "..", "shared", "bench", "shapes.csv")


class Layer:
    def __init__(self, f):
        self.suite, self.name = f[0], f[1]
        (self.in_h, self.in_w, self.in_c, self.k_h, self.k_w, self.stride, self.dilation, self.multiplier,
         self.out_c) = map(int, f[2:11])
        self.same = f[11] == "SAME"
        self.mid_c = self.in_c * self.multiplier
        self.out_h, self.pad_top, self.pad_bottom = self._window(self.in_h, self.k_h)
        self.out_w, self.pad_left, self.pad_right = self._window(self.in_w, self.k_w)

    def _window(self, size, k):
        eff = (k - 1) * self.dilation + 1
        if not self.same:
            return (size - eff + self.stride) // self.stride, 0, 0
        out = (size + self.stride - 1) // self.stride
        total = max((out - 1) * self.stride + eff - size, 0)
        return out, total // 2, total - total // 2

    def flops(self, op, n):
        px = n * self.out_h * self.out_w
        dw, pw = 2.0 * px * self.mid_c * self.k_h * self.k_w, 2.0 * px * self.mid_c * self.out_c
        return {"dw": dw, "pw": pw, "sep": dw + pw}[op]

    def bytes(self, op, n):
        i, m, o = n * self.in_h * self.in_w * self.in_c, n * self.out_h * self.out_w * self.mid_c, n * self.out_h * self.out_w * self.out_c
        dww, pww = self.k_h * self.k_w * self.mid_c + self.mid_c, self.mid_c * self.out_c + self.out_c
        return 4.0 * {"dw": i + dww + m, "pw": m + pww + o, "sep": i + dww + pww + o}[op]


def read_layers(path):
    with open(path) as f:
        return [Layer(r) for r in csv.reader(f) if r and not r[0].startswith("#")]


# ---- data and the float64 reference (NHWC, TF's filter layouts) ----

def aligned(a):
    """`a` copied into memory at a 64-byte boundary, as sepconv_bench's data
    (bench/layers.h) and TF's and PyTorch's own tensors."""
    raw = np.empty(a.size + 16, np.float32)
    start = (-raw.ctypes.data % 64) // 4
    out = raw[start:start + a.size].reshape(a.shape)
    out[...] = a
    return out


def layer_data(l, n, seed=0):
    rng = np.random.default_rng(zlib.crc32(f"{l.suite}/{l.name}".encode()) + seed)
    u = lambda *s: aligned(rng.uniform(-1, 1, s).astype(np.float32))
    return {"x": u(n, l.in_h, l.in_w, l.in_c), "dw": u(l.k_h, l.k_w, l.in_c, l.multiplier), "dw_bias": u(l.mid_c),
            "mid": u(n, l.out_h, l.out_w, l.mid_c), "pw": u(1, 1, l.mid_c, l.out_c), "pw_bias": u(l.out_c)}


def ref_depthwise(l, x, dw, bias):
    x = np.pad(x.astype(np.float64), ((0, 0), (l.pad_top, l.pad_bottom), (l.pad_left, l.pad_right), (0, 0)))
    x = np.repeat(x, l.multiplier, axis=3)
    f = dw.reshape(l.k_h, l.k_w, l.mid_c).astype(np.float64)
    out = np.zeros((x.shape[0], l.out_h, l.out_w, l.mid_c))
    for ty in range(l.k_h):
        for tx in range(l.k_w):
            y0, x0 = ty * l.dilation, tx * l.dilation
            out += f[ty, tx] * x[:, y0:y0 + (l.out_h - 1) * l.stride + 1:l.stride, x0:x0 + (l.out_w - 1) * l.stride + 1:l.stride]
    return out + (bias if bias is not None else 0)


def ref_pointwise(l, mid, pw, bias):
    return np.einsum("nhwc,co->nhwo", mid.astype(np.float64), pw[0, 0].astype(np.float64)) + bias


def reference(l, op, d):
    if op == "dw":
        return ref_depthwise(l, d["x"], d["dw"], d["dw_bias"])
    if op == "pw":
        return ref_pointwise(l, d["mid"], d["pw"], d["pw_bias"])
    return ref_pointwise(l, ref_depthwise(l, d["x"], d["dw"], None), d["pw"], d["pw_bias"])


def check(l, op, out, ref):
    terms = (0 if op == "pw" else l.k_h * l.k_w) + (0 if op == "dw" else l.mid_c)
    tol = 1e-5 * (1 + np.abs(ref).max()) * math.sqrt(terms)
    err = np.abs(np.asarray(out, np.float64) - ref).max() if np.shape(out) == ref.shape else math.inf
    if not err <= tol:
        raise AssertionError(f"max error {err:.3g} > tolerance {tol:.3g}")


# ---- the peers: each returns a callable running the op (NHWC in, NHWC out) ----

def make_torch(l, op, d, threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    cl = torch.channels_last
    x = torch.from_numpy(d["x"]).permute(0, 3, 1, 2).contiguous(memory_format=cl)
    mid = torch.from_numpy(d["mid"]).permute(0, 3, 1, 2).contiguous(memory_format=cl)
    dw_w = torch.from_numpy(d["dw"]).permute(2, 3, 0, 1).reshape(l.mid_c, 1, l.k_h, l.k_w).contiguous(memory_format=cl)
    pw_w = torch.from_numpy(d["pw"][0, 0].T.copy()).reshape(l.out_c, l.mid_c, 1, 1).contiguous(memory_format=cl)
    dw_b, pw_b = torch.from_numpy(d["dw_bias"]), torch.from_numpy(d["pw_bias"])
    symmetric = l.pad_top == l.pad_bottom and l.pad_left == l.pad_right

    def dw(t, bias):
        if not symmetric:  # PyTorch pads symmetrically; TF's SAME with stride 2 is not
            t = F.pad(t, (l.pad_left, l.pad_right, l.pad_top, l.pad_bottom))
        pad = (l.pad_top, l.pad_left) if symmetric else 0
        return F.conv2d(t, dw_w, bias, l.stride, pad, l.dilation, l.in_c)

    fn = {"dw": lambda: dw(x, dw_b), "pw": lambda: F.conv2d(mid, pw_w, pw_b),
          "sep": lambda: F.conv2d(dw(x, None), pw_w, pw_b)}[op]

    def run():
        with torch.inference_mode():
            return fn().permute(0, 2, 3, 1).numpy()
    return run


def tf_function(l, op, d):
    import tensorflow as tf
    s = [1, l.stride, l.stride, 1]
    pad = "SAME" if l.same else "VALID"
    rate = [l.dilation, l.dilation]
    dw, pw, dwb, pwb = (tf.constant(d[k]) for k in ("dw", "pw", "dw_bias", "pw_bias"))
    if op == "dw":
        return lambda x: tf.nn.depthwise_conv2d(x, dw, s, pad, dilations=rate) + dwb
    if op == "pw":
        return lambda x: tf.nn.conv2d(x, pw, 1, "VALID") + pwb
    return lambda x: tf.nn.separable_conv2d(x, dw, pw, s, pad, dilations=rate) + pwb


def make_tensorflow(l, op, d, threads):
    import tensorflow as tf
    x = tf.constant(d["mid"] if op == "pw" else d["x"])
    f = tf.function(tf_function(l, op, d), jit_compile=False)
    return lambda: f(x).numpy()


def make_tflite(l, op, d, threads):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter
    x = d["mid"] if op == "pw" else d["x"]
    f = tf.function(tf_function(l, op, d), input_signature=[tf.TensorSpec(x.shape, tf.float32)])
    model = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f).convert()
    it = Interpreter(model_content=model, num_threads=threads)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    it.set_tensor(inp, x)

    def run():
        it.invoke()
        return it.get_tensor(out)
    return run


def make_onnxruntime(l, op, d, threads):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    dw_w = d["dw"].transpose(2, 3, 0, 1).reshape(l.mid_c, 1, l.k_h, l.k_w)
    pw_w = np.ascontiguousarray(d["pw"][0, 0].T).reshape(l.out_c, l.mid_c, 1, 1)
    # The tensors stay NHWC outside (as for the other peers): transposes in the graph.
    nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2]))
    cur = "x_nchw"
    if op in ("dw", "sep"):
        inits.append(numpy_helper.from_array(dw_w, "dw_w"))
        ins = ["x_nchw", "dw_w"]
        if op == "dw":
            inits.append(numpy_helper.from_array(d["dw_bias"], "dw_b"))
            ins.append("dw_b")
        nodes.append(helper.make_node("Conv", ins, ["mid"], group=l.in_c, kernel_shape=[l.k_h, l.k_w],
                                      strides=[l.stride] * 2, dilations=[l.dilation] * 2,
                                      pads=[l.pad_top, l.pad_left, l.pad_bottom, l.pad_right]))
        cur = "mid"
    if op in ("pw", "sep"):
        inits += [numpy_helper.from_array(pw_w, "pw_w"), numpy_helper.from_array(d["pw_bias"], "pw_b")]
        nodes.append(helper.make_node("Conv", [cur, "pw_w", "pw_b"], ["y_nchw"], kernel_shape=[1, 1]))
        cur = "y_nchw"
    nodes.append(helper.make_node("Transpose", [cur], ["y"], perm=[0, 2, 3, 1]))
    x = d["mid"] if op == "pw" else d["x"]
    graph = helper.make_graph(nodes, "layer", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return lambda: sess.run(None, {"x": x})[0]


PEERS = {"onnxruntime": make_onnxruntime, "torch": make_torch, "tensorflow": make_tensorflow, "tflite": make_tflite}


def time_us(run, repetitions, min_time):
    for _ in range(3):  # warm-up
        run()
    reps, cpu = [], []
    for _ in range(repetitions):
        count, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            run()
            count += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_time:
                break
        reps.append(elapsed / count * 1e6)
        cpu.append((time.process_time() - c0) / count * 1e6)
    return statistics.median(reps), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--shapes", default=DEFAULT_SHAPES)
    ap.add_argument("--suite", default="")
    ap.add_argument("--layer", default="")
    ap.add_argument("--ops", default="dw,pw,sep")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.1, help="seconds per repetition")
    a = ap.parse_args()
    if a.threads:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    try:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except ImportError:
        pass

    suites, layers_f = set(filter(None, a.suite.split(","))), set(filter(None, a.layer.split(",")))
    rows, failures, versions = [], 0, {}
    peers = [p for p in a.peers.split(",") if p]
    for l in read_layers(a.shapes):
        if (suites and l.suite not in suites) or (layers_f and l.name not in layers_f):
            continue
        for n in map(int, a.batches.split(",")):
            d = layer_data(l, n)
            for op in a.ops.split(","):
                if op != "dw" and l.out_c == 0:
                    continue
                ref = reference(l, op, d)
                for p in peers:
                    name = f"{op}/{l.suite}/{l.name}/batch:{n}/threads:{a.threads}/{p}"
                    row = {"name": name, "run_type": "iteration", "time_unit": "us"}
                    try:
                        run = PEERS[p](l, op, d, a.threads)
                        check(l, op, run(), ref)
                        t, cpu = time_us(run, a.repetitions, a.min_time)
                        row.update(real_time=t, cpu_time=cpu, iterations=a.repetitions)
                        row["GFLOP/s"] = l.flops(op, n) / t * 1e-3
                        row["GB/s"] = l.bytes(op, n) / t * 1e-3
                    except ImportError as e:
                        row.update(error_occurred=True, error_message=f"not installed: {e}")
                    except AssertionError as e:
                        failures += 1
                        row.update(error_occurred=True, error_message=f"wrong result: {e}")
                    except Exception as e:  # a peer that cannot run the shape
                        row.update(error_occurred=True, error_message=f"{type(e).__name__}: {e}"[:300])
                    rows.append(row)
                    print(f"{name}: " + (f"{row['real_time']:.1f} us" if "real_time" in row else row["error_message"]),
                          flush=True)
    for mod in ("onnxruntime", "torch", "tensorflow", "ai_edge_litert"):
        try:
            versions[mod] = getattr(__import__(mod), "__version__", "?")
        except ImportError:
            versions[mod] = "not installed"
    ctx = {"host_name": platform.node(), "python": sys.version.split()[0], "threads": a.threads,
           **{f"version_{k}": v for k, v in versions.items()}}
    with open(a.out, "w") as f:
        json.dump({"context": ctx, "benchmarks": rows}, f, indent=1)
    if failures:
        print(f"python_peers: {failures} wrong result(s)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
