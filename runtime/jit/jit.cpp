// The JIT: Halide compiles the same generators the AOT build uses, with every
// GeneratorParam the call allows fixed, into an object; the system C++
// compiler links it into a shared object in the disk cache; dlopen loads it.
// One path serves both caches: a kernel is always a cached .so, so a second
// process (or a later run) loads instead of compiling.
#include "sepconv/jit.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "Halide.h"
#include "dispatch.h"
#include "factory.h"
#include "sepconv/cpu.h"
#include "sepconv/error.h"

#ifndef SEPCONV_JIT_LINKER
#define SEPCONV_JIT_LINKER "c++"
#endif
#ifndef SEPCONV_CPU_SCHEDULE_FINGERPRINT
#define SEPCONV_CPU_SCHEDULE_FINGERPRINT "unknown"
#endif

namespace sepconv::jit {
namespace {

namespace fs = std::filesystem;
using detail::KernelEntry;
using detail::ResolvedKernel;

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The generator and the GeneratorParams that specialize it for a request.
struct Specialization {
    std::string generator;             // depthwise / pointwise / separable
    std::map<std::string, std::string> params;
    std::string function_name;         // sepconv_jit_f32_<op>_<shape>_<layout>
};

Specialization specialize(const KernelRequest &r) {
    Specialization s;
    const std::string layout = r.data_format == DataFormat::NHWC ? "nhwc" : "nchw";
    s.params["layout"] = layout;
    if (r.op == Op::Pointwise) {
        s.generator = "pointwise";
        s.function_name = std::string("sepconv_jit_f32_pwconv_") + (r.packed_weights ? "packed_" : "") + layout;
        if (r.packed_weights) s.params["weights_layout"] = "packed";
        return s;
    }
    s.generator = r.op == Op::Depthwise ? "depthwise" : "separable";
    if (r.packed_weights) s.params["weights_layout"] = "packed";
    s.params["kernel_h"] = std::to_string(r.kernel_h);
    s.params["kernel_w"] = std::to_string(r.kernel_w);
    s.params["multiplier"] = std::to_string(r.multiplier);
    // The generators fix one stride for both directions; unequal strides stay run-time.
    const bool one_stride = r.stride_h == r.stride_w;
    if (one_stride) s.params["stride"] = std::to_string(r.stride_h);
    s.function_name = std::string("sepconv_jit_f32_") + (r.op == Op::Depthwise ? "dwconv_" : "sepconv_") +
                      (r.packed_weights ? "packed_" : "") + std::to_string(r.kernel_h) + "x" +
                      std::to_string(r.kernel_w) + "m" + std::to_string(r.multiplier) +
                      (one_stride ? "s" + std::to_string(r.stride_h) : "") + "_" + layout;
    return s;
}

// FNV-1a, 64-bit: a stable file name for a cache key.
std::string hash_hex(const std::string &text) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::string default_cache_dir() {
    if (const char *d = std::getenv("SEPCONV_JIT_CACHE_DIR"); d && *d) return d;
    if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/sepconv/jit";
    if (const char *home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/sepconv/jit";
    return "";
}

// A loaded kernel; unloads (dlclose) when the last user lets go.
struct LoadedKernel {
    std::string name;
    KernelEntry entry{};
    std::atomic<int> isa{-1};
    void *handle = nullptr;
    ~LoadedKernel() {
        if (handle) dlclose(handle);
    }
};

class Jit final : public detail::JitProvider {
public:
    explicit Jit(Options o) : options_(std::move(o)), target_(options_.target) {
        if (options_.cache_dir.empty()) options_.cache_dir = default_cache_dir();
        if (options_.cache_dir.empty()) {
            scratch_dir_ = fs::temp_directory_path() / ("sepconv-jit-" + std::to_string(getpid()));
        }
        // Every kernel the host runs is compiled for its best features at once.
        if (options_.target == "host") target_ = Halide::get_host_target();
    }
    ~Jit() override {
        if (!scratch_dir_.empty()) {
            std::error_code ec;
            fs::remove_all(scratch_dir_, ec);
        }
    }

    ResolvedKernel kernel_for(const KernelRequest &request) override {
        const Specialization spec = specialize(request);
        const std::string key = cache_key(spec);
        std::shared_future<std::shared_ptr<LoadedKernel>> pending;
        bool produce = false;
        std::promise<std::shared_ptr<LoadedKernel>> promise;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = memory_.find(key);
            if (it != memory_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second.lru_position);
                stats_.memory_hits++;
                pending = it->second.kernel;
            } else {
                pending = promise.get_future().share();
                lru_.push_front(key);
                memory_[key] = {pending, lru_.begin()};
                produce = true;
                evict_locked();
            }
        }
        if (produce) {
            try {
                promise.set_value(produce_kernel(spec, key));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                auto it = memory_.find(key);
                if (it != memory_.end()) {
                    lru_.erase(it->second.lru_position);
                    memory_.erase(it);
                }
                promise.set_exception(std::current_exception());
            }
        }
        std::shared_ptr<LoadedKernel> k = pending.get();
        return {&k->entry, &k->isa, k};
    }

