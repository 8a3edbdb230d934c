#include "layers.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "reference.h"

namespace sepconv::bench {

const char *short_name(Operation op) {
    switch (op) {
    case Operation::Depthwise: return "dw";
    case Operation::Pointwise: return "pw";
    case Operation::Separable: return "sep";
    }
    return "?";
}

namespace {

int out_size(int in, int k, int stride, int dilation, bool same) {
    const int effective_k = (k - 1) * dilation + 1;
    return same ? (in + stride - 1) / stride : (in - effective_k + stride) / stride;
}

int pad_total(int in, int k, int stride, int dilation, bool same) {
    if (!same) return 0;
    const int out = out_size(in, k, stride, dilation, same);
    return std::max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
}

}  // namespace

int Layer::out_h() const { return out_size(in_h, k_h, stride, dilation, same); }
int Layer::out_w() const { return out_size(in_w, k_w, stride, dilation, same); }
int Layer::pad_top() const { return pad_total(in_h, k_h, stride, dilation, same) / 2; }
int Layer::pad_left() const { return pad_total(in_w, k_w, stride, dilation, same) / 2; }
int Layer::pad_bottom() const { return pad_total(in_h, k_h, stride, dilation, same) - pad_top(); }
int Layer::pad_right() const { return pad_total(in_w, k_w, stride, dilation, same) - pad_left(); }

std::vector<Layer> read_layers(const std::string &csv_path) {
    std::ifstream file(csv_path);
    if (!file) throw std::runtime_error("cannot read the layer list " + csv_path);
    std::vector<Layer> layers;
    std::string line;
    while (std::getline(file, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
        if (f.size() != 12) throw std::runtime_error("shapes.csv: expected 12 fields in '" + line + "'");
        Layer l;
        l.suite = f[0];
        l.name = f[1];
        int *ints[] = {&l.in_h, &l.in_w, &l.in_c, &l.k_h, &l.k_w, &l.stride, &l.dilation, &l.multiplier, &l.out_c};
        for (int i = 0; i < 9; i++) *ints[i] = std::stoi(f[2 + i]);
        l.same = f[11] == "SAME";
        layers.push_back(l);
    }
    return layers;
}

double flops(const Layer &l, Operation op, int n) {
    const double pixels = double(n) * l.out_h() * l.out_w();
    const double dw = 2.0 * pixels * l.mid_c() * l.k_h * l.k_w;
    const double pw = 2.0 * pixels * l.mid_c() * l.out_c;
    return op == Operation::Depthwise ? dw : op == Operation::Pointwise ? pw : dw + pw;
}

double bytes(const Layer &l, Operation op, int n) {
    const double in = double(n) * l.in_h * l.in_w * l.in_c;
    const double mid = double(n) * l.out_h() * l.out_w() * l.mid_c();
    const double out = double(n) * l.out_h() * l.out_w() * l.out_c;
    const double dw_w = double(l.k_h) * l.k_w * l.mid_c() + l.mid_c();
    const double pw_w = double(l.mid_c()) * l.out_c + l.out_c;
    const double elements = op == Operation::Depthwise   ? in + dw_w + mid
                            : op == Operation::Pointwise ? mid + pw_w + out
                                                         : in + dw_w + pw_w + out;
    return 4.0 * elements;
}

namespace {

// Values in [-1, 1] from a seed: each image its own seed, so image i is the
// same whatever the batch size.
void fill(AlignedVector<float> &v, size_t offset, size_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (size_t i = 0; i < count; i++) v[offset + i] = dist(rng);
}

std::vector<float> plain(const AlignedVector<float> &v) { return {v.begin(), v.end()}; }

uint32_t layer_seed(const Layer &l) { return uint32_t(std::hash<std::string>()(l.suite + "/" + l.name)); }

}  // namespace

std::shared_ptr<const LayerData> layer_data(const Layer &l, int batch) {
    auto d = std::make_shared<LayerData>();
    d->batch = batch;
    const uint32_t seed = layer_seed(l);
    const size_t in_image = size_t(l.in_h) * l.in_w * l.in_c, mid_image = size_t(l.out_h()) * l.out_w() * l.mid_c();
    d->input.resize(in_image * batch);
    d->mid.resize(mid_image * batch);
    for (int i = 0; i < batch; i++) {
        fill(d->input, in_image * i, in_image, seed + 1000 + i);
        fill(d->mid, mid_image * i, mid_image, seed + 2000 + i);
    }
    d->dw_filter.resize(size_t(l.k_h) * l.k_w * l.mid_c());
    fill(d->dw_filter, 0, d->dw_filter.size(), seed + 1);
    d->dw_bias.resize(l.mid_c());
    fill(d->dw_bias, 0, d->dw_bias.size(), seed + 2);
    d->pw_weights.resize(size_t(l.mid_c()) * l.out_c);
    fill(d->pw_weights, 0, d->pw_weights.size(), seed + 3);
    d->pw_bias.resize(l.out_c);
    fill(d->pw_bias, 0, d->pw_bias.size(), seed + 4);
    return d;
}

namespace {

// The reference output of one image, computed once per (layer, op, image).
const reference::Tensor &reference_image(const Layer &l, Operation op, const LayerData &d, int image) {
    static std::mutex mutex;
    static std::map<std::tuple<std::string, int, int>, reference::Tensor> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto key = std::make_tuple(l.suite + "/" + l.name, int(op), image);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;

    reference::Geometry g;
    g.stride_h = g.stride_w = l.stride;
    g.rate_h = g.rate_w = l.dilation;
    g.pad = l.same ? reference::Pad::Same : reference::Pad::Valid;
    const std::array<int, 4> dw_shape = {l.k_h, l.k_w, l.in_c, l.multiplier};
    reference::Tensor ref;
    if (op == Operation::Pointwise) {
        const size_t size = size_t(l.out_h()) * l.out_w() * l.mid_c();
        std::vector<float> mid(d.mid.begin() + size * image, d.mid.begin() + size * (image + 1));
        ref = reference::pointwise(reference::from_floats(mid, {1, l.out_h(), l.out_w(), l.mid_c()}), plain(d.pw_weights),
                                   l.out_c, plain(d.pw_bias), {});
    } else {
        const size_t size = size_t(l.in_h) * l.in_w * l.in_c;
        auto in = reference::from_floats(
            std::vector<float>(d.input.begin() + size * image, d.input.begin() + size * (image + 1)),
            {1, l.in_h, l.in_w, l.in_c});
        ref = op == Operation::Depthwise
                  ? reference::depthwise(in, plain(d.dw_filter), dw_shape, plain(d.dw_bias), g, {})
                  : reference::separable(in, plain(d.dw_filter), dw_shape, plain(d.pw_weights), l.out_c,
                                                        plain(d.pw_bias), g, {});
    }
    return cache.emplace(key, std::move(ref)).first->second;
}

}  // namespace

std::string check_output(const Layer &l, Operation op, const LayerData &d, const AlignedVector<float> &output) {
    const int out_c = op == Operation::Depthwise ? l.mid_c() : l.out_c;
    const size_t image_size = size_t(l.out_h()) * l.out_w() * out_c;
    if (output.size() != image_size * d.batch) return "output has the wrong size";
    // float32 sums of `terms` products of values in [-1, 1]: the rounding
    // error grows like sqrt(terms) (as in the demo's check).
    const double terms = (op == Operation::Pointwise ? 0 : l.k_h * l.k_w) + (op == Operation::Depthwise ? 0 : l.mid_c());
    for (int image : {0, d.batch - 1}) {
        const reference::Tensor &ref = reference_image(l, op, d, image);
        double max_error = 0, max_ref = 0;
        for (size_t i = 0; i < image_size; i++) {
            const double v = output[image_size * image + i];
            const double e = std::isfinite(v) ? std::abs(v - ref.data[i]) : INFINITY;
            max_error = std::max(max_error, e);
            max_ref = std::max(max_ref, std::abs(ref.data[i]));
        }
        const double tolerance = 1e-5 * (1 + max_ref) * std::sqrt(terms);
        if (!(max_error <= tolerance)) {
            return "image " + std::to_string(image) + ": max error " + std::to_string(max_error) + " > tolerance " +
                   std::to_string(tolerance);
        }
    }
    return "";
}

}  // namespace sepconv::bench
