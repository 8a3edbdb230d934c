// Resolving a call to a runnable kernel: an AOT variant, or (through the
// optional JIT provider) a kernel compiled for exactly this call.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "kernel_abi.h"

namespace sepconv::detail {

// A kernel ready to call. `owner` keeps a JIT kernel loaded while it runs.
struct ResolvedKernel {
    const KernelEntry *entry = nullptr;
    std::atomic<int> *isa = nullptr;  // the ISA level its code chose (see cpu.cpp)
    std::shared_ptr<const void> owner;
};

// Implemented by the sepconv_jit library; installed by sepconv::jit::enable().
class JitProvider {
public:
    virtual ~JitProvider() = default;
    // A kernel specialized for `request`, compiled or from the caches.
    virtual ResolvedKernel kernel_for(const KernelRequest &request) = 0;
};

void set_jit_provider(JitProvider *provider);

// The kernel a call runs, by the JIT policy and the registry; `why` says why.
ResolvedKernel resolve(const KernelRequest &request, std::string *why);

}  // namespace sepconv::detail