    std::vector<KernelStats> kernels() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return kernel_stats_;
    }
    CacheStats cache_stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }
    std::string cache_dir() const { return options_.cache_dir; }

private:
    struct MemoryEntry {
        std::shared_future<std::shared_ptr<LoadedKernel>> kernel;
        std::list<std::string>::iterator lru_position;
    };

    fs::path directory() const { return scratch_dir_.empty() ? fs::path(options_.cache_dir) : scratch_dir_; }

    std::string cache_key(const Specialization &s) const {
        std::ostringstream text;
        text << s.generator << ';' << s.function_name;
        for (const auto &[k, v] : s.params) text << ';' << k << '=' << v;
        text << ";target=" << target_.to_string() << ";halide=" << HALIDE_VERSION_MAJOR << '.'
             << HALIDE_VERSION_MINOR << '.' << HALIDE_VERSION_PATCH << ";schedule=" << SEPCONV_CPU_SCHEDULE_FINGERPRINT;
        return s.function_name + "-" + hash_hex(text.str());
    }

    // Caller holds mutex_. Kernels in use stay loaded (shared_ptr) until released.
    void evict_locked() {
        while (lru_.size() > std::max<size_t>(1, options_.memory_entries)) {
            memory_.erase(lru_.back());
            lru_.pop_back();
            stats_.evictions++;
        }
    }

    std::shared_ptr<LoadedKernel> produce_kernel(const Specialization &spec, const std::string &key) {
        fs::create_directories(directory());
        const fs::path so = directory() / (key + ".so");
        KernelStats ks;
        ks.name = spec.function_name;
        ks.cache_key = key;
        ks.from_disk = fs::exists(so);
        if (!ks.from_disk) {
            const auto t0 = std::chrono::steady_clock::now();
            compile(spec, so);
            ks.compile_ms = ms_since(t0);
        }
        const auto t1 = std::chrono::steady_clock::now();
        auto k = load(spec, so);
        ks.load_ms = ms_since(t1);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            (ks.from_disk ? stats_.disk_hits : stats_.compiles)++;
            kernel_stats_.push_back(ks);
        }
        if (const char *v = std::getenv("SEPCONV_VERBOSE"); v && *v && std::string(v) != "0") {
            std::fprintf(stderr, "sepconv: JIT %s %s (compile %.0f ms, load %.1f ms)\n", ks.name.c_str(),
                         ks.from_disk ? "loaded from disk cache" : "compiled", ks.compile_ms, ks.load_ms);
        }
        return k;
    }

    // The kernel's shared object carries its own copy of the Halide runtime
    // (loaded RTLD_LOCAL): left alone, its parallel loops ran on a thread pool
    // of its own, as many threads as cores whatever halide_set_num_threads
    // said (`sepconv run --jit --threads 1` used both cores of a 2-core
    // machine), its scratch bypassed the workspace cache and its errors were
    // printed instead of captured. Its hooks now call the process's runtime,
    // the one the AOT kernels use: one thread pool, one allocator, one error
    // handler. `symbol` looks a name up in the kernel's object.
    template <typename Symbol>
    static void use_the_process_runtime(Symbol symbol) {
        auto in_kernel = [&](auto process_function, const char *name) {
            return reinterpret_cast<decltype(process_function)>(symbol(name));
        };
        in_kernel(&halide_set_custom_parallel_runtime, "halide_set_custom_parallel_runtime")(
            halide_do_par_for, halide_do_task, halide_do_loop_task, halide_do_parallel_tasks, halide_semaphore_init,
            halide_semaphore_try_acquire, halide_semaphore_release);
        in_kernel(&halide_set_custom_malloc, "halide_set_custom_malloc")(halide_malloc);
        in_kernel(&halide_set_custom_free, "halide_set_custom_free")(halide_free);
        in_kernel(&halide_set_error_handler, "halide_set_error_handler")(halide_error);
    }

    // Halide: generator -> object (with the Halide runtime in it); the C++
    // compiler: object -> shared object. Written under temporary names and
    // renamed, so concurrent processes never see a partial file.
    void compile(const Specialization &spec, const fs::path &so) {
        const std::string tmp = so.string() + ".tmp." + std::to_string(getpid()) + "." +
                                std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
        {
            // Halide's compiler state is global enough that one compile at a time is the safe choice.
            static std::mutex compile_mutex;
            std::lock_guard<std::mutex> lock(compile_mutex);
            const Halide::GeneratorContext context(target_);
            auto gen = create_generator(spec.generator, context);
            for (const auto &[k, v] : spec.params) gen->set_generatorparam_value(k, v);
            Halide::Module module = gen->build_module(spec.function_name);
            module.compile({{Halide::OutputFileType::object, tmp + ".o"}});
        }
        const std::string command = std::string(SEPCONV_JIT_LINKER) + " -shared -o '" + tmp + ".so' '" + tmp +
                                    ".o' -lpthread -ldl 2>&1";
        std::string output;
        FILE *p = popen(command.c_str(), "r");
        if (!p) throw std::runtime_error("sepconv JIT: cannot run the linker: " + command);
        char buf[256];
        while (fgets(buf, sizeof(buf), p)) output += buf;
        const int status = pclose(p);
        std::error_code ec;
        fs::remove(tmp + ".o", ec);
        if (status != 0) {
            fs::remove(tmp + ".so", ec);
            throw std::runtime_error("sepconv JIT: linking " + spec.function_name + " failed (" + command +
                                     "): " + output);
        }
        fs::rename(tmp + ".so", so);
    }

    std::shared_ptr<LoadedKernel> load(const Specialization &spec, const fs::path &so) {
        auto k = std::make_shared<LoadedKernel>();
        k->name = spec.function_name;
        k->handle = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!k->handle) throw std::runtime_error(std::string("sepconv JIT: dlopen failed: ") + dlerror());
        auto symbol = [&](const std::string &name) {
            void *p = dlsym(k->handle, name.c_str());
            if (!p) throw std::runtime_error("sepconv JIT: " + so.string() + " lacks " + name);
            return p;
        };
        void *fn = symbol(spec.function_name);
        use_the_process_runtime(symbol);
        KernelInfo &info = k->entry.info;
        info.name = k->name.c_str();
        info.data_format = spec.params.at("layout") == "nhwc" ? DataFormat::NHWC : DataFormat::NCHW;
        auto param = [&](const char *name) {
            auto it = spec.params.find(name);
            return it == spec.params.end() ? 0 : std::stoi(it->second);
        };
        info.kernel_h = param("kernel_h");
        info.kernel_w = param("kernel_w");
        info.multiplier = param("multiplier");
        info.stride = param("stride");
        info.packed_weights = spec.params.count("weights_layout") && spec.params.at("weights_layout") == "packed";
        if (spec.generator == "depthwise") {
            info.op = Op::Depthwise;
            k->entry.depthwise = reinterpret_cast<detail::DepthwiseFn>(fn);
        } else if (spec.generator == "pointwise") {
            info.op = Op::Pointwise;
            k->entry.pointwise = reinterpret_cast<detail::PointwiseFn>(fn);
        } else {
            info.op = Op::Separable;
            k->entry.separable = reinterpret_cast<detail::SeparableFn>(fn);
        }
        // Compiled for this host's target: its best level, known up front.
        k->isa = target_.has_feature(Halide::Target::AVX512) ? static_cast<int>(Isa::Avx512)
                 : target_.has_feature(Halide::Target::AVX2) ? static_cast<int>(Isa::Avx2)
                 : target_.has_feature(Halide::Target::SSE41) ? static_cast<int>(Isa::Sse41)
                                                               : static_cast<int>(Isa::Baseline);
        return k;
    }

    Options options_;
    Halide::Target target_;
    fs::path scratch_dir_;  // when there is no disk cache: a per-process directory
    mutable std::mutex mutex_;
    std::map<std::string, MemoryEntry> memory_;
    std::list<std::string> lru_;  // most recently used first
    std::vector<KernelStats> kernel_stats_;
    CacheStats stats_;
};

