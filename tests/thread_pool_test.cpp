// The pool the kernels' parallel loops run on (runtime/src/thread_pool.cpp):
// its size, Halide's parallel loops on it (on two threads, nested, failing,
// from a second caller while it is busy), and kernels giving the same bits
// on any number of threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "HalideRuntime.h"
#include "harness.h"
#include "sepconv/cpu.h"
#include "sepconv/ops.h"

namespace sepconv {
namespace {

using Clock = std::chrono::steady_clock;

// Waits (at most 10 s, so that a broken pool fails instead of hanging) for `done`.
template <typename Done>
bool wait_for(Done done) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

TEST(ThreadPool, RejectsFewerThanOneThread) {
    try {
        set_num_threads(0);
        FAIL() << "set_num_threads(0) returned";
    } catch (const std::invalid_argument &e) {
        EXPECT_STREQ(e.what(), "sepconv::set_num_threads: threads must be at least 1, got 0");
    }
}

TEST(ThreadPool, HasTheSizeSet) {
    for (int n : {2, 1, 3}) {
        set_num_threads(n);
        EXPECT_EQ(num_threads(), n);
    }
}

// Tasks that each wait for the other: they finish only on two threads at once.
struct Rendezvous {
    std::atomic<int> arrived{0};
    std::mutex mutex;
    std::set<std::thread::id> threads;
};

int meet(void *, int, uint8_t *closure) {
    auto *r = reinterpret_cast<Rendezvous *>(closure);
    {
        std::lock_guard<std::mutex> lock(r->mutex);
        r->threads.insert(std::this_thread::get_id());
    }
    r->arrived++;
    return wait_for([&] { return r->arrived.load() >= 2; }) ? 0 : -1;
}

TEST(ThreadPool, RunsHalidesParallelLoopsOnItsThreads) {
#ifndef SEPCONV_HAVE_PTHREADPOOL
    GTEST_SKIP() << "this build has no pthreadpool: the loops run on Halide's own pool";
#endif
    set_num_threads(2);
    const halide_do_par_for_t installed = halide_set_custom_do_par_for(halide_default_do_par_for);
    halide_set_custom_do_par_for(installed);
    EXPECT_NE(installed, halide_default_do_par_for);

    Rendezvous r;
    EXPECT_EQ(halide_do_par_for(nullptr, meet, 0, 2, reinterpret_cast<uint8_t *>(&r)), 0);
    EXPECT_EQ(r.threads.size(), 2u);
}

std::atomic<int> inner_tasks{0};
int inner(void *, int, uint8_t *) {
    inner_tasks++;
    return 0;
}
int outer(void *user_context, int, uint8_t *) {
    return halide_do_par_for(user_context, inner, 0, 4, nullptr);
}

TEST(ThreadPool, NestedLoopsRunEveryTask) {
    set_num_threads(2);
    EXPECT_EQ(halide_do_par_for(nullptr, outer, 0, 8, nullptr), 0);
    EXPECT_EQ(inner_tasks.load(), 32);
}

int fails_at_five(void *, int i, uint8_t *) {
    return i == 5 ? -7 : 0;
}

TEST(ThreadPool, AFailingTaskFailsTheLoop) {
    set_num_threads(2);
    EXPECT_EQ(halide_do_par_for(nullptr, fails_at_five, 0, 16, nullptr), -7);
}

// Caller A's tasks hold both threads of the pool until caller B's loop is
// done: B's loop, finding the pool busy, runs on B's own thread.
struct Busy {
    std::atomic<bool> a_running{false}, b_done{false};
    std::mutex mutex;
    std::set<std::thread::id> b_threads;
};

int hold_until_b_is_done(void *, int, uint8_t *closure) {
    auto *busy = reinterpret_cast<Busy *>(closure);
    busy->a_running = true;
    return wait_for([&] { return busy->b_done.load(); }) ? 0 : -1;
}
int record_b(void *, int, uint8_t *closure) {
    auto *busy = reinterpret_cast<Busy *>(closure);
    std::lock_guard<std::mutex> lock(busy->mutex);
    busy->b_threads.insert(std::this_thread::get_id());
    return 0;
}

TEST(ThreadPool, ASecondCallerRunsOnItsOwnThreadWhileThePoolIsBusy) {
#ifndef SEPCONV_HAVE_PTHREADPOOL
    GTEST_SKIP() << "this build has no pthreadpool: the loops run on Halide's own pool";
#endif
    set_num_threads(2);
    Busy busy;
    int a_result = 1;
    std::thread a([&] { a_result = halide_do_par_for(nullptr, hold_until_b_is_done, 0, 2, reinterpret_cast<uint8_t *>(&busy)); });
    ASSERT_TRUE(wait_for([&] { return busy.a_running.load(); }));
    std::thread::id b_id;
    int b_result = 1;
    std::thread b([&] {
        b_id = std::this_thread::get_id();
        b_result = halide_do_par_for(nullptr, record_b, 0, 8, reinterpret_cast<uint8_t *>(&busy));
        busy.b_done = true;
    });
    b.join();
    a.join();
    EXPECT_EQ(a_result, 0);
    EXPECT_EQ(b_result, 0);
    EXPECT_EQ(busy.b_threads, std::set<std::thread::id>{b_id});
}

// The same call on 1, 2 and 3 threads: the tiles do not depend on the thread
// count, so neither do the bits.
TEST(ThreadPool, KernelsGiveTheSameBitsOnAnyNumberOfThreads) {
    std::mt19937 rng(7);
    const auto in = testing::random_floats(rng, 2 * 29 * 31 * 24), dw = testing::random_floats(rng, 3 * 3 * 24),
               pw = testing::random_floats(rng, 24 * 40);
    Conv2DOptions o;
    o.padding = Padding::same();
    std::vector<std::vector<float>> outputs;
    for (int n : {1, 2, 3}) {
        set_num_threads(n);
        std::vector<float> out(2 * 29 * 31 * 40);
        separable_conv2d(ConstTensor(in.data(), {2, 29, 31, 24}), ConstTensor(dw.data(), {3, 3, 24, 1}),
                         ConstTensor(pw.data(), {1, 1, 24, 40}), std::nullopt, MutableTensor(out.data(), {2, 29, 31, 40}), o);
        outputs.push_back(out);
    }
    EXPECT_EQ(outputs[0], outputs[1]);
    EXPECT_EQ(outputs[0], outputs[2]);
}

}  // namespace
}  // namespace sepconv
