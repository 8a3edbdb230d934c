#!/usr/bin/env python3
"""sepconv's CUDA variants against PyTorch (cuDNN) on the shapes.csv layers.

Reads the JSON lines of sepconv_gpu_bench (our depthwise, pointwise, unfused
pair and fused separable times), times PyTorch's conv2d(groups=C) + 1x1 conv
on the same layers and batches, measures the device's memory bandwidth
(a large device-to-device copy), and writes results.json and results.md.

PyTorch runs in float32 with TF32 off (cuDNN would otherwise use TF32 tensor
cores for the 1x1 convolution, a different precision than ours), with
cudnn.benchmark on, in both NCHW and channels_last; the faster is the baseline.

    python3 bench.py --ours ours.jsonl --out DIR [--iterations N]
"""
import argparse
import json
import math
import os
import platform
import subprocess

import torch
import torch.nn.functional as F


def device_bandwidth_gbs(iterations=20):
    """Device-to-device copy of 1 GiB: read + write bytes per second."""
    n = 256 * 1024 * 1024  # floats: 1 GiB
    a = torch.empty(n, device="cuda")
    b = torch.empty_like(a)
    b.copy_(a)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        b.copy_(a)
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / iterations
    return 2 * n * 4 / seconds / 1e9


def ms_per_run(fn, iterations):
    """As sepconv_gpu_bench: `iterations` runs back to back between two CUDA
    events, the median of 5 such batches, after 3 warm-up runs."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iterations):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / iterations)
    times.sort()
    return times[len(times) // 2]


def torch_layer_ms(row, iterations):
    """(depthwise, pointwise, pair) ms of PyTorch, best of NCHW / channels_last."""
    n = row["batch"]
    shape = row["shape"]
    c, k_h, k_w, m = shape["in_c"], shape["k_h"], shape["k_w"], shape["multiplier"]
    stride, dilation, out_c = shape["stride"], shape["dilation"], shape["out_c"]
    # SAME as symmetric padding (the output size is TF's for these layers;
    # TF puts an odd padding's extra row at the bottom, a one-element shift
    # that does not change the work).
    pad = (0, 0) if shape["padding"] == "VALID" else (dilation * (k_h - 1) // 2, dilation * (k_w - 1) // 2)
    best = None
    for memory_format in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(n, c, shape["in_h"], shape["in_w"], device="cuda").to(memory_format=memory_format)
        dw = torch.randn(c * m, 1, k_h, k_w, device="cuda").to(memory_format=memory_format)
        pw = torch.randn(out_c, c * m, 1, 1, device="cuda").to(memory_format=memory_format)
        bias = torch.randn(out_c, device="cuda")
        mid = F.conv2d(x, dw, None, stride, pad, dilation, c)

        def run_dw():
            return F.conv2d(x, dw, None, stride, pad, dilation, c)

        def run_pw():
            return F.conv2d(mid, pw, bias)

        def run_pair():
            return F.conv2d(F.conv2d(x, dw, None, stride, pad, dilation, c), pw, bias)

        with torch.no_grad():
            times = (ms_per_run(run_dw, iterations), ms_per_run(run_pw, iterations), ms_per_run(run_pair, iterations))
        if best is None or times[2] < best[2]:
            best = times + ("channels_last" if memory_format == torch.channels_last else "NCHW",)
    return best


def geomean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ours", required=True, help="JSON lines from sepconv_gpu_bench")
    parser.add_argument("--shapes", required=True, help="shapes.csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()

    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    shapes = {}
    with open(args.shapes) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            suite, layer, *v = line.strip().split(",")
            keys = ["in_h", "in_w", "in_c", "k_h", "k_w", "stride", "dilation", "multiplier", "out_c"]
            shape = dict(zip(keys, map(int, v[:9])))
            shape["padding"] = v[9]
            shapes[(suite, layer)] = shape

    bandwidth = device_bandwidth_gbs()
    rows = []
    with open(args.ours) as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            row["shape"] = shapes[(row["suite"], row["layer"])]
            t_dw, t_pw, t_pair, fmt = torch_layer_ms(row, args.iterations)
            row.update(torch_depthwise_ms=t_dw, torch_pointwise_ms=t_pw, torch_pair_ms=t_pair, torch_format=fmt)
            for stage, bytes_key in (("depthwise", "depthwise_bytes"), ("pointwise", "pointwise_bytes"),
                                     ("fused", "fused_bytes")):
                ms = row.get(f"{stage}_ms")
                row[f"{stage}_gbs"] = row[bytes_key] / (ms / 1e3) / 1e9 if ms else None
                row[f"{stage}_bandwidth_fraction"] = row[f"{stage}_gbs"] / bandwidth if ms else None
            best_ours = min(v for v in (row.get("pair_ms"), row.get("fused_ms")) if v) if (
                row.get("pair_ms") or row.get("fused_ms")) else None
            row["speedup_vs_torch"] = t_pair / best_ours if best_ours else None
            row["depthwise_speedup_vs_torch"] = t_dw / row["depthwise_ms"] if row.get("depthwise_ms") else None
            row["fused_vs_pair"] = row["pair_ms"] / row["fused_ms"] if row.get("fused_ms") and row.get("pair_ms") else None
            rows.append(row)
            print(f"{row['suite']:>16} {row['layer']:>14} N={row['batch']:<3} ours {best_ours} ms, torch {t_pair:.4f} ms")

    device = torch.cuda.get_device_properties(0)
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm",
                                 "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
    except OSError:
        driver = ""
    summary = {}
    for suite in sorted({r["suite"] for r in rows}):
        for batch in sorted({r["batch"] for r in rows}):
            sel = [r for r in rows if r["suite"] == suite and r["batch"] == batch]
            summary[f"{suite}/N={batch}"] = {
                "speedup_vs_torch_geomean": geomean([r["speedup_vs_torch"] for r in sel]),
                "depthwise_bandwidth_fraction_geomean": geomean([r["depthwise_bandwidth_fraction"] for r in sel]),
                "fused_vs_pair_geomean": geomean([r["fused_vs_pair"] for r in sel]),
            }
    report = {
        "device": {"name": device.name, "sm_count": device.multi_processor_count,
                   "memory_gib": device.total_memory / 2**30, "nvidia_smi": driver,
                   "measured_copy_bandwidth_gbs": bandwidth,
                   "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
                   "host": platform.node()},
        "summary": summary,
        "layers": rows,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(report, f, indent=1)

    def fmt(v, spec=".3f"):
        return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)

    lines = [f"# sepconv CUDA vs PyTorch {torch.__version__} (cuDNN {torch.backends.cudnn.version()})", "",
             f"Device: {device.name} ({driver}); measured copy bandwidth {bandwidth:.0f} GB/s.", "",
             "| suite / batch | speedup vs PyTorch (geomean) | depthwise % of bandwidth (geomean) | fused / pair (geomean) |",
             "| --- | --- | --- | --- |"]
    for key, s in summary.items():
        lines.append(f"| {key} | {fmt(s['speedup_vs_torch_geomean'], '.2f')}x | "
                     f"{fmt(100 * s['depthwise_bandwidth_fraction_geomean'], '.0f')}% | "
                     f"{fmt(s['fused_vs_pair_geomean'], '.2f')}x |")
    lines += ["", "| suite | layer | N | dw ms | dw GB/s | pw ms | pair ms | fused ms | fused/pair | torch pair ms (format) | speedup |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['suite']} | {r['layer']} | {r['batch']} | {fmt(r.get('depthwise_ms'), '.4f')} | "
                     f"{fmt(r.get('depthwise_gbs'), '.0f')} | {fmt(r.get('pointwise_ms'), '.4f')} | "
                     f"{fmt(r.get('pair_ms'), '.4f')} | {fmt(r.get('fused_ms'), '.4f')} | {fmt(r.get('fused_vs_pair'), '.2f')} | "
                     f"{r['torch_pair_ms']:.4f} ({r['torch_format']}) | {fmt(r.get('speedup_vs_torch'), '.2f')} |")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:6 + len(summary)]))


if __name__ == "__main__":
    main()
