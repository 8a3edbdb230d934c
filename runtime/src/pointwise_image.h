// How the runtime shows an image to the 1x1 kernels: the tuner times the
// kernels on the same view (tools/tuning/tuner.cpp).
#pragma once

#include <cstdint>

namespace sepconv::detail {

// The 1x1 kernels run an image whose input is at most this large as one task
// parallel over output-channel tiles (schedules/cpu_schedules.cpp, knob
// pw_image_bytes' hand value); larger ones in tasks of rows.
constexpr int64_t kPointwiseImageBytes = 512 * 1024;

// The 1x1 is a GEMM over an image's pixels: a small image (`height` x `width`
// x `channels` float inputs) whose rows are contiguous in both the input and
// the output is shown to the kernel as one row of H * W pixels. Its register
// tiles (4 or 6 pixels) then run along all the pixels instead of each short
// row: a 7-pixel row is 8 pixels of work in 4-pixel tiles, 49 pixels in one
// row are 52; NCHW vectors of 16 columns fit a 7-wide row badly and a 49-wide
// one well.
inline bool pointwise_image_as_one_row(int64_t height, int64_t width, int64_t channels) {
    return height > 1 && height * width * channels * 4 <= kPointwiseImageBytes;
}

}  // namespace sepconv::detail
