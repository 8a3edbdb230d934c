#include "sepconv/registry.h"

#include <cstdlib>
#include <cstring>

#include "dispatch.h"
#include "kernel_abi.h"

namespace sepconv {
namespace {

bool fixed_matches(int fixed, int64_t wanted) {
    return fixed == 0 || fixed == wanted;
}

thread_local std::string last_kernel_name;

JitPolicy policy_from_environment() {
    const char *env = std::getenv("SEPCONV_JIT");
    if (!env || !*env) return JitPolicy::JitWhenNoSpecializedAot;
    const std::string v(env);
    if (v == "aot") return JitPolicy::AotOnly;
    if (v == "fallback") return JitPolicy::JitWhenNoSpecializedAot;
    if (v == "always") return JitPolicy::AlwaysJit;
    throw Error("SEPCONV_JIT must be aot, fallback or always, got '" + v + "'");
}

std::atomic<JitPolicy> &policy() {
    static std::atomic<JitPolicy> p{policy_from_environment()};
    return p;
}

std::atomic<detail::JitProvider *> jit_provider{nullptr};

}  // namespace

void set_jit_policy(JitPolicy p) {
    policy().store(p);
}

JitPolicy jit_policy() {
    return policy().load();
}

const char *to_string(Op op) {
    switch (op) {
    case Op::Depthwise: return "depthwise";
    case Op::Pointwise: return "pointwise";
    case Op::Separable: return "separable";
    }
    return "?";
}

bool KernelInfo::matches(const KernelRequest &r) const {
    if (op != r.op || data_format != r.data_format) return false;
    if (op == Op::Pointwise) return true;
    return fixed_matches(kernel_h, r.kernel_h) && fixed_matches(kernel_w, r.kernel_w) &&
           fixed_matches(multiplier, r.multiplier) &&
           (stride == 0 || (r.stride_h == stride && r.stride_w == stride));
}

int KernelInfo::specificity() const {
    return (kernel_h != 0) + (kernel_w != 0) + (multiplier != 0) + (stride != 0);
}

const std::vector<KernelInfo> &aot_kernels() {
    static const std::vector<KernelInfo> all = [] {
        std::vector<KernelInfo> v;
        for (int i = 0; i < detail::kAotKernelCount; i++) v.push_back(detail::kAotKernels[i].info);
        return v;
    }();
    return all;
}

const KernelInfo &select_kernel(const KernelRequest &request, std::string *why) {
    const char *forced = std::getenv("SEPCONV_FORCE_KERNEL");
    if (forced && *forced) {
        for (const KernelInfo &k : aot_kernels()) {
            if (std::strcmp(k.name, forced) != 0) continue;
            if (!k.matches(request)) {
                throw Error(std::string("SEPCONV_FORCE_KERNEL=") + forced + " cannot run this " +
                            to_string(request.op) + " call (kernel " + std::to_string(request.kernel_h) + "x" +
                            std::to_string(request.kernel_w) + ", multiplier " +
                            std::to_string(request.multiplier) + ", strides " + std::to_string(request.stride_h) +
                            "x" + std::to_string(request.stride_w) + ", " + to_string(request.data_format) + ")");
            }
            if (why) *why = "forced by SEPCONV_FORCE_KERNEL";
            return k;
        }
        throw Error(std::string("SEPCONV_FORCE_KERNEL=") + forced + " names no AOT kernel");
    }
    const KernelInfo *best = nullptr;
    for (const KernelInfo &k : aot_kernels()) {
        if (k.matches(request) && (!best || k.specificity() > best->specificity())) best = &k;
    }
    if (!best) {
        throw Error(std::string("no AOT kernel for this ") + to_string(request.op) + " call in " +
                    to_string(request.data_format));
    }
    if (why) {
        *why = best->specificity() ? "most specific AOT variant matching the call"
                                   : "generic AOT variant (no specialized one matches)";
    }
    return *best;
}

const std::string &last_kernel() {
    return last_kernel_name;
}

namespace detail {

const KernelEntry &entry_for(const KernelInfo &info) {
    for (int i = 0; i < kAotKernelCount; i++) {
        if (kAotKernels[i].info.name == info.name) return kAotKernels[i];
    }
    throw Error(std::string("unknown kernel ") + info.name);
}

std::atomic<int> &isa_slot(const KernelEntry &entry) {
    static std::atomic<int> slots[256];
    static_assert(sizeof(slots) / sizeof(slots[0]) >= 64, "room for every AOT kernel");
    static const bool initialized = [] {
        for (auto &s : slots) s.store(-1);
        return true;
    }();
    (void)initialized;
    const ptrdiff_t i = &entry - kAotKernels;
    if (i < 0 || i >= kAotKernelCount || i >= 256) throw Error(std::string("no ISA slot for ") + entry.info.name);
    return slots[i];
}

void set_jit_provider(JitProvider *provider) {
    jit_provider.store(provider);
}

ResolvedKernel resolve(const KernelRequest &request, std::string *why) {
    const char *forced = std::getenv("SEPCONV_FORCE_KERNEL");
    const bool forced_aot = forced && *forced;
    JitProvider *jit = jit_provider.load();
    if (jit && !forced_aot && jit_policy() != JitPolicy::AotOnly) {
        const KernelInfo &aot = select_kernel(request);
        if (jit_policy() == JitPolicy::AlwaysJit || aot.specificity() == 0) {
            if (why) {
                *why = jit_policy() == JitPolicy::AlwaysJit ? "JIT policy: always"
                                                            : "JIT: only a generic AOT variant (" +
                                                                  std::string(aot.name) + ") matches";
            }
            return jit->kernel_for(request);
        }
    }
    const KernelEntry &e = entry_for(select_kernel(request, why));
    return {&e, &isa_slot(e), nullptr};
}

void set_last_kernel(const char *name) {
    last_kernel_name = name;
}

}  // namespace detail
}  // namespace sepconv
