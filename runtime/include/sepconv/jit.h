// The optional JIT (library sepconv_jit, which links libHalide): kernels
// compiled at run time for exactly a call's parameters, cached in memory and
// on disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sepconv/registry.h"

namespace sepconv::jit {

struct Options {
    // Where compiled kernels are kept across processes. Default:
    // $SEPCONV_JIT_CACHE_DIR, else $XDG_CACHE_HOME/sepconv/jit, else
    // ~/.cache/sepconv/jit. Empty after defaults: no disk cache.
    std::string cache_dir;
    // Kernels kept loaded in memory (least recently used ones are unloaded).
    size_t memory_entries = 32;
    // The Halide target kernels are compiled for.
    std::string target = "host";
    // The policy set on enable() (see registry.h); SEPCONV_JIT overrides it.
    JitPolicy policy = JitPolicy::JitWhenNoSpecializedAot;
};

// Installs the JIT into the runtime's dispatch. Call again to change options
// (the memory cache is emptied).
void enable(const Options &options = {});
// Back to AOT kernels only.
void disable();

// One kernel the JIT produced in this process.
struct KernelStats {
    std::string name;        // e.g. sepconv_jit_f32_dwconv_3x3m2s1_nhwc
    std::string cache_key;   // file name stem in the disk cache
    bool from_disk = false;  // loaded from the disk cache (else compiled here)
    double compile_ms = 0;   // Halide compile + link time (0 when from disk)
    double load_ms = 0;      // dlopen time
};

struct CacheStats {
    int64_t memory_hits = 0, disk_hits = 0, compiles = 0, evictions = 0;
};

std::vector<KernelStats> kernels();
CacheStats cache_stats();
// The directory in use ("" when there is no disk cache).
std::string cache_dir();

}  // namespace sepconv::jit
