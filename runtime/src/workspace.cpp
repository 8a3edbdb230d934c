// The kernels' workspace cache.
//
// A schedule that computes an intermediate per tile inside a parallel loop
// (the fused separable's depthwise rows, a padded input strip, a packed weight
// panel) gets that scratch from halide_malloc once per task, so every call
// would go to the system heap hundreds of times. The cache keeps the blocks a
// thread frees and hands them back to that thread's next request that fits:
// after the first call with a shape, a call makes no heap allocation (checked
// by tests/allocation_test.cpp).
//
// Per thread, so there is no lock: Halide's workers are long-lived and each
// allocates and frees a task's scratch on its own thread. At most
// kWorkspaceBlocks blocks and kWorkspaceBytes bytes stay cached per thread
// (the oldest go first); larger blocks go straight back. A thread's blocks
// are released when it exits.
//
// Contract kept from halide_malloc: the upstream allocator's alignment, a
// size that is a multiple of it, readable bytes before the start (our header)
// and past the end (the upstream's own slack).
#include "workspace.h"

#include <cstdint>
#include <mutex>

#include "HalideRuntime.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEPCONV_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SEPCONV_ASAN 1
#endif
#ifdef SEPCONV_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace sepconv::detail {
namespace {

// A multiple of every halide_malloc alignment (32 on ARM, 64 on x86), so the
// data after the header keeps the upstream's alignment.
constexpr std::size_t kHeaderBytes = 128;

struct Header {
    std::size_t capacity;  // usable bytes after the header
};

// Set once, before the cache is installed.
halide_malloc_t upstream_malloc = nullptr;
halide_free_t upstream_free = nullptr;

enum class State : int { Fresh, Live, Exited };

// Trivially destructible and constant-initialized, so it is still readable
// while the thread exits (after CacheRelease below has run).
struct ThreadCache {
    void *blocks[kWorkspaceBlocks];
    std::size_t capacity[kWorkspaceBlocks];
    std::uint64_t freed_at[kWorkspaceBlocks];  // for evicting the oldest
    std::uint64_t clock;
    std::size_t cached_bytes;
    State state;
};
thread_local ThreadCache cache{};

// Cached blocks are off limits to the program: AddressSanitizer reports a
// kernel that touches its scratch after freeing it, as without the cache.
void poison(void *p, std::size_t n) {
#ifdef SEPCONV_ASAN
    ASAN_POISON_MEMORY_REGION(p, n);
#else
    (void)p, (void)n;
#endif
}
void unpoison(void *p, std::size_t n) {
#ifdef SEPCONV_ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
    (void)p, (void)n;
#endif
}

char *base_of(void *data) {
    return static_cast<char *>(data) - kHeaderBytes;
}

void release(void *user_context, ThreadCache &c, int slot) {
    unpoison(c.blocks[slot], c.capacity[slot]);
    upstream_free(user_context, base_of(c.blocks[slot]));
    c.cached_bytes -= c.capacity[slot];
    c.blocks[slot] = nullptr;
}

// Releases the thread's blocks when it exits.
struct CacheRelease {
    void touch() {}
    ~CacheRelease() {
        for (int i = 0; i < kWorkspaceBlocks; i++) {
            if (cache.blocks[i]) release(nullptr, cache, i);
        }
        cache.state = State::Exited;
    }
};
thread_local CacheRelease cache_release;

void *workspace_malloc(void *user_context, std::size_t size) {
    ThreadCache &c = cache;
    if (c.state == State::Fresh) {
        cache_release.touch();  // registers the release at thread exit
        c.state = State::Live;
    }
    if (c.state == State::Live) {
        int best = -1;  // the smallest block that fits
        for (int i = 0; i < kWorkspaceBlocks; i++) {
            if (c.blocks[i] && c.capacity[i] >= size && (best < 0 || c.capacity[i] < c.capacity[best])) best = i;
        }
        if (best >= 0) {
            void *data = c.blocks[best];
            c.blocks[best] = nullptr;
            c.cached_bytes -= c.capacity[best];
            unpoison(data, c.capacity[best]);
            return data;
        }
    }
    const std::size_t capacity = (size + kHeaderBytes - 1) / kHeaderBytes * kHeaderBytes;
    char *base = static_cast<char *>(upstream_malloc(user_context, kHeaderBytes + capacity));
    if (!base) return nullptr;
    reinterpret_cast<Header *>(base)->capacity = capacity;
    return base + kHeaderBytes;
}

void workspace_free(void *user_context, void *data) {
    if (!data) return;
    const std::size_t capacity = reinterpret_cast<Header *>(base_of(data))->capacity;
    ThreadCache &c = cache;
    if (c.state != State::Live || capacity > kWorkspaceBytes) {
        upstream_free(user_context, base_of(data));
        return;
    }
    // Make room: a free slot and the byte budget, evicting the oldest.
    auto free_slot = [&] {
        for (int i = 0; i < kWorkspaceBlocks; i++) {
            if (!c.blocks[i]) return i;
        }
        return -1;
    };
    while (free_slot() < 0 || c.cached_bytes + capacity > kWorkspaceBytes) {
        int oldest = -1;
        for (int i = 0; i < kWorkspaceBlocks; i++) {
            if (c.blocks[i] && (oldest < 0 || c.freed_at[i] < c.freed_at[oldest])) oldest = i;
        }
        release(user_context, c, oldest);
    }
    const int slot = free_slot();
    c.blocks[slot] = data;
    c.capacity[slot] = capacity;
    c.freed_at[slot] = ++c.clock;
    c.cached_bytes += capacity;
    poison(data, capacity);
}

}  // namespace

void install_workspace_cache() {
    static std::once_flag once;
    std::call_once(once, [] {
        // halide_set_custom_* return the allocator they replace: that pair
        // becomes the upstream (set before the cache is, so the cache never
        // runs without it). A block that another Halide pipeline on this
        // runtime allocated before this moment and frees after it would
        // reach the cache without a header: such pipelines must be idle at
        // sepconv's first kernel call (README, "Reliability").
        upstream_malloc = halide_set_custom_malloc(halide_default_malloc);
        upstream_free = halide_set_custom_free(halide_default_free);
        halide_set_custom_malloc(workspace_malloc);
        halide_set_custom_free(workspace_free);
    });
}

}  // namespace sepconv::detail
