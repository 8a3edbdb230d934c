// The operations, with tf.nn's arguments.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

// tf.nn.separable_conv2d (+ bias and activation): depthwise then pointwise,
// fused. depthwise_filter [k_h, k_w, C, M], pointwise_filter [1, 1, C*M, O],
// bias [O] or none.
void separable_conv2d(const ConstTensor &input, const ConstTensor &depthwise_filter,
                      const ConstTensor &pointwise_filter, const std::optional<ConstTensor> &bias,
                      const MutableTensor &output, const Conv2DOptions &options = {});

// Output shapes (in the input's data format) from shapes alone.
enum class Op { Depthwise, Pointwise, Separable };
const char *to_string(Op op);
std::vector<int64_t> infer_output_shape(Op op, const std::vector<int64_t> &input,
                                        const std::vector<int64_t> &depthwise_filter,
                                        const std::vector<int64_t> &pointwise_filter, const Conv2DOptions &options);

}  // namespace sepconv
