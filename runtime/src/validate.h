// Checks of user tensors, before any kernel runs.
#pragma once

#include <string>

#include "sepconv/shape.h"
#include "sepconv/tensor.h"

namespace sepconv::detail {

enum class Contiguity {
    InnermostDense,  // activations: any strides, but the last must be 1
    Dense,           // filters and bias: dense row-major
};

// The tensor's strides (dense when not given), after checking: non-null
// data, the rank, positive dimensions (a leading batch of 0 is allowed for
// activations), strides, element and byte counts within int64 and the
// kernels' 32-bit indexing, and capacity.
std::vector<int64_t> checked_strides(const TensorView<const float> &t, const char *name, size_t rank,
                                     Contiguity contiguity, bool allow_empty_batch);

Shape4 as_shape4(const std::vector<int64_t> &shape);

// The range of memory a view spans, [first, last] elements from data.
struct Span {
    const float *begin, *end;
};
Span span_of(const TensorView<const float> &t, const std::vector<int64_t> &strides);

void check_no_overlap(const Span &output, const Span &input, const char *input_name);

}  // namespace sepconv::detail
