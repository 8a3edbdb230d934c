#include "kernels.h"

#include <omp.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "HalideRuntime.h"
#include "dnnl.hpp"
#include "sepconv/cpu.h"
#include "sepconv/ops.h"
#include "xnnpack.h"

#include "HalideBuffer.h"
#ifdef SEPCONV_BENCH_PER_LAYER
#include "sepconv_bench_kernels.h"
#endif
#ifdef SEPCONV_BENCH_AUTO_ADAMS2019
#include "sepconv_auto_adams2019_depthwise.h"
#include "sepconv_auto_adams2019_pointwise.h"
#include "sepconv_auto_adams2019_separable.h"
#endif
#ifdef SEPCONV_BENCH_AUTO_MULLAPUDI2016
#include "sepconv_auto_mullapudi2016_depthwise.h"
#include "sepconv_auto_mullapudi2016_pointwise.h"
#include "sepconv_auto_mullapudi2016_separable.h"
#endif
#ifdef SEPCONV_BENCH_AUTO_LI2018
#include "sepconv_auto_li2018_depthwise.h"
#include "sepconv_auto_li2018_pointwise.h"
#include "sepconv_auto_li2018_separable.h"
#endif

namespace sepconv::bench {

const std::vector<std::string> &implementation_names() {
    static const std::vector<std::string> names = {
        "sepconv", "sepconv_unfused", "sepconv_tf_weights", "onednn", "xnnpack", "naive",
#ifdef SEPCONV_BENCH_PER_LAYER
        "sepconv_per_layer",
#endif
#ifdef SEPCONV_BENCH_AUTO_ADAMS2019
        "auto_adams2019",
#endif
#ifdef SEPCONV_BENCH_AUTO_MULLAPUDI2016
        "auto_mullapudi2016",
#endif
#ifdef SEPCONV_BENCH_AUTO_LI2018
        "auto_li2018",
#endif
    };
    return names;
}

void set_threads(int threads) {
    // Every Halide kernel here, ours and the autoschedulers', runs its
    // parallel loops on sepconv's pool, which this resizes to exactly
    // `threads`. (On Halide's own pool an awake worker of a two-thread row
    // still took tasks of the next "one-thread" row: the pool had to be shut
    // down between them.)
    sepconv::set_num_threads(threads);
    omp_set_num_threads(threads);
}

namespace {

size_t out_elements(const Layer &l, Operation op, int n) {
    return size_t(n) * l.out_h() * l.out_w() * (op == Operation::Depthwise ? l.mid_c() : l.out_c);
}

// ---- ours, through the public API (validation and dispatch included) ----

// How our kernels run a layer: the 1x1 and the fused separable on the
// pointwise filter packed once (PackedPointwiseFilter, as the peers' weights
// are reordered or packed once at setup: Default); the separable as our
// depthwise then our 1x1 (Unfused); the 1x1 and the fused separable on TF's
// filter, whose weight panels each call packs itself (TfWeights).
enum class Form { Default, Unfused, TfWeights };

class Sepconv : public Kernel {
public:
    Sepconv(const Layer &l, Operation op, std::shared_ptr<const LayerData> d, Form form)
        : l_(l), op_(op), d_(std::move(d)), form_(form) {
        // Packed at setup, for the forms whose 1x1 reads it.
        if (op != Operation::Depthwise && form != Form::TfWeights) {
            packed_pw_.emplace(ConstTensor(d_->pw_weights, {1, 1, l.mid_c(), l.out_c}));
        }
        options_.strides = {l.stride, l.stride};
        options_.dilations = {l.dilation, l.dilation};
        options_.padding = l.same ? Padding::same() : Padding::valid();
        output.resize(out_elements(l, op, d_->batch));
        if (form == Form::Unfused) mid_.resize(out_elements(l, Operation::Depthwise, d_->batch));
    }
    void run() override {
        const int64_t n = d_->batch, oh = l_.out_h(), ow = l_.out_w(), m = l_.mid_c();
        const ConstTensor input(d_->input, {n, l_.in_h, l_.in_w, l_.in_c});
        const ConstTensor dw(d_->dw_filter, {l_.k_h, l_.k_w, l_.in_c, l_.multiplier});
        const ConstTensor pw(d_->pw_weights, {1, 1, m, l_.out_c});
        switch (op_) {
        case Operation::Depthwise:
            depthwise_conv2d(input, dw, ConstTensor(d_->dw_bias, {m}), MutableTensor(output, {n, oh, ow, m}),
                             options_);
            break;
        case Operation::Pointwise:
            if (form_ == Form::TfWeights) {
                pointwise_conv2d(ConstTensor(d_->mid, {n, oh, ow, m}), pw, ConstTensor(d_->pw_bias, {l_.out_c}),
                                 MutableTensor(output, {n, oh, ow, l_.out_c}), {});
            } else {
                pointwise_conv2d(ConstTensor(d_->mid, {n, oh, ow, m}), *packed_pw_,
                                 ConstTensor(d_->pw_bias, {l_.out_c}), MutableTensor(output, {n, oh, ow, l_.out_c}),
                                 {});
            }
            break;
        case Operation::Separable:
            if (form_ == Form::Unfused) {
                depthwise_conv2d(input, dw, std::nullopt, MutableTensor(mid_, {n, oh, ow, m}), options_);
                pointwise_conv2d(ConstTensor(mid_, {n, oh, ow, m}), *packed_pw_, ConstTensor(d_->pw_bias, {l_.out_c}),
                                 MutableTensor(output, {n, oh, ow, l_.out_c}), {});
            } else if (form_ == Form::TfWeights) {
                separable_conv2d(input, dw, pw, ConstTensor(d_->pw_bias, {l_.out_c}),
                                 MutableTensor(output, {n, oh, ow, l_.out_c}), options_);
            } else {
                separable_conv2d(input, dw, *packed_pw_, ConstTensor(d_->pw_bias, {l_.out_c}),
                                 MutableTensor(output, {n, oh, ow, l_.out_c}), options_);
            }
            break;
        }
    }

private:
    Layer l_;
    Operation op_;
    std::shared_ptr<const LayerData> d_;
    Form form_;
    std::optional<PackedPointwiseFilter> packed_pw_;
    Conv2DOptions options_;
    AlignedVector<float> mid_;
};

// ---- oneDNN: convolution primitives on NHWC tensors (TF's layout), the
// weights reordered once into the primitive's preferred layout ----

class OneDnn : public Kernel {
public:
    OneDnn(const Layer &l, Operation op, std::shared_ptr<const LayerData> d)
        : d_(std::move(d)), engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {
        const int n = d_->batch;
        output.resize(out_elements(l, op, n));
        if (op == Operation::Separable) mid_.resize(out_elements(l, Operation::Depthwise, n));
        if (op != Operation::Pointwise) {
            float *dst = op == Operation::Depthwise ? output.data() : mid_.data();
            const float *bias = op == Operation::Depthwise ? d_->dw_bias.data() : nullptr;
            add_depthwise(l, n, d_->input.data(), bias, dst);
        }
        if (op != Operation::Depthwise) {
            const float *src = op == Operation::Pointwise ? d_->mid.data() : mid_.data();
            add_pointwise(l, n, src, output.data());
        }
    }
    void run() override {
        for (Step &s : steps_) s.primitive.execute(stream_, s.args);
        stream_.wait();
    }

private:
    using md = dnnl::memory::desc;
    using tag = dnnl::memory::format_tag;
    static constexpr auto f32 = dnnl::memory::data_type::f32;
    struct Step {
        dnnl::primitive primitive;
        std::unordered_map<int, dnnl::memory> args;
    };

