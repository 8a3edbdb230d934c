// Non-owning views of float32 tensors, as users hand them to sepconv.
#pragma once

#include <cstdint>
#include <vector>

namespace sepconv {

// A pointer and a shape (row-major, TF order: NHWC / NCHW for activations,
// [k_h, k_w, C, M] and [1, 1, C, O] for filters). No copies are made.
template <typename T>
struct TensorView {
    T *data = nullptr;
    std::vector<int64_t> shape;
    // Strides in elements, one per dimension; empty means dense row-major.
    // Activations may be strided (the last, innermost stride must be 1);
    // filters and bias must be dense.
    std::vector<int64_t> strides;
    // Elements reachable from `data`; checked against the shape when >= 0.
    int64_t capacity = -1;

    TensorView() = default;
    TensorView(T *data, std::vector<int64_t> shape, int64_t capacity = -1)
        : data(data), shape(std::move(shape)), capacity(capacity) {}
    // A view of a whole vector.
    template <typename V, typename = decltype(std::declval<V &>().data())>
    TensorView(V &v, std::vector<int64_t> shape)
        : data(v.data()), shape(std::move(shape)), capacity(static_cast<int64_t>(v.size())) {}
    // Read-only from read-write.
    template <typename U, typename = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
    TensorView(const TensorView<U> &o) : data(o.data), shape(o.shape), strides(o.strides), capacity(o.capacity) {}
};

using ConstTensor = TensorView<const float>;
using MutableTensor = TensorView<float>;

}  // namespace sepconv
