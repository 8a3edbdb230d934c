// `sepconv generate`: one kernel variant, ahead of time, for builds that do
// not use CMake (which use sepconv_add_kernels instead). Runs the same Halide
// generators as the CMake build, in this process, and writes
// <name>.a (or .o) and <name>.h, plus the lowered statement or assembly for
// inspection.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "Halide.h"
#include "command.h"

namespace sepconv::tools {
namespace {

const char *const kUsage = R"(usage: sepconv generate --op depthwise|pointwise|separable [options]

Writes <name>.a and <name>.h (the Halide function <name>(), the argument list
of sepconv's kernels; see runtime/include/sepconv/kernel_table.h) into --output.

  --op OP            the operation (required)
  --kernel KHxKW     fix the kernel size (e.g. 3x3; default: given at run time)
  --multiplier M     fix the depth multiplier (default: run time)
  --stride S         fix the stride, both dimensions (default: run time)
  --channels C       depthwise and separable, NHWC: fix the input's channel
                     count, with dense columns (a per-layer kernel; default:
                     run time)
  --layout L         nhwc (default) or nchw
  --packed-weights   pointwise and separable: the pointwise weights packed once
                     by the caller (sepconv::PackedPointwiseFilter's layout)
                     instead of TF's
  --target T[,T...]  Halide target(s), best first (default: host); several make
                     one library that picks the first the CPU runs
  --name NAME        function and file name (default: sepconv_f32_<op>_<shape>_<layout>)
  --output DIR       where the files go (default: .)
  --object           write <name>.o instead of <name>.a
  --no-runtime       leave out the Halide runtime (when linking several kernels
                     with one runtime; by default each file carries its own,
                     with weak symbols, so several still link)
  --stmt             also write <name>.stmt (the lowered loop nest)
  --assembly         also write <name>.s
  --knobs K=V,...    schedule knob overrides (schedules/knobs.h)
)";

struct Spec {
    std::string op, layout = "nhwc", name, output = ".", targets = "host", knobs;
    int kernel_h = 0, kernel_w = 0, multiplier = 0, stride = 0, channels = 0;
    bool object = false, no_runtime = false, stmt = false, assembly = false, packed_weights = false;
};

int usage_error(const std::string &message) {
    std::fprintf(stderr, "sepconv generate: %s\n\n%s", message.c_str(), kUsage);
    return 2;
}

bool parse_positive(const char *text, int *out) {
    char *end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (!*text || *end || v <= 0 || v > 1 << 20) return false;
    *out = static_cast<int>(v);
    return true;
}

// The default name says what is fixed, like the built-in variants
// (sepconv_f32_dwconv_3x3m1s1_nhwc; 3x3s2 when the multiplier is not fixed;
// 3x3m1s1c128 with the channel count, as sepconv_add_kernels ... CHANNELS).
std::string default_name(const Spec &s) {
    const std::string short_op =
        std::string(s.op == "depthwise" ? "dwconv" : s.op == "pointwise" ? "pwconv" : "sepconv") +
        (s.packed_weights ? "_packed" : "");
    if (s.op == "pointwise") return "sepconv_f32_" + short_op + "_" + s.layout;
    std::string shape = s.kernel_h ? std::to_string(s.kernel_h) + "x" + std::to_string(s.kernel_w) : "";
    if (s.multiplier) shape += "m" + std::to_string(s.multiplier);
    if (s.stride) shape += "s" + std::to_string(s.stride);
    if (s.channels) shape += "c" + std::to_string(s.channels);
    if (shape.empty()) shape = "generic";
    return "sepconv_f32_" + short_op + "_" + shape + "_" + s.layout;
}

int run(int argc, char **argv) {
    Spec s;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto value = [&]() -> const char * { return i + 1 < argc ? argv[++i] : nullptr; };
        const char *v = nullptr;
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        } else if (a == "--object") {
            s.object = true;
        } else if (a == "--no-runtime") {
            s.no_runtime = true;
        } else if (a == "--packed-weights") {
            s.packed_weights = true;
        } else if (a == "--stmt") {
            s.stmt = true;
        } else if (a == "--assembly") {
            s.assembly = true;
        } else if (!(v = value())) {
            return usage_error("'" + a + "' needs a value or is unknown");
        } else if (a == "--op") {
            s.op = v;
        } else if (a == "--layout") {
            s.layout = v;
        } else if (a == "--name") {
            s.name = v;
        } else if (a == "--output") {
            s.output = v;
        } else if (a == "--target") {
            s.targets = v;
        } else if (a == "--knobs") {
            s.knobs = v;
        } else if (a == "--kernel") {
            const std::string k = v;
            const size_t x = k.find('x');
            if (x == std::string::npos || !parse_positive(k.substr(0, x).c_str(), &s.kernel_h) ||
                !parse_positive(k.substr(x + 1).c_str(), &s.kernel_w)) {
                return usage_error("--kernel must be KHxKW with positive sizes, got '" + k + "'");
            }
        } else if (a == "--multiplier") {
            if (!parse_positive(v, &s.multiplier)) return usage_error(std::string("--multiplier must be >= 1, got '") + v + "'");
        } else if (a == "--stride") {
            if (!parse_positive(v, &s.stride)) return usage_error(std::string("--stride must be >= 1, got '") + v + "'");
        } else if (a == "--channels") {
            if (!parse_positive(v, &s.channels)) return usage_error(std::string("--channels must be >= 1, got '") + v + "'");
        } else {
            return usage_error("unknown option '" + a + "'");
        }
    }
    if (s.op != "depthwise" && s.op != "pointwise" && s.op != "separable") {
        return usage_error("--op must be depthwise, pointwise or separable, got '" + s.op + "'");
    }
    if (s.layout != "nhwc" && s.layout != "nchw") return usage_error("--layout must be nhwc or nchw, got '" + s.layout + "'");
    if (s.op == "pointwise" && (s.kernel_h || s.multiplier || s.stride)) {
        return usage_error("pointwise kernels take no --kernel, --multiplier or --stride");
    }
    if (s.channels && (s.op == "pointwise" || s.layout != "nhwc")) {
        return usage_error("--channels is for depthwise and separable kernels in NHWC, got --op " + s.op +
                           " --layout " + s.layout);
    }
    if (s.packed_weights && s.op == "depthwise") {
        return usage_error("--packed-weights is for pointwise and separable kernels");
    }
    if (s.name.empty()) s.name = default_name(s);

