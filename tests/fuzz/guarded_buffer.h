// A float buffer whose end abuts an inaccessible page (any access past it
// faults at once) and whose start is preceded by canary bytes (a write
// before it is found by intact()).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace sepconv::fuzz {

class GuardedBuffer {
public:
    explicit GuardedBuffer(size_t elements) : elements_(elements) {
        page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
        const size_t bytes = elements * sizeof(float);
        // Room for the data, at least 64 canary bytes before it, and the guard page.
        usable_ = (bytes + kCanaryBytes + page_ - 1) / page_ * page_;
        void *p = mmap(nullptr, usable_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) std::abort();
        base_ = static_cast<uint8_t *>(p);
        if (mprotect(base_ + usable_, page_, PROT_NONE) != 0) std::abort();
        data_ = reinterpret_cast<float *>(base_ + usable_ - bytes);
        std::memset(base_, kCanary, usable_ - bytes);
    }
    ~GuardedBuffer() { munmap(base_, usable_ + page_); }
    GuardedBuffer(const GuardedBuffer &) = delete;
    GuardedBuffer &operator=(const GuardedBuffer &) = delete;

    float *data() { return data_; }
    size_t size() const { return elements_; }
    // The canary bytes before the data are untouched.
    bool intact() const {
        const uint8_t *end = reinterpret_cast<const uint8_t *>(data_);
        for (const uint8_t *p = base_; p < end; p++) {
            if (*p != kCanary) return false;
        }
        return true;
    }

private:
    static constexpr uint8_t kCanary = 0xA5;
    static constexpr size_t kCanaryBytes = 64;
    size_t elements_, page_, usable_;
    uint8_t *base_;
    float *data_;
};

}  // namespace sepconv::fuzz
