// The thread pool the kernels' parallel loops run on.
//
// Halide compiles a parallel loop into a call of halide_do_par_for. Halide's
// own pool puts its workers to sleep on a condition variable as soon as its
// queue is empty, so on small layers, where a call takes tens of µs, every
// call paid a wake-up of each worker: 15% of the samples of a fused MobileNet
// v2 layer on two threads (bench/results/README.md, item 16). The peers keep
// their workers spinning a while between calls: oneDNN through OpenMP,
// XNNPACK through pthreadpool. sepconv's halide_do_par_for runs the loop on a
// pthreadpool, the pool XNNPACK uses: its workers spin-wait for the next loop
// before they sleep. Where the build has no pthreadpool (the ARM cross
// build), the loops stay on Halide's pool.
#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "HalideRuntime.h"
#include "sepconv/cpu.h"

#ifdef SEPCONV_HAVE_PTHREADPOOL
#include <pthreadpool.h>
#endif

// ThreadSanitizer sees no synchronization inside pthreadpool (an
// uninstrumented library handing work over through atomics): the hand-offs
// of a loop to the pool's threads and back are told to it here.
#if defined(__SANITIZE_THREAD__)
#define SEPCONV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SEPCONV_TSAN 1
#endif
#endif
#ifdef SEPCONV_TSAN
#include <sanitizer/tsan_interface.h>
#define SEPCONV_HAPPENS_BEFORE(addr) __tsan_release(addr)
#define SEPCONV_HAPPENS_AFTER(addr) __tsan_acquire(addr)
#else
#define SEPCONV_HAPPENS_BEFORE(addr) static_cast<void>(addr)
#define SEPCONV_HAPPENS_AFTER(addr) static_cast<void>(addr)
#endif

namespace sepconv {
namespace {

// HL_NUM_THREADS, Halide's variable, sizes the pool too; else every core.
int default_threads() {
    if (const char *v = std::getenv("HL_NUM_THREADS"); v && *v) {
        const int n = std::atoi(v);
        if (n > 0) return n;
    }
    return 0;  // pthreadpool_create(0): one thread per logical processor
}

#ifdef SEPCONV_HAVE_PTHREADPOOL

// Held by the call whose loop runs on the pool, and to resize the pool.
std::mutex pool_mutex;
pthreadpool_t pool = nullptr;  // nullptr: one thread, loops run on the caller
int pool_threads = 0;          // 0 until set_num_threads() or the default sizes it

// Caller holds pool_mutex. `threads` 0: one per logical processor.
void resize_locked(int threads) {
    if (pool) pthreadpool_destroy(pool);
    pool = nullptr;
    pool_threads = 1;
    if (threads != 1) {
        pool = pthreadpool_create(static_cast<size_t>(threads));
        if (!pool) throw std::runtime_error("sepconv: cannot create a thread pool of " + std::to_string(threads) +
                                            " threads");
        pool_threads = static_cast<int>(pthreadpool_get_threads_count(pool));
        if (pool_threads == 1) {
            pthreadpool_destroy(pool);
            pool = nullptr;
        }
    }
}

// Caller holds pool_mutex: sizes the pool by default_threads() unless it is sized.
void size_by_default_locked() {
    if (pool_threads == 0) resize_locked(default_threads());
}

// A task running on the pool runs a nested parallel loop serially: the pool
// runs one loop at a time. (A loop of one task, or one run on its caller's
// thread because the pool was busy, leaves the pool to its nested loops.)
thread_local bool inside_parallel_loop = false;

struct ParallelLoop {
    void *user_context;
    halide_task_t task;
    int min;
    uint8_t *closure;
    std::atomic<int> result{0};  // the first failing task's code
};

void run_task(void *context, size_t i) {
    auto *loop = static_cast<ParallelLoop *>(context);
    SEPCONV_HAPPENS_AFTER(loop);
    const bool outer = inside_parallel_loop;
    inside_parallel_loop = true;
    const int r = loop->task(loop->user_context, loop->min + static_cast<int>(i), loop->closure);
    inside_parallel_loop = outer;
    int no_error = 0;
    if (r != 0) loop->result.compare_exchange_strong(no_error, r);
    SEPCONV_HAPPENS_BEFORE(loop);
}

int run_serially(void *user_context, halide_task_t task, int min, int size, uint8_t *closure) {
    int result = 0;
    for (int i = min; i < min + size && result == 0; i++) result = task(user_context, i, closure);
    return result;
}

// halide_do_par_for: tasks min .. min + size - 1. A loop that finds the pool
// running another caller's loop runs on its own thread instead of waiting.
int do_par_for_on_pool(void *user_context, halide_task_t task, int min, int size, uint8_t *closure) {
    if (size <= 0) return 0;
    if (size == 1 || inside_parallel_loop) return run_serially(user_context, task, min, size, closure);
    std::unique_lock<std::mutex> lock(pool_mutex, std::try_to_lock);
    if (!lock.owns_lock() || !pool) return run_serially(user_context, task, min, size, closure);
    ParallelLoop loop{user_context, task, min, closure};
    SEPCONV_HAPPENS_BEFORE(&loop);
    pthreadpool_parallelize_1d(pool, run_task, &loop, static_cast<size_t>(size), 0);
    SEPCONV_HAPPENS_AFTER(&loop);
    return loop.result.load();
}

#else

std::atomic<int> halide_pool_threads{0};  // set_num_threads(); 0: Halide's default

#endif  // SEPCONV_HAVE_PTHREADPOOL

}  // namespace

void set_num_threads(int threads) {
    if (threads < 1) {
        throw std::invalid_argument("sepconv::set_num_threads: threads must be at least 1, got " +
                                    std::to_string(threads));
    }
#ifdef SEPCONV_HAVE_PTHREADPOOL
    {
        std::lock_guard<std::mutex> lock(pool_mutex);  // waits for a loop in flight
        resize_locked(threads);
    }
    detail::install_thread_pool();  // kernels called outside sepconv's API (Halide's own) run on it too
#else
    halide_pool_threads = threads;
#endif
    // Halide's pool serves what does not go through halide_do_par_for.
    halide_set_num_threads(threads);
}

int num_threads() {
#ifdef SEPCONV_HAVE_PTHREADPOOL
    std::lock_guard<std::mutex> lock(pool_mutex);
    size_by_default_locked();
    return pool_threads;
#else
    if (const int n = halide_pool_threads.load(); n > 0) return n;
    if (const int n = default_threads(); n > 0) return n;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
#endif
}

namespace detail {

void install_thread_pool() {
#ifdef SEPCONV_HAVE_PTHREADPOOL
    static std::once_flag once;
    std::call_once(once, [] {
        {
            std::lock_guard<std::mutex> lock(pool_mutex);
            size_by_default_locked();
        }
        // A parallel runtime the application installed itself stays in place.
        const halide_do_par_for_t previous = halide_set_custom_do_par_for(do_par_for_on_pool);
        if (previous != halide_default_do_par_for) halide_set_custom_do_par_for(previous);
    });
#endif
}

}  // namespace detail
}  // namespace sepconv
