// The kernel registry: the AOT variants built into this library, and which
// one a call would run, and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sepconv/ops.h"

namespace sepconv {

// What a call needs from a kernel. 0 in a KernelInfo field means "any value,
// given at run time"; a specialized variant fixes it.
struct KernelRequest {
    Op op;
    DataFormat data_format;
    int64_t kernel_h = 1, kernel_w = 1, multiplier = 1;
    int64_t stride_h = 1, stride_w = 1;
    bool packed_weights = false;  // pointwise weights in PackedPointwiseFilter's layout
    // The input's channel count, and whether the input's and the output's
    // columns are dense (column stride = channel count).
    int64_t channels = 0;
    bool dense_columns = false;
};

struct KernelInfo {
    const char *name;  // e.g. sepconv_f32_dwconv_3x3m1s1_nhwc
    Op op;
    DataFormat data_format;
    int kernel_h, kernel_w, multiplier, stride;  // 0 = run time
    bool packed_weights = false;  // takes PackedPointwiseFilter's layout (pointwise)
    int channels = 0;  // input channels, with dense columns (a per-layer depthwise or separable, NHWC); 0 = run time
    bool matches(const KernelRequest &r) const;
    int specificity() const;  // how many fields are fixed
};

// Every AOT variant: those a program registered (sepconv/kernel_table.h)
// first, then the built-in ones in the order they were generated.
const std::vector<KernelInfo> &aot_kernels();

// The variant a call with `request` runs: the most specific that matches, or
// the one named by the SEPCONV_FORCE_KERNEL environment variable (an Error if
// that one does not match). `why` receives a one-line reason.
const KernelInfo &select_kernel(const KernelRequest &request, std::string *why = nullptr);

// The name of the kernel the calling thread ran last ("" before any). JIT
// kernels are named like AOT ones with "jit" for "f32"'s prefix, e.g.
// sepconv_jit_f32_dwconv_3x3m2s1_nhwc.
const std::string &last_kernel();

// When calls use a JIT-compiled kernel (needs the sepconv_jit library and
// sepconv::jit::enable(); without it every policy runs AOT kernels):
//   AotOnly:                 never;
//   JitWhenNoSpecializedAot: when only a generic AOT variant matches (default);
//   AlwaysJit:               every call, specialized for exactly its parameters.
// The environment variable SEPCONV_JIT=aot|fallback|always sets the initial policy.
enum class JitPolicy { AotOnly, JitWhenNoSpecializedAot, AlwaysJit };
void set_jit_policy(JitPolicy policy);
JitPolicy jit_policy();

}  // namespace sepconv
