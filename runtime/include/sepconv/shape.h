// Shape inference, exactly as TensorFlow computes it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sepconv/options.h"

namespace sepconv {

// A 4-D shape in the order the tensor is stored (NHWC or NCHW), or a filter
// shape ([k_h, k_w, C, M] for depthwise, [1, 1, C*M, O] for pointwise).
using Shape4 = std::array<int64_t, 4>;

std::string to_string(const Shape4 &s);

// One spatial dimension: output size and the padding before/after it.
struct SpatialExtent {
    int64_t size = 0;
    int64_t pad_before = 0, pad_after = 0;
};

// TF's GetWindowedOutputSizeVerbose for one dimension. Throws
// "Computed output size would be negative: ..." where TF does.
SpatialExtent windowed_output(int64_t input, int64_t kernel, int64_t stride, int64_t dilation,
                              Padding::Kind kind, int64_t explicit_before = 0, int64_t explicit_after = 0);

// Height and width of a depthwise output with their paddings.
struct OutputGeometry {
    SpatialExtent height, width;
};

// Checks strides and dilations (each in range, and not both > 1), as Keras
// does when a layer is built. infer_output_geometry() calls it.
void check_strides_and_dilations(const Conv2DOptions &options);

// Validates strides, dilations and padding (including their combination) and
// computes the output geometry for an input of in_h x in_w and a k_h x k_w kernel.
OutputGeometry infer_output_geometry(int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                                     const Conv2DOptions &options);

// Output shapes, in the input's data format. Throw Error on any mismatch.
Shape4 infer_depthwise_output_shape(const Shape4 &input, const Shape4 &filter, const Conv2DOptions &options);
Shape4 infer_pointwise_output_shape(const Shape4 &input, const Shape4 &filter, DataFormat format);
Shape4 infer_separable_output_shape(const Shape4 &input, const Shape4 &depthwise_filter,
                                    const Shape4 &pointwise_filter, const Conv2DOptions &options);

// The (n, h, w, c) of a shape stored in `format`, and back.
struct NHWCDims {
    int64_t n, h, w, c;
};
NHWCDims dims_of(const Shape4 &s, DataFormat format);
Shape4 shape_of(const NHWCDims &d, DataFormat format);

}  // namespace sepconv