    // weights_user: the TF weights seen as oneDNN's logical dims with strides.
    void add_conv(const md &src, const md &weights_user, const md &dst, const dnnl::memory::dims &strides,
                  const dnnl::memory::dims &dilation, const dnnl::memory::dims &pad_l,
                  const dnnl::memory::dims &pad_r, const float *src_data, const float *weights_data,
                  const float *bias_data, int bias_size, float *dst_data) {
        const md weights_any(weights_user.dims(), f32, tag::any);
        const md bias_md({bias_size}, f32, tag::x);
        auto desc = bias_data ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                                dnnl::algorithm::convolution_direct, src,
                                                                weights_any, bias_md, dst, strides, dilation,
                                                                pad_l, pad_r)
                              : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                                dnnl::algorithm::convolution_direct, src,
                                                                weights_any, dst, strides, dilation, pad_l, pad_r);
        dnnl::convolution_forward::primitive_desc pd(desc, engine_);
        dnnl::memory user_w(weights_user, engine_, const_cast<float *>(weights_data));
        dnnl::memory w(pd.weights_desc(), engine_);
        dnnl::reorder(user_w, w).execute(stream_, user_w, w);
        stream_.wait();
        weights_.push_back(w);
        Step s{dnnl::convolution_forward(pd), {}};
        s.args[DNNL_ARG_SRC] = dnnl::memory(src, engine_, const_cast<float *>(src_data));
        s.args[DNNL_ARG_WEIGHTS] = w;
        s.args[DNNL_ARG_DST] = dnnl::memory(dst, engine_, dst_data);
        if (bias_data) s.args[DNNL_ARG_BIAS] = dnnl::memory(bias_md, engine_, const_cast<float *>(bias_data));
        steps_.push_back(std::move(s));
    }

