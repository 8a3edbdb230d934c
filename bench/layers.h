// The benchmark layers (../shared/bench/shapes.csv), their geometry in TF's
// rules, deterministic data, and the float64 reference check every
// benchmarked kernel passes before it is timed.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sepconv/aligned.h"

namespace sepconv::bench {

enum class Operation { Depthwise, Pointwise, Separable };
const char *short_name(Operation op);  // "dw", "pw", "sep"

// One line of shapes.csv.
struct Layer {
    std::string suite, name;
    int in_h = 0, in_w = 0, in_c = 0, k_h = 0, k_w = 0, stride = 1, dilation = 1, multiplier = 1, out_c = 0;
    bool same = true;  // SAME, else VALID

    // TF's output size and the padding before it (SAME splits the total
    // padding with the smaller half first).
    int out_h() const, out_w() const, pad_top() const, pad_left() const, pad_bottom() const, pad_right() const;
    int mid_c() const { return in_c * multiplier; }
};

std::vector<Layer> read_layers(const std::string &csv_path);

// Work and traffic of one operation at batch `n`: 2 flops per multiply-add;
// bytes = inputs + weights + outputs once (the compulsory traffic).
double flops(const Layer &l, Operation op, int n);
double bytes(const Layer &l, Operation op, int n);

// The tensors of one layer at one batch size, TF layouts (NHWC, dw filter
// [k_h, k_w, C, M], pw weights [C*M, O]). Image i has the same values at
// every batch size, so one reference image serves all batch sizes. Every
// implementation reads and writes 64-byte aligned memory (sepconv/aligned.h),
// as TF, PyTorch and ONNX Runtime allocate tensors: a std::vector's large
// blocks start 16 bytes into a cache line, which splits every AVX-512 load.
struct LayerData {
    int batch = 1;
    AlignedVector<float> input;      // the depthwise (and separable) input
    AlignedVector<float> dw_filter;  // [k_h, k_w, C, M]
    AlignedVector<float> dw_bias;    // [C*M]
    AlignedVector<float> mid;        // the pointwise input: [n, out_h, out_w, C*M]
    AlignedVector<float> pw_weights; // [C*M, O]
    AlignedVector<float> pw_bias;    // [O]
};
std::shared_ptr<const LayerData> layer_data(const Layer &l, int batch);

// Checks images 0 and batch-1 of `output` (NHWC, the operation's output at
// data.batch) against the float64 reference. Returns "" when within
// tolerance, else a message with the worst error.
std::string check_output(const Layer &l, Operation op, const LayerData &data, const AlignedVector<float> &output);

}  // namespace sepconv::bench
