#include "validate.h"

#include <algorithm>
#include <limits>

#include "format.h"
#include "sepconv/error.h"

namespace sepconv::detail {
namespace {

constexpr int64_t kMaxKernelBytes = std::numeric_limits<int32_t>::max();

}  // namespace

std::vector<int64_t> checked_strides(const TensorView<const float> &t, const char *name, size_t rank,
                                     Contiguity contiguity, bool allow_empty_batch) {
    const std::string n(name);
    if (t.shape.size() != rank) {
        throw Error(n + " must be " + std::to_string(rank) + "-dimensional, got rank " +
                    std::to_string(t.shape.size()) + " with shape " + format_list(t.shape));
    }
    for (size_t i = 0; i < rank; i++) {
        const int64_t lo = (i == 0 && allow_empty_batch) ? 0 : 1;
        if (t.shape[i] < lo) {
            throw Error(n + " dimension " + std::to_string(i) + " must be >= " + std::to_string(lo) + ", got shape " +
                        format_list(t.shape));
        }
    }
    if (!t.data) throw Error(n + " data pointer is null (shape " + format_list(t.shape) + ")");

    int64_t elements = 1;
    for (int64_t d : t.shape) {
        if (__builtin_mul_overflow(elements, d, &elements)) {
            throw Error(n + " element count overflows int64: shape " + format_list(t.shape));
        }
    }
    std::vector<int64_t> strides = t.strides;
    if (strides.empty()) {
        strides.assign(rank, 1);
        for (size_t i = rank - 1; i > 0; i--) strides[i - 1] = strides[i] * t.shape[i];
    } else {
        if (strides.size() != rank) {
            throw Error(n + " strides must have " + std::to_string(rank) + " entries, got " + format_list(strides));
        }
        if (contiguity == Contiguity::Dense) {
            int64_t expect = 1;
            for (size_t i = rank; i-- > 0;) {
                if (t.shape[i] > 1 && strides[i] != expect) {
                    throw Error(n + " must be dense row-major: shape " + format_list(t.shape) + ", strides " +
                                format_list(strides));
                }
                expect *= t.shape[i];
            }
        } else if (strides[rank - 1] != 1 && t.shape[rank - 1] > 1) {
            throw Error(n + " innermost stride must be 1, got strides " + format_list(strides));
        }
        for (int64_t s : strides) {
            if (s < 0) throw Error(n + " strides must be >= 0, got " + format_list(strides));
        }
        // A dimension of extent 1 is never stepped along: give it its dense
        // stride, so the kernels' "innermost stride is 1" contract holds
        // (numpy reports arbitrary strides there).
        int64_t dense = 1;
        for (size_t i = rank; i-- > 0;) {
            if (t.shape[i] == 1) strides[i] = dense;
            dense *= std::max<int64_t>(t.shape[i], 1);
        }
    }
    if (elements == 0) return strides;
    // The furthest element, in elements from data.
    int64_t last = 0;
    for (size_t i = 0; i < rank; i++) {
        int64_t step;
        if (__builtin_mul_overflow(t.shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last)) {
            throw Error(n + " extent overflows int64: shape " + format_list(t.shape) + ", strides " +
                        format_list(strides));
        }
    }
    int64_t bytes;
    if (__builtin_mul_overflow(last + 1, static_cast<int64_t>(sizeof(float)), &bytes) || bytes > kMaxKernelBytes) {
        throw Error(n + " spans " + std::to_string(last + 1) + " elements (shape " + format_list(t.shape) +
                    "), more than the kernels' 32-bit indexing allows (" + std::to_string(kMaxKernelBytes) +
                    " bytes)");
    }
    if (t.capacity >= 0 && last + 1 > t.capacity) {
        throw Error(n + " buffer is too small: shape " + format_list(t.shape) + " needs " + std::to_string(last + 1) +
                    " elements, the buffer has " + std::to_string(t.capacity));
    }
    return strides;
}

Shape4 as_shape4(const std::vector<int64_t> &s) {
    return {s[0], s[1], s[2], s[3]};
}

Span span_of(const TensorView<const float> &t, const std::vector<int64_t> &strides) {
    int64_t last = 0;
    for (size_t i = 0; i < t.shape.size(); i++) last += (t.shape[i] - 1) * strides[i];
    return {t.data, t.data + last};
}

void check_no_overlap(const Span &output, const Span &input, const char *input_name) {
    if (output.begin <= input.end && input.begin <= output.end) {
        throw Error(std::string("output must not overlap ") + input_name + " (sepconv does not run in place)");
    }
}

}  // namespace sepconv::detail