    void add_depthwise(const Layer &l, int n, const float *src, const float *bias, float *dst) {
        const int c = l.in_c, m = l.multiplier, kh = l.k_h, kw = l.k_w;
        // TF [k_h, k_w, C, M] as goihw [C][M][1][k_h][k_w].
        const md weights({c, m, 1, kh, kw}, f32, dnnl::memory::dims{m, 1, 1, kw * c * m, c * m});
        add_conv(md({n, c, l.in_h, l.in_w}, f32, tag::nhwc), weights, md({n, c * m, l.out_h(), l.out_w()}, f32, tag::nhwc),
                 {l.stride, l.stride}, {l.dilation - 1, l.dilation - 1}, {l.pad_top(), l.pad_left()},
                 {l.pad_bottom(), l.pad_right()}, src, d_->dw_filter.data(), bias, c * m, dst);
    }

    void add_pointwise(const Layer &l, int n, const float *src, float *dst) {
        const int m = l.mid_c(), o = l.out_c;
        // TF [1, 1, C*M, O] as oihw [O][C*M][1][1].
        const md weights({o, m, 1, 1}, f32, dnnl::memory::dims{1, o, 1, 1});
        add_conv(md({n, m, l.out_h(), l.out_w()}, f32, tag::nhwc), weights,
                 md({n, o, l.out_h(), l.out_w()}, f32, tag::nhwc), {1, 1}, {0, 0}, {0, 0}, {0, 0}, src,
                 d_->pw_weights.data(), d_->pw_bias.data(), o, dst);
    }

    std::shared_ptr<const LayerData> d_;
    dnnl::engine engine_;
    dnnl::stream stream_;
    std::vector<dnnl::memory> weights_;
    std::vector<Step> steps_;
    AlignedVector<float> mid_;
};

// ---- XNNPACK: NHWC convolution operators (the depthwise one with TF's
// [k_h, k_w, C*M] filter layout), on a pthreadpool of `threads` ----

