#include "validate.h"

#include <algorithm>
#include <limits>
#include <string>

#include "format.h"
#include "sepconv/error.h"

namespace sepconv::detail {
namespace {

constexpr int64_t kMaxKernelBytes = std::numeric_limits<int32_t>::max();

std::vector<int64_t> first(const Strides &strides, size_t rank) {
    return {strides.begin(), strides.begin() + rank};
}

}  // namespace

Strides checked_strides(const float *data, const std::vector<int64_t> &shape, const std::vector<int64_t> &given,
                        int64_t capacity, const char *name, size_t rank, Contiguity contiguity,
                        bool allow_empty_batch) {
    // Messages are built only when throwing: this runs on every call.
    const auto n = [name] { return std::string(name); };
    if (shape.size() != rank || rank > kMaxRank || rank == 0) {
        throw Error(n() + " must be " + std::to_string(rank) + "-dimensional, got rank " +
                    std::to_string(shape.size()) + " with shape " + format_list(shape));
    }
    for (size_t i = 0; i < rank; i++) {
        const int64_t lo = (i == 0 && allow_empty_batch) ? 0 : 1;
        if (shape[i] < lo) {
            throw Error(n() + " dimension " + std::to_string(i) + " must be >= " + std::to_string(lo) +
                        ", got shape " + format_list(shape));
        }
    }
    if (!data) throw Error(n() + " data pointer is null (shape " + format_list(shape) + ")");

    // The product of the extents, an empty batch counted as 1: it bounds
    // every dense stride below, so none of them overflows either.
    int64_t elements = 1;
    for (int64_t d : shape) {
        if (__builtin_mul_overflow(elements, std::max<int64_t>(d, 1), &elements)) {
            throw Error(n() + " element count overflows int64: shape " + format_list(shape));
        }
    }
    const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
    Strides strides{};
    if (given.empty()) {
        strides[rank - 1] = 1;
        for (size_t i = rank - 1; i > 0; i--) strides[i - 1] = strides[i] * std::max<int64_t>(shape[i], 1);
    } else {
        if (given.size() != rank) {
            throw Error(n() + " strides must have " + std::to_string(rank) + " entries, got " + format_list(given));
        }
        std::copy(given.begin(), given.end(), strides.begin());
        if (contiguity == Contiguity::Dense) {
            int64_t expect = 1;
            for (size_t i = rank; i-- > 0;) {
                if (shape[i] > 1 && strides[i] != expect) {
                    throw Error(n() + " must be dense row-major: shape " + format_list(shape) + ", strides " +
                                format_list(given));
                }
                expect *= std::max<int64_t>(shape[i], 1);
            }
        } else if (strides[rank - 1] != 1 && shape[rank - 1] > 1) {
            throw Error(n() + " innermost stride must be 1, got strides " + format_list(given));
        }
        for (size_t i = 0; i < rank; i++) {
            if (strides[i] < 0) throw Error(n() + " strides must be >= 0, got " + format_list(given));
        }
        // A dimension of extent 1 is never stepped along: give it its dense
        // stride, so the kernels' "innermost stride is 1" contract holds
        // (numpy reports arbitrary strides there).
        int64_t dense = 1;
        for (size_t i = rank; i-- > 0;) {
            if (shape[i] == 1) strides[i] = dense;
            dense *= std::max<int64_t>(shape[i], 1);
        }
    }
    if (empty) return strides;
    // The furthest element, in elements from data.
    int64_t last = 0;
    for (size_t i = 0; i < rank; i++) {
        int64_t step;
        if (__builtin_mul_overflow(shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last)) {
            throw Error(n() + " extent overflows int64: shape " + format_list(shape) + ", strides " +
                        format_list(first(strides, rank)));
        }
    }
    // last + 1 elements of 4 bytes; compared without forming last + 1, which
    // overflows when the furthest element is INT64_MAX (found by the fuzzer).
    if (last >= kMaxKernelBytes / static_cast<int64_t>(sizeof(float))) {
        const std::string count = last == std::numeric_limits<int64_t>::max() ? "more than " + std::to_string(last)
                                                                             : std::to_string(last + 1);
        throw Error(n() + " spans " + count + " elements (shape " + format_list(shape) +
                    "), more than the kernels' 32-bit indexing allows (" + std::to_string(kMaxKernelBytes) +
                    " bytes)");
    }
    if (capacity >= 0 && last + 1 > capacity) {
        throw Error(n() + " buffer is too small: shape " + format_list(shape) + " needs " + std::to_string(last + 1) +
                    " elements, the buffer has " + std::to_string(capacity));
    }
    return strides;
}

Shape4 as_shape4(const std::vector<int64_t> &s) {
    return {s[0], s[1], s[2], s[3]};
}

Span span_of(const float *data, const std::vector<int64_t> &shape, const Strides &strides) {
    int64_t last = 0;
    for (size_t i = 0; i < shape.size(); i++) last += (shape[i] - 1) * strides[i];
    return {data, data + last};
}

void check_elements_distinct(const std::vector<int64_t> &shape, const Strides &strides,
                             const std::vector<int64_t> &given, const char *name) {
    // Dimensions that are stepped along, by increasing stride: each stride
    // must step past everything the smaller ones reach.
    std::array<size_t, kMaxRank> order{};
    size_t count = 0;
    for (size_t i = 0; i < shape.size(); i++) {
        if (shape[i] <= 1) continue;
        size_t at = count++;
        while (at > 0 && strides[order[at - 1]] > strides[i]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    int64_t reach = 0;  // the furthest element the smaller strides reach
    for (size_t k = 0; k < count; k++) {
        const size_t i = order[k];
        if (strides[i] <= reach) {
            throw Error(std::string(name) + " strides make elements overlap: shape " + format_list(shape) +
                        ", strides " + format_list(given));
        }
        reach += (shape[i] - 1) * strides[i];
    }
}

void check_no_overlap(const Span &output, const Span &input, const char *input_name) {
    if (output.begin <= input.end && input.begin <= output.end) {
        throw Error(std::string("output must not overlap ") + input_name + " (sepconv does not run in place)");
    }
}

}  // namespace sepconv::detail
