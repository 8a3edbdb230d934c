#include "gpu_kernels.h"

#include <mutex>

#if SEPCONV_GPU_CUDA
#include "HalideRuntimeCuda.h"
#endif
#if SEPCONV_GPU_OPENCL
#include "HalideRuntimeOpenCL.h"
#endif

namespace sepconv::gpu {
namespace {

bool fixed_matches(int fixed, int wanted) {
    return fixed == 0 || fixed == wanted;
}

// Halide reports errors through one process-wide handler; the probe swaps in
// one that keeps the message.
std::string *probe_message = nullptr;
void keep_message(void *, const char *msg) {
    if (probe_message) *probe_message += msg;
}

std::string probe(Backend backend) {
    if (!device_interface(backend)) return std::string(to_string(backend)) + " variants are not built (SEPCONV_GPU_BACKENDS)";
    float one = 0.0f;
    halide_dimension_t dim = {0, 1, 1, 0};
    halide_buffer_t buffer{};
    buffer.host = reinterpret_cast<uint8_t *>(&one);
    buffer.type = halide_type_t(halide_type_float, 32);
    buffer.dimensions = 1;
    buffer.dim = &dim;
    std::string message;
    probe_message = &message;
    halide_error_handler_t previous = halide_set_error_handler(keep_message);
    const int result = halide_device_malloc(nullptr, &buffer, device_interface(backend));
    if (result == 0) halide_device_free(nullptr, &buffer);
    halide_set_error_handler(previous);
    probe_message = nullptr;
    if (result == 0) return "";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return std::string("no ") + to_string(backend) + " device: " +
           (message.empty() ? "Halide error " + std::to_string(result) : message);
}

}  // namespace

const char *to_string(Backend backend) {
    return backend == Backend::CUDA ? "CUDA" : "OpenCL";
}

int GpuKernel::call(halide_buffer_t *input, halide_buffer_t *depthwise_filter, halide_buffer_t *pointwise_filter,
                    halide_buffer_t *bias, const GpuGeometry &g, const GpuActivation &a,
                    halide_buffer_t *output) const {
    switch (op) {
    case Op::Depthwise:
        return depthwise(input, depthwise_filter, bias, g.stride_w, g.stride_h, g.dilation_w, g.dilation_h, g.pad_left,
                         g.pad_top, a.min, a.max, a.leaky_alpha, output);
    case Op::Pointwise:
        return pointwise(input, pointwise_filter, bias, a.min, a.max, a.leaky_alpha, output);
    case Op::Separable:
        return separable(input, depthwise_filter, pointwise_filter, bias, g.stride_w, g.stride_h, g.dilation_w,
                         g.dilation_h, g.pad_left, g.pad_top, a.min, a.max, a.leaky_alpha, output);
    }
    return -1;
}

bool GpuKernel::runs(Op o, DataFormat format, int kh, int kw, int m, int stride_h, int stride_w) const {
    if (op != o || data_format != format) return false;
    if (op == Op::Pointwise) return true;
    return fixed_matches(kernel_h, kh) && fixed_matches(kernel_w, kw) && fixed_matches(multiplier, m) &&
           (stride == 0 || (stride_h == stride && stride_w == stride));
}

int GpuKernel::specificity() const {
    return (kernel_h != 0) + (kernel_w != 0) + (multiplier != 0) + (stride != 0);
}

const GpuKernel *select_gpu_kernel(Backend backend, Op op, DataFormat format, int kernel_h, int kernel_w,
                                   int multiplier, int stride_h, int stride_w) {
    const GpuKernel *best = nullptr;
    for (int i = 0; i < kGpuKernelCount; i++) {
        const GpuKernel &k = kGpuKernels[i];
        if (k.backend != backend || !k.runs(op, format, kernel_h, kernel_w, multiplier, stride_h, stride_w)) continue;
        if (!best || k.specificity() > best->specificity()) best = &k;
    }
    return best;
}

const halide_device_interface_t *device_interface(Backend backend) {
#if SEPCONV_GPU_CUDA
    if (backend == Backend::CUDA) return halide_cuda_device_interface();
#endif
#if SEPCONV_GPU_OPENCL
    if (backend == Backend::OpenCL) return halide_opencl_device_interface();
#endif
    return nullptr;
}

const std::string &device_unavailable(Backend backend) {
    static std::once_flag once[2];
    static std::string reason[2];
    const int i = backend == Backend::CUDA ? 1 : 0;
    std::call_once(once[i], [&] { reason[i] = probe(backend); });
    return reason[i];
}

}  // namespace sepconv::gpu