class Xnnpack : public Kernel {
public:
    Xnnpack(const Layer &l, Operation op, std::shared_ptr<const LayerData> d, int threads) : d_(std::move(d)) {
        static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
        if (!initialized) throw std::runtime_error("xnn_initialize failed");
        pool_ = threads > 1 ? pthreadpool_create(threads) : nullptr;
        const int n = d_->batch;
        output.resize(out_elements(l, op, n));
        if (op == Operation::Separable) mid_.resize(out_elements(l, Operation::Depthwise, n));
        const float inf = std::numeric_limits<float>::infinity();
        if (op != Operation::Pointwise) {
            xnn_operator_t dw = nullptr;
            check(xnn_create_convolution2d_nhwc_f32(
                      l.pad_top(), l.pad_right(), l.pad_bottom(), l.pad_left(), l.k_h, l.k_w, l.stride, l.stride,
                      l.dilation, l.dilation, l.in_c, 1, l.multiplier, l.in_c, l.mid_c(), d_->dw_filter.data(),
                      op == Operation::Depthwise ? d_->dw_bias.data() : nullptr, -inf, inf,
                      XNN_FLAG_DEPTHWISE_CONVOLUTION, &dw),
                  "create depthwise");
            ops_.push_back(dw);
            check(xnn_setup_convolution2d_nhwc_f32(dw, n, l.in_h, l.in_w, d_->input.data(),
                                                   op == Operation::Depthwise ? output.data() : mid_.data(), pool_),
                  "setup depthwise");
        }
        if (op != Operation::Depthwise) {
            // TF [C*M, O] transposed to XNNPACK's [O][1][1][C*M].
            std::vector<float> weights(size_t(l.mid_c()) * l.out_c);
            for (int i = 0; i < l.mid_c(); i++) {
                for (int o = 0; o < l.out_c; o++) weights[size_t(o) * l.mid_c() + i] = d_->pw_weights[size_t(i) * l.out_c + o];
            }
            xnn_operator_t pw = nullptr;
            check(xnn_create_convolution2d_nhwc_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, l.mid_c(), l.out_c, l.mid_c(),
                                                    l.out_c, weights.data(), d_->pw_bias.data(), -inf, inf, 0, &pw),
                  "create pointwise");
            ops_.push_back(pw);
            const float *src = op == Operation::Pointwise ? d_->mid.data() : mid_.data();
            check(xnn_setup_convolution2d_nhwc_f32(pw, n, l.out_h(), l.out_w(), src, output.data(), pool_),
                  "setup pointwise");
        }
    }
    ~Xnnpack() override {
        for (xnn_operator_t op : ops_) xnn_delete_operator(op);
        if (pool_) pthreadpool_destroy(pool_);
    }
    void run() override {
        for (xnn_operator_t op : ops_) check(xnn_run_operator(op, pool_), "run");
    }

private:
    static void check(xnn_status s, const char *what) {
        if (s != xnn_status_success) throw std::runtime_error(std::string("XNNPACK ") + what + " failed: status " + std::to_string(int(s)));
    }
    std::shared_ptr<const LayerData> d_;
    pthreadpool_t pool_ = nullptr;
    std::vector<xnn_operator_t> ops_;
    AlignedVector<float> mid_;
};

// ---- the naive baseline: direct loops, rows split across OpenMP threads ----

class Naive : public Kernel {
public:
    Naive(const Layer &l, Operation op, std::shared_ptr<const LayerData> d) : l_(l), op_(op), d_(std::move(d)) {
        output.resize(out_elements(l, op, d_->batch));
        if (op == Operation::Separable) mid_.resize(out_elements(l, Operation::Depthwise, d_->batch));
    }
    void run() override {
        if (op_ == Operation::Depthwise) depthwise(d_->dw_bias.data(), output.data());
        if (op_ == Operation::Pointwise) pointwise(d_->mid.data(), output.data());
        if (op_ == Operation::Separable) {
            depthwise(nullptr, mid_.data());
            pointwise(mid_.data(), output.data());
        }
    }

private:
    void depthwise(const float *bias, float *out) const {
        const Layer &l = l_;
        const int rows = d_->batch * l.out_h(), m = l.multiplier, mc = l.mid_c();
#pragma omp parallel for
        for (int row = 0; row < rows; row++) {
            const int n = row / l.out_h(), oy = row % l.out_h();
            for (int ox = 0; ox < l.out_w(); ox++) {
                float *o = out + (size_t(row) * l.out_w() + ox) * mc;
                for (int ch = 0; ch < mc; ch++) o[ch] = bias ? bias[ch] : 0.0f;
                for (int ty = 0; ty < l.k_h; ty++) {
                    const int iy = oy * l.stride + ty * l.dilation - l.pad_top();
                    if (iy < 0 || iy >= l.in_h) continue;
                    for (int tx = 0; tx < l.k_w; tx++) {
                        const int ix = ox * l.stride + tx * l.dilation - l.pad_left();
                        if (ix < 0 || ix >= l.in_w) continue;
                        const float *in = d_->input.data() + ((size_t(n) * l.in_h + iy) * l.in_w + ix) * l.in_c;
                        const float *f = d_->dw_filter.data() + (size_t(ty) * l.k_w + tx) * mc;
                        for (int ch = 0; ch < mc; ch++) o[ch] += f[ch] * in[ch / m];
                    }
                }
            }
        }
    }
    void pointwise(const float *in, float *out) const {
        const Layer &l = l_;
        const int pixels = d_->batch * l.out_h() * l.out_w(), mc = l.mid_c(), oc = l.out_c;
#pragma omp parallel for
        for (int p = 0; p < pixels; p++) {
            float *o = out + size_t(p) * oc;
            for (int j = 0; j < oc; j++) o[j] = d_->pw_bias[j];
            for (int i = 0; i < mc; i++) {
                const float v = in[size_t(p) * mc + i];
                const float *w = d_->pw_weights.data() + size_t(i) * oc;
                for (int j = 0; j < oc; j++) o[j] += v * w[j];
            }
        }
    }
    Layer l_;
    Operation op_;
    std::shared_ptr<const LayerData> d_;
    AlignedVector<float> mid_;
};

