// Checks of user tensors, before any kernel runs. Nothing here allocates
// unless it throws: the AOT hot path makes no heap allocation per call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sepconv/shape.h"
#include "sepconv/tensor.h"

namespace sepconv::detail {

enum class Contiguity {
    InnermostDense,  // activations: any strides, but the last must be 1
    Dense,           // filters and bias: dense row-major
};

// Strides of a tensor of rank <= 4 (entries past the rank are unused).
constexpr size_t kMaxRank = 4;
using Strides = std::array<int64_t, kMaxRank>;

// The tensor's strides (dense when not given), after checking: non-null
// data, the rank, positive dimensions (a leading batch of 0 is allowed for
// activations), strides, element and byte counts within int64 and the
// kernels' 32-bit indexing, and capacity. `rank` must be <= kMaxRank.
Strides checked_strides(const float *data, const std::vector<int64_t> &shape, const std::vector<int64_t> &strides,
                        int64_t capacity, const char *name, size_t rank, Contiguity contiguity,
                        bool allow_empty_batch);
template <typename T>
Strides checked_strides(const TensorView<T> &t, const char *name, size_t rank, Contiguity contiguity,
                        bool allow_empty_batch) {
    return checked_strides(t.data, t.shape, t.strides, t.capacity, name, rank, contiguity, allow_empty_batch);
}

Shape4 as_shape4(const std::vector<int64_t> &shape);

// The range of memory a non-empty view spans, [first, last] elements from data.
struct Span {
    const float *begin, *end;
};
Span span_of(const float *data, const std::vector<int64_t> &shape, const Strides &strides);

void check_no_overlap(const Span &output, const Span &input, const char *input_name);

// Throws unless every element of the view has its own address: a view whose
// strides map two elements to one place (e.g. shape [3, 1, 2, 1], strides
// [3, 6, 3, 2]: n = 1, h = 0 and n = 0, h = 1 coincide) cannot be written.
// `given`: the strides as the caller gave them, for the message.
void check_elements_distinct(const std::vector<int64_t> &shape, const Strides &strides,
                             const std::vector<int64_t> &given, const char *name);

}  // namespace sepconv::detail
