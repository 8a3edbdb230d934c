#include "sepconv/registry.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>

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

// Every variant calls can run: registered ones (latest first), then the
// built-in table; each with the ISA slot its multi-target library reports to.
struct Registry {
    std::mutex mutex;
    std::vector<const detail::KernelEntry *> entries;
    std::vector<std::atomic<int> *> isa;
    std::deque<std::atomic<int>> isa_storage;  // stable addresses
    std::vector<KernelInfo> infos;

    Registry() {
        for (int i = 0; i < detail::kAotKernelCount; i++) add(&detail::kAotKernels[i], entries.size());
    }
    void add(const detail::KernelEntry *e, size_t at) {
        isa_storage.emplace_back(-1);
        entries.insert(entries.begin() + at, e);
        isa.insert(isa.begin() + at, &isa_storage.back());
        infos.insert(infos.begin() + at, e->info);
    }
};

Registry &registry() {
    static Registry r;
    return r;
}

}  // namespace

void register_kernels(const KernelEntry *table, int count) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    // Checked whole before any is added: a bad table changes nothing.
    std::vector<const KernelEntry *> added;
    for (int i = 0; i < count; i++) {
        const KernelEntry &e = table[i];
        if (std::find(r.entries.begin(), r.entries.end(), &e) != r.entries.end()) continue;
        for (const KernelEntry *other : r.entries) {
            if (!std::strcmp(other->info.name, e.info.name))
                throw Error(std::string("register_kernels: a kernel named ") + e.info.name + " is already registered");
        }
        for (const KernelEntry *other : added) {
            if (!std::strcmp(other->info.name, e.info.name))
                throw Error(std::string("register_kernels: the table names ") + e.info.name + " twice");
        }
        const bool has_entry = e.info.op == Op::Depthwise   ? e.depthwise != nullptr
                               : e.info.op == Op::Pointwise ? e.pointwise != nullptr
                                                            : e.separable != nullptr;
        if (!has_entry) {
            throw Error(std::string("register_kernels: kernel ") + e.info.name + " has no entry point for its op (" +
                        to_string(e.info.op) + ")");
        }
        added.push_back(&e);
    }
    for (size_t i = 0; i < added.size(); i++) r.add(added[i], i);  // first, in the table's order
}

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
    if (op != r.op || data_format != r.data_format || packed_weights != r.packed_weights) return false;
    if (op == Op::Pointwise) return true;
    return fixed_matches(kernel_h, r.kernel_h) && fixed_matches(kernel_w, r.kernel_w) &&
           fixed_matches(multiplier, r.multiplier) &&
           (stride == 0 || (r.stride_h == stride && r.stride_w == stride)) &&
           (channels == 0 || (r.channels == channels && r.dense_columns));
}

int KernelInfo::specificity() const {
    return (kernel_h != 0) + (kernel_w != 0) + (multiplier != 0) + (stride != 0) + (channels != 0);
}

const std::vector<KernelInfo> &aot_kernels() {
    return registry().infos;
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
                            "x" + std::to_string(request.stride_w) + ", " + std::to_string(request.channels) +
                            (request.dense_columns ? " channels in dense columns, " : " channels, ") +
                            to_string(request.data_format) +
                            (request.packed_weights ? ", packed weights" : ", TF weights") + ")");
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
                    to_string(request.data_format) + (request.packed_weights ? " with packed weights" : ""));
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

// `info` is one of aot_kernels(): the same position in the registry.
const KernelEntry &entry_for(const KernelInfo &info) {
    Registry &r = registry();
    const ptrdiff_t i = &info - r.infos.data();
    if (i < 0 || i >= static_cast<ptrdiff_t>(r.infos.size())) throw Error(std::string("unknown kernel ") + info.name);
    return *r.entries[i];
}

std::atomic<int> &isa_slot(const KernelEntry &entry) {
    Registry &r = registry();
    for (size_t i = 0; i < r.entries.size(); i++) {
        if (r.entries[i] == &entry) return *r.isa[i];
    }
    throw Error(std::string("no ISA slot for ") + entry.info.name);
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