// ---- generated Halide functions called directly, with the AOT calling
// convention (runtime/src/kernel_abi.h): the generators scheduled by a Halide
// autoscheduler (generic sizes), and the per-layer depthwise kernels, as the
// runtime calls them for a dense call (its argument checks, well under a
// microsecond, left out) ----

struct HalideFunctions {
    int (*depthwise)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, int, int, int, int, int, int, float,
                     float, float, halide_buffer_t *);
    int (*pointwise)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, float, float, float, halide_buffer_t *);
    int (*separable)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, halide_buffer_t *, int, int, int, int,
                     int, int, float, float, float, halide_buffer_t *);
};

class DirectCall : public Kernel {
    using Buf = Halide::Runtime::Buffer<float>;

public:
    DirectCall(const Layer &l, Operation op, std::shared_ptr<const LayerData> d, HalideFunctions f)
        : l_(l), op_(op), d_(std::move(d)), f_(f) {
        output.resize(out_elements(l, op, d_->batch));
    }
    void run() override {
        const int n = d_->batch, oh = l_.out_h(), ow = l_.out_w(), m = l_.mid_c();
        const float inf = std::numeric_limits<float>::infinity();
        auto view = [](const AlignedVector<float> &v, std::vector<int> dims) {
            return Buf(const_cast<float *>(v.data()), dims);
        };
        // TF layouts seen innermost-first by Halide: NHWC is [c, w, h, n],
        // [k_h, k_w, C, M] is [M, C, k_w, k_h], [C*M, O] is [O, C*M].
        Buf in = view(d_->input, {l_.in_c, l_.in_w, l_.in_h, n});
        Buf dw = view(d_->dw_filter, {l_.multiplier, l_.in_c, l_.k_w, l_.k_h});
        Buf pw = view(d_->pw_weights, {l_.out_c, m});
        int status = 0;
        if (op_ == Operation::Depthwise) {
            Buf out(output.data(), {m, ow, oh, n});
            status = f_.depthwise(in, dw, view(d_->dw_bias, {m}), l_.stride, l_.stride, l_.dilation, l_.dilation,
                                  l_.pad_left(), l_.pad_top(), -inf, inf, 1.0f, out);
        } else if (op_ == Operation::Pointwise) {
            Buf out(output.data(), {l_.out_c, ow, oh, n});
            status = f_.pointwise(view(d_->mid, {m, ow, oh, n}), pw, view(d_->pw_bias, {l_.out_c}), -inf, inf, 1.0f,
                                  out);
        } else {
            Buf out(output.data(), {l_.out_c, ow, oh, n});
            status = f_.separable(in, dw, pw, view(d_->pw_bias, {l_.out_c}), l_.stride, l_.stride, l_.dilation,
                                  l_.dilation, l_.pad_left(), l_.pad_top(), -inf, inf, 1.0f, out);
        }
        if (status != 0) throw std::runtime_error("Halide kernel failed: " + std::to_string(status));
    }

private:
    Layer l_;
    Operation op_;
    std::shared_ptr<const LayerData> d_;
    HalideFunctions f_;
};

