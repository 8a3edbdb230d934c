// Separable 2-D convolution, TensorFlow's tf.nn.separable_conv2d (float32):
// a depthwise convolution (stride, dilation, padding, multiplier M) feeding a
// 1x1 convolution over its C*M channels, then bias and the activation.
//   mid[n, i, j, k*M + q] = sum_{di, dj} dw[di, dj, k, q] * in_padded[...]
//   out[n, i, j, o]       = bias[o] + sum_m mid[n, i, j, m] * pw[0, 0, m, o]
// `mid` is a Func of its own so the schedule can fuse it into the pointwise
// loop nest.
#include "Halide.h"
#include "algorithm.h"
#include "schedules.h"

namespace sepconv {
namespace {

using namespace Halide;

class Separable : public Generator<Separable> {
public:
    GeneratorParam<Layout> layout{"layout", Layout::NHWC, layout_names};
    GeneratorParam<int> kernel_h{"kernel_h", 0};
    GeneratorParam<int> kernel_w{"kernel_w", 0};
    GeneratorParam<int> multiplier{"multiplier", 0};
    GeneratorParam<int> stride{"stride", 0};
    GeneratorParam<Activation> activation{"activation", Activation::Runtime, activation_names};
    // Schedule knobs overriding the hand schedule (schedules/knobs.h): "name=value,...".
    GeneratorParam<std::string> knobs{"knobs", ""};

    // NHWC: [channels, width, height, batch]; NCHW: [width, height, channels, batch]
    Input<Buffer<float, 4>> input{"input"};
    // TF [k_h, k_w, channels, multiplier]: [multiplier, channels, k_w, k_h]
    Input<Buffer<float, 4>> depthwise_filter{"depthwise_filter"};
    // TF [1, 1, channels * multiplier, out_channels]: [out_channels, channels * multiplier]
    Input<Buffer<float, 2>> pointwise_filter{"pointwise_filter"};
    // [out_channels]; a zero-stride buffer of zeros when there is no bias
    Input<Buffer<float, 1>> bias{"bias"};
    Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
    Input<int> dilation_x{"dilation_x"}, dilation_y{"dilation_y"};
    Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
    Input<float> activation_min{"activation_min"}, activation_max{"activation_max"};
    Input<float> leaky_alpha{"leaky_alpha"};
    // Same layout as input, out_channels channels
    Output<Buffer<float, 4>> output{"output"};

    void generate() {
        const int c_dim = layout == Layout::NHWC ? 0 : 2, x_dim = layout == Layout::NHWC ? 1 : 0, y_dim = x_dim + 1;
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        Func padded = zero_padded(in, input.dim(x_dim).extent(), input.dim(y_dim).extent());

        DepthwiseGeometry g;
        g.kernel_w = kernel_w > 0 ? Expr(kernel_w) : depthwise_filter.dim(2).extent();
        g.kernel_h = kernel_h > 0 ? Expr(kernel_h) : depthwise_filter.dim(3).extent();
        g.multiplier = multiplier > 0 ? Expr(multiplier) : depthwise_filter.dim(0).extent();
        g.stride_x = stride > 0 ? Expr(stride) : Expr(stride_x);
        g.stride_y = stride > 0 ? Expr(stride) : Expr(stride_y);
        g.dilation_x = dilation_x;
        g.dilation_y = dilation_y;
        g.pad_left = pad_left;
        g.pad_top = pad_top;
        Var c("c"), x("x"), y("y"), n("n");
        Func no_bias("no_depthwise_bias");
        no_bias(c) = 0.0f;
        DepthwiseStage dw = depthwise(padded, depthwise_filter, no_bias, g);

        Expr mid_channels = pointwise_filter.dim(1).extent();
        PointwiseStage pw = pointwise(dw.result, pointwise_filter, bias, mid_channels);

        Func activated("activated");
        activated(c, x, y, n) = activate(pw.result(c, x, y, n), activation,
                                         {activation_min, activation_max, leaky_alpha});
        store_in_layout(output, activated, layout);

        depthwise_filter.dim(0).set_min(0);
        depthwise_filter.dim(1).set_min(0).set_stride(depthwise_filter.dim(0).extent());
        depthwise_filter.dim(2).set_min(0);
        depthwise_filter.dim(3).set_min(0);
        if (kernel_w > 0) depthwise_filter.dim(2).set_extent(kernel_w);
        if (kernel_h > 0) depthwise_filter.dim(3).set_extent(kernel_h);
        if (multiplier > 0) depthwise_filter.dim(0).set_extent(multiplier);
        for (int d = 0; d < 4; d++) {
            input.dim(d).set_min(0);
            output.dim(d).set_min(0);
        }
        pointwise_filter.dim(0).set_min(0);
        pointwise_filter.dim(1).set_min(0);
        bias.dim(0).set_min(0).set_stride(Expr());

        // Estimates: MobileNet v1 layer 1 (112x112x32, 3x3 stride 1, -> 64).
        input.dim(c_dim).set_estimate(0, 32);
        input.dim(x_dim).set_estimate(0, 112);
        input.dim(y_dim).set_estimate(0, 112);
        input.dim(3).set_estimate(0, 1);
        depthwise_filter.set_estimates({{0, 1}, {0, 32}, {0, 3}, {0, 3}});
        pointwise_filter.set_estimates({{0, 64}, {0, 32}});
        bias.set_estimates({{0, 64}});
        output.dim(c_dim).set_estimate(0, 64);
        output.dim(x_dim).set_estimate(0, 112);
        output.dim(y_dim).set_estimate(0, 112);
        output.dim(3).set_estimate(0, 1);
        stride_x.set_estimate(1);
        stride_y.set_estimate(1);
        dilation_x.set_estimate(1);
        dilation_y.set_estimate(1);
        pad_left.set_estimate(1);
        pad_top.set_estimate(1);
        activation_min.set_estimate(0.0f);
        activation_max.set_estimate(6.0f);
        leaky_alpha.set_estimate(1.0f);

        if (!using_autoscheduler()) {
            activated.compute_inline();
            no_bias.compute_inline();
            schedules::schedule_separable({output, dw.result, dw.taps, pw.result, pw.channels, layout,
                                           kernel_w > 0 && kernel_h > 0, g.multiplier, mid_channels,
                                           output.dim(c_dim).extent(), output.dim(x_dim).extent()},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Separable, separable)
