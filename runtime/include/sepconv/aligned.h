// Memory for tensors at the alignment the CPU kernels read fastest.
//
// The kernels take float data at any address (tensor.h). But an NHWC
// channel vector (16 floats on AVX-512) that starts 16 bytes into a cache
// line straddles two lines, and every load and store of it touches both.
// glibc's malloc returns such addresses for large blocks (a std::vector<float>
// of more than 128 KiB starts 16 bytes past a page), and on the AVX-512
// machine of bench/results the depthwise then took 1.2-1.9x the time
// (`sepconv run --op depthwise --misalign 4`, README "Memory alignment").
// TensorFlow, PyTorch, ONNX Runtime and TFLite allocate tensors at 64 bytes;
// AlignedVector does the same for a C++ caller:
//
//   sepconv::AlignedVector<float> input(n * h * w * c);
//   sepconv::depthwise_conv2d(sepconv::ConstTensor(input, {n, h, w, c}), ...);
#pragma once

#include <cstddef>
#include <limits>
#include <new>
#include <vector>

namespace sepconv {

// A cache line, and the width of an AVX-512 vector.
inline constexpr std::size_t kTensorAlignment = 64;

// A std::allocator that places every block at kTensorAlignment.
template <typename T>
struct AlignedAllocator {
    using value_type = T;

    AlignedAllocator() noexcept = default;
    template <typename U>
    AlignedAllocator(const AlignedAllocator<U> &) noexcept {}

    T *allocate(std::size_t n) {
        if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(kTensorAlignment)));
    }
    void deallocate(T *p, std::size_t) noexcept { ::operator delete(p, std::align_val_t(kTensorAlignment)); }

    template <typename U>
    bool operator==(const AlignedAllocator<U> &) const noexcept { return true; }
    template <typename U>
    bool operator!=(const AlignedAllocator<U> &) const noexcept { return false; }
};

// A std::vector whose data() is kTensorAlignment-aligned; TensorView takes it
// as it takes a std::vector.
template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace sepconv