#ifdef SEPCONV_BENCH_PER_LAYER
// The entry of sepconv_bench_kernels::table (sepconv_add_kernels ...
// CHANNELS in bench/CMakeLists.txt) generated for the layer's channel count,
// or nullptr: a depthwise, or a separable on TF's pointwise filter (the
// weights DirectCall passes).
const KernelEntry *per_layer_entry(const Layer &l, Operation op) {
    if (op == Operation::Pointwise) return nullptr;
    const Op kind = op == Operation::Depthwise ? Op::Depthwise : Op::Separable;
    KernelRequest request{kind, DataFormat::NHWC, l.k_h, l.k_w, l.multiplier, l.stride, l.stride};
    request.channels = l.in_c;
    request.dense_columns = true;
    for (const KernelEntry &e : sepconv_bench_kernels::table) {
        if (e.info.channels != 0 && e.info.matches(request)) return &e;
    }
    return nullptr;
}

#endif

}  // namespace

bool runs(const std::string &impl, const Layer &l, Operation op) {
    if (impl == "sepconv_unfused") return op == Operation::Separable;
    if (impl == "sepconv_tf_weights") return op != Operation::Depthwise;
#ifdef SEPCONV_BENCH_PER_LAYER
    if (impl == "sepconv_per_layer") return per_layer_entry(l, op) != nullptr;
#endif
    return true;
}

std::unique_ptr<Kernel> make_kernel(const std::string &impl, const Layer &l, Operation op,
                                    std::shared_ptr<const LayerData> d, int threads) {
    if (impl == "sepconv") return std::make_unique<Sepconv>(l, op, d, Form::Default);
    if (impl == "sepconv_unfused") {
        return op == Operation::Separable ? std::make_unique<Sepconv>(l, op, d, Form::Unfused) : nullptr;
    }
    if (impl == "sepconv_tf_weights") {
        return op != Operation::Depthwise ? std::make_unique<Sepconv>(l, op, d, Form::TfWeights) : nullptr;
    }
#ifdef SEPCONV_BENCH_PER_LAYER
    if (impl == "sepconv_per_layer") {
        const KernelEntry *e = per_layer_entry(l, op);
        return e ? std::make_unique<DirectCall>(l, op, d, HalideFunctions{e->depthwise, nullptr, e->separable})
                 : nullptr;
    }
#endif
    if (impl == "onednn") return std::make_unique<OneDnn>(l, op, d);
    if (impl == "xnnpack") return std::make_unique<Xnnpack>(l, op, d, threads);
    if (impl == "naive") return std::make_unique<Naive>(l, op, d);
#ifdef SEPCONV_BENCH_AUTO_ADAMS2019
    if (impl == "auto_adams2019") {
        return std::make_unique<DirectCall>(l, op, d, HalideFunctions{sepconv_auto_adams2019_depthwise,
                                                                       sepconv_auto_adams2019_pointwise,
                                                                       sepconv_auto_adams2019_separable});
    }
#endif
#ifdef SEPCONV_BENCH_AUTO_MULLAPUDI2016
    if (impl == "auto_mullapudi2016") {
        return std::make_unique<DirectCall>(l, op, d, HalideFunctions{sepconv_auto_mullapudi2016_depthwise,
                                                                       sepconv_auto_mullapudi2016_pointwise,
                                                                       sepconv_auto_mullapudi2016_separable});
    }
#endif
#ifdef SEPCONV_BENCH_AUTO_LI2018
    if (impl == "auto_li2018") {
        return std::make_unique<DirectCall>(l, op, d, HalideFunctions{sepconv_auto_li2018_depthwise,
                                                                       sepconv_auto_li2018_pointwise,
                                                                       sepconv_auto_li2018_separable});
    }
#endif
    throw std::invalid_argument("unknown implementation " + impl);
}

}  // namespace sepconv::bench
