#include "knobs.h"

#include "Halide.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace sepconv::schedules {

Knobs Knobs::parse(const std::string &text) {
    Knobs knobs;
    std::stringstream entries(text);
    std::string entry;
    while (std::getline(entries, entry, ',')) {
        if (entry.empty()) continue;
        const size_t eq = entry.find_first_of("=:");
        size_t used = 0;
        int value = 0;
        bool ok = eq != std::string::npos && eq > 0 && eq + 1 < entry.size();
        if (ok) {
            try {
                value = std::stoi(entry.substr(eq + 1), &used);
            } catch (const std::exception &) {
                ok = false;
            }
            ok = ok && used == entry.size() - eq - 1;
        }
        if (!ok) {
            throw std::invalid_argument("schedule knobs: expected name=integer (or name:integer), got '" + entry +
                                        "' in '" + text + "'");
        }
        knobs.values_[entry.substr(0, eq)] = value;
    }
    return knobs;
}

int Knobs::get(const std::string &name, int hand_value) const {
    read_.insert(name);
    auto it = values_.find(name);
    return it == values_.end() ? hand_value : it->second;
}

void Knobs::check_all_read(const std::string &schedule_name) const {
    std::string unread;
    for (const auto &[name, value] : values_) {
        if (!read_.count(name)) unread += (unread.empty() ? "" : ", ") + name;
    }
    if (!unread.empty()) {
        throw std::invalid_argument("schedule knobs: " + schedule_name + " has no knob named " + unread);
    }
}

std::string target_class(const Halide::Target &target) {
    using T = Halide::Target;
    if (target.has_feature(T::CUDA)) return "cuda";
    if (target.has_feature(T::OpenCL)) return "opencl";
    if (target.has_feature(T::Metal)) return "metal";
    if (target.has_feature(T::Vulkan)) return "vulkan";
    if (target.has_feature(T::D3D12Compute)) return "d3d12";
    if (target.has_feature(T::WebGPU)) return "webgpu";
    if (target.arch == T::ARM) return target.bits == 64 ? "arm64" : "arm32";
    if (target.arch == T::X86) {
        if (target.has_feature(T::AVX512)) return "avx512";
        if (target.has_feature(T::AVX2)) return "avx2";
        if (target.has_feature(T::SSE41)) return "sse41";
        return "x86";
    }
    return "other";
}

Knobs Knobs::for_target(const Halide::Target &target) const {
    static const std::set<std::string> classes = {"cuda",  "opencl", "metal", "vulkan", "d3d12", "webgpu",
                                                  "arm64", "arm32",  "avx512", "avx2",  "sse41", "x86", "other"};
    const std::string mine = target_class(target);
    Knobs out;
    for (int qualified = 0; qualified < 2; qualified++) {
        for (const auto &[name, value] : values_) {
            const size_t dot = name.find('.');
            if ((dot != std::string::npos) != (qualified != 0)) continue;
            if (dot == std::string::npos) {
                out.values_[name] = value;
                continue;
            }
            const std::string cls = name.substr(0, dot);
            if (!classes.count(cls)) {
                throw std::invalid_argument("schedule knobs: '" + name + "' is qualified by '" + cls +
                                            "', which is not a target class (avx512, avx2, sse41, x86, arm64, "
                                            "arm32, cuda, opencl, ...)");
            }
            if (cls == mine) out.values_[name.substr(dot + 1)] = value;
        }
    }
    return out;
}

std::string Knobs::str() const {
    std::string out;
    for (const auto &[name, value] : values_) out += (out.empty() ? "" : ",") + name + "=" + std::to_string(value);
    return out;
}

}  // namespace sepconv::schedules