std::mutex instance_mutex;
std::unique_ptr<Jit> &instance() {
    static std::unique_ptr<Jit> jit;
    return jit;
}

}  // namespace

void enable(const Options &options) {
    std::lock_guard<std::mutex> lock(instance_mutex);
    auto next = std::make_unique<Jit>(options);
    detail::set_jit_provider(next.get());
    // The previous instance may be in use by a call in flight: keep it alive.
    static std::vector<std::unique_ptr<Jit>> retired;
    if (instance()) retired.push_back(std::move(instance()));
    instance() = std::move(next);
    set_jit_policy(options.policy);
    if (const char *env = std::getenv("SEPCONV_JIT"); env && *env) {
        const std::string v(env);
        set_jit_policy(v == "aot" ? JitPolicy::AotOnly : v == "always" ? JitPolicy::AlwaysJit
                                                                         : JitPolicy::JitWhenNoSpecializedAot);
    }
}

void disable() {
    std::lock_guard<std::mutex> lock(instance_mutex);
    detail::set_jit_provider(nullptr);
}

std::vector<KernelStats> kernels() {
    std::lock_guard<std::mutex> lock(instance_mutex);
    return instance() ? instance()->kernels() : std::vector<KernelStats>{};
}

CacheStats cache_stats() {
    std::lock_guard<std::mutex> lock(instance_mutex);
    return instance() ? instance()->cache_stats() : CacheStats{};
}

std::string cache_dir() {
    std::lock_guard<std::mutex> lock(instance_mutex);
    return instance() ? instance()->cache_dir() : "";
}

}  // namespace sepconv::jit
