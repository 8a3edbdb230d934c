// The operations, with tf.nn's arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sepconv/aligned.h"
#include "sepconv/error.h"
#include "sepconv/options.h"
#include "sepconv/shape.h"
#include "sepconv/tensor.h"

namespace sepconv {

// tf.nn.depthwise_conv2d (+ bias and activation):
//   input  [N, H, W, C] (NHWC) or [N, C, H, W] (NCHW)
//   filter [k_h, k_w, C, M]
//   bias   [C * M] or none
//   output [N, out_h, out_w, C * M] in the input's format (see infer_output_shape)
void depthwise_conv2d(const ConstTensor &input, const ConstTensor &filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options = {});

// A 1x1, stride-1 convolution: filter [1, 1, C, O], bias [O] or none.
// Only options.data_format and options.activation apply.
void pointwise_conv2d(const ConstTensor &input, const ConstTensor &filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options = {});

// A pointwise filter [1, 1, C, O] packed once for repeated calls (of the 1x1
// and of the separable convolution), as
// inference engines keep constant weights (oneDNN's reordered weights,
// XNNPACK's packed ones): output channels in blocks of kBlock, each block's
// C x kBlock weights contiguous, row-major [O / kBlock][C][kBlock]. A call
// given TF's [1, 1, C, O] copies each register tile's weights (rows O floats
// apart) into a contiguous panel every time; a call given this reads them in
// place. The kernels' register tiles start on block boundaries only when O
// is a multiple of kBlock; other filters are kept in TF's layout, and calls
// with them run the TF-layout kernels.
class PackedPointwiseFilter {
public:
    static constexpr int64_t kBlock = 16;  // generators/algorithm.h: kPackedOutputChannels

    // Copies `filter`, [1, 1, C, O], dense (Error otherwise), packed when O
    // is a multiple of kBlock.
    explicit PackedPointwiseFilter(const ConstTensor &filter);

    // The filter's shape, [1, 1, C, O].
    const std::vector<int64_t> &shape() const { return shape_; }
    // Whether values() are packed, [O / kBlock][C][kBlock]; else TF's [1, 1, C, O].
    bool packed() const { return packed_; }
    // At 64 bytes (sepconv/aligned.h): a block's 16 weights are one AVX-512
    // vector load that never straddles two cache lines.
    const AlignedVector<float> &values() const { return values_; }

private:
    std::vector<int64_t> shape_;
    AlignedVector<float> values_;
    bool packed_ = false;
};

// pointwise_conv2d with the filter packed once (same results).
void pointwise_conv2d(const ConstTensor &input, const PackedPointwiseFilter &filter,
                      const std::optional<ConstTensor> &bias, const MutableTensor &output,
                      const Conv2DOptions &options = {});

// tf.nn.separable_conv2d (+ bias and activation): depthwise then pointwise,
// fused. depthwise_filter [k_h, k_w, C, M], pointwise_filter [1, 1, C*M, O],
// bias [O] or none.
void separable_conv2d(const ConstTensor &input, const ConstTensor &depthwise_filter,
                      const ConstTensor &pointwise_filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options = {});

// separable_conv2d with the pointwise filter packed once (same results).
void separable_conv2d(const ConstTensor &input, const ConstTensor &depthwise_filter,
                      const PackedPointwiseFilter &pointwise_filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options = {});

// Output shapes (in the input's data format) from shapes alone.
enum class Op { Depthwise, Pointwise, Separable };
const char *to_string(Op op);
std::vector<int64_t> infer_output_shape(Op op, const std::vector<int64_t> &input,
                                        const std::vector<int64_t> &depthwise_filter,
                                        const std::vector<int64_t> &pointwise_filter, const Conv2DOptions &options);

}  // namespace sepconv
