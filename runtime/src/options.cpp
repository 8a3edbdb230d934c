#include "sepconv/options.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "sepconv/error.h"
#include "format.h"

namespace sepconv {
namespace {

std::string upper(std::string_view s) {
    std::string u(s);
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char ch) { return std::toupper(ch); });
    return u;
}

// Batch and channel positions of a 4-element tf.nn list, and its spatial ones.
struct ListPositions {
    int batch, channel, h, w;
};
ListPositions positions(DataFormat format) {
    return format == DataFormat::NHWC ? ListPositions{0, 3, 1, 2} : ListPositions{0, 1, 2, 3};
}

std::array<int64_t, 2> spatial_pair(const std::vector<int64_t> &values, DataFormat format, const char *name) {
    if (values.size() != 4) {
        throw Error(std::string(name) + " must have " + (std::string(name) == "dilations" ? "2 ([h, w]) or " : "") +
                    "4 elements ([1, h, w, 1] for NHWC, [1, 1, h, w] for NCHW), got " +
                    std::to_string(values.size()) + ": " + format_list(values));
    }
    for (int64_t v : values) {
        if (v < 1) throw Error(std::string(name) + " must all be >= 1, got " + format_list(values));
    }
    ListPositions p = positions(format);
    if (values[p.batch] != 1 || values[p.channel] != 1) {
        throw Error(std::string("Current implementation does not yet support ") + name +
                    " in the batch and depth dimensions: " + name + " = " + format_list(values) + " with data_format " +
                    to_string(format));
    }
    return {values[p.h], values[p.w]};
}

}  // namespace

DataFormat parse_data_format(std::string_view name) {
    std::string u = upper(name);
    if (u == "NHWC" || u == "CHANNELS_LAST") return DataFormat::NHWC;
    if (u == "NCHW" || u == "CHANNELS_FIRST") return DataFormat::NCHW;
    throw Error("data_format must be 'NHWC' or 'NCHW' (or 'channels_last' / 'channels_first'), got '" +
                std::string(name) + "'");
}

const char *to_string(DataFormat f) {
    return f == DataFormat::NHWC ? "NHWC" : "NCHW";
}

Padding Padding::parse(std::string_view name) {
    std::string u = upper(name);
    if (u == "SAME") return same();
    if (u == "VALID") return valid();
    if (u == "CAUSAL") {
        throw Error("padding 'causal' is only supported for 1-D convolutions; use 'SAME', 'VALID' or an explicit list");
    }
    throw Error("padding must be 'SAME', 'VALID' or an explicit list of 4 [before, after] pairs, got '" +
                std::string(name) + "'");
}

Padding Padding::from_list(const std::vector<std::array<int64_t, 2>> &pairs, DataFormat format) {
    std::vector<int64_t> flat;
    for (const auto &p : pairs) {
        flat.push_back(p[0]);
        flat.push_back(p[1]);
    }
    if (pairs.size() != 4) {
        throw Error("explicit padding must have 4 [before, after] pairs (one per dimension), got " +
                    std::to_string(pairs.size()) + " pairs: " + format_list(flat));
    }
    for (int64_t v : flat) {
        if (v < 0) throw Error("All elements of explicit padding must be nonnegative, got " + format_list(flat));
    }
    ListPositions p = positions(format);
    if (pairs[p.batch][0] || pairs[p.batch][1] || pairs[p.channel][0] || pairs[p.channel][1]) {
        throw Error("Nonzero explicit padding in the batch or depth dimensions is not supported: padding = " +
                    format_list(flat) + " with data_format " + to_string(format));
    }
    return explicit_amounts(pairs[p.h][0], pairs[p.h][1], pairs[p.w][0], pairs[p.w][1]);
}

Activation Activation::clamp(float lo, float hi) {
    if (std::isnan(lo) || std::isnan(hi) || lo > hi) {
        throw Error("activation clamp bounds must satisfy min <= max, got min = " + format_float(lo) +
                    ", max = " + format_float(hi));
    }
    return {lo, hi};
}

Activation Activation::leaky_relu(float alpha) {
    if (!std::isfinite(alpha)) throw Error("leaky_relu alpha must be finite, got " + format_float(alpha));
    Activation a;
    a.leaky_alpha = alpha;
    return a;
}

Activation Activation::parse(std::string_view name) {
    std::string u = upper(name);
    if (u == "NONE" || u == "LINEAR" || u.empty()) return none();
    if (u == "RELU") return relu();
    if (u == "RELU6") return relu6();
    if (u == "RELU_N1_TO_1") return relu_n1_to_1();
    throw Error("activation must be one of 'none', 'linear', 'relu', 'relu6', 'relu_n1_to_1' (or use clamp / "
                "leaky_relu), got '" + std::string(name) + "'");
}

std::array<int64_t, 2> spatial_strides(const std::vector<int64_t> &strides, DataFormat format) {
    return spatial_pair(strides, format, "strides");
}

std::array<int64_t, 2> spatial_dilations(const std::vector<int64_t> &dilations, DataFormat format) {
    if (dilations.size() == 2) {  // tf.nn.depthwise_conv2d's `dilations` / `rate`: [r_h, r_w]
        for (int64_t v : dilations) {
            if (v < 1) throw Error("dilations must all be >= 1, got " + format_list(dilations));
        }
        return {dilations[0], dilations[1]};
    }
    return spatial_pair(dilations, format, "dilations");
}

}  // namespace sepconv