    std::string targets;
    for (size_t start = 0; start <= s.targets.size();) {
        size_t end = s.targets.find(',', start);
        if (end == std::string::npos) end = s.targets.size();
        std::string t = s.targets.substr(start, end - start);
        if (!Halide::Target::validate_target_string(t)) return usage_error("not a Halide target: '" + t + "'");
        if (s.no_runtime) t += "-no_runtime";
        targets += (targets.empty() ? "" : ",") + t;
        start = end + 1;
    }

    std::string emit = std::string(s.object ? "object" : "static_library") + ",c_header";
    if (s.stmt) emit += ",stmt";
    if (s.assembly) emit += ",assembly";
    std::vector<std::string> args = {"sepconv generate", "-g", s.op, "-f", s.name, "-n", s.name, "-o", s.output,
                                     "-e", emit, "target=" + targets, "layout=" + s.layout};
    if (s.kernel_h) {
        args.push_back("kernel_h=" + std::to_string(s.kernel_h));
        args.push_back("kernel_w=" + std::to_string(s.kernel_w));
    }
    if (s.multiplier) args.push_back("multiplier=" + std::to_string(s.multiplier));
    if (s.stride) args.push_back("stride=" + std::to_string(s.stride));
    if (s.channels) args.push_back("channels=" + std::to_string(s.channels));
    if (s.packed_weights) args.push_back("weights_layout=packed");
    // GenGen refuses a second '=' in an argument: knobs as name:value.
    std::replace(s.knobs.begin(), s.knobs.end(), '=', ':');
    if (!s.knobs.empty()) args.push_back("knobs=" + s.knobs);
    std::vector<char *> c_args;
    for (std::string &a : args) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    try {
        std::filesystem::create_directories(s.output);
        const int rc = Halide::Internal::generate_filter_main(static_cast<int>(args.size()), c_args.data());
        if (rc != 0) return rc;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "sepconv generate: %s\n", e.what());
        return 1;
    }
    // Several targets as objects give one .o per target plus a wrapper that
    // dispatches; every other case one file.
    std::printf("wrote %s into %s: %s (targets %s)\n", s.name.c_str(), s.output.c_str(), emit.c_str(), targets.c_str());
    return 0;
}

const RegisterCommand registered{{"generate", "write one kernel as .a/.o + .h for non-CMake builds", &run}};

}  // namespace
}  // namespace sepconv::tools
