// Depthwise 2-D convolution, TensorFlow's tf.nn.depthwise_conv2d (float32).
//   out[n, i, j, k*M + q] = bias[k*M + q] + sum_{di, dj} filter[di, dj, k, q] *
//       in_padded[n, s_h*i + r_h*di - pad_top, s_w*j + r_w*dj - pad_left, k]
// then the activation. The output extent (out_h, out_w) is the output
// buffer's; pad_top / pad_left come from TF's padding rules (runtime/shape.cpp).
#include "Halide.h"
#include "algorithm.h"
#include "schedules.h"

namespace sepconv {
namespace {

using namespace Halide;

class Depthwise : public Generator<Depthwise> {
public:
    GeneratorParam<Layout> layout{"layout", Layout::NHWC, layout_names};
    // Specializations: 0 means "given at run time".
    GeneratorParam<int> kernel_h{"kernel_h", 0};
    GeneratorParam<int> kernel_w{"kernel_w", 0};
    GeneratorParam<int> multiplier{"multiplier", 0};
    GeneratorParam<int> stride{"stride", 0};  // both directions; 0: stride_x, stride_y
    GeneratorParam<Activation> activation{"activation", Activation::Runtime, activation_names};
    // Schedule knobs overriding the hand schedule (schedules/knobs.h): "name=value,...".
    GeneratorParam<std::string> knobs{"knobs", ""};

    // NHWC: [channels, width, height, batch]; NCHW: [width, height, channels, batch]
    Input<Buffer<float, 4>> input{"input"};
    // TF [k_h, k_w, channels, multiplier]: [multiplier, channels, k_w, k_h]
    Input<Buffer<float, 4>> filter{"filter"};
    // [channels * multiplier]; a zero-stride buffer of zeros when there is no bias
    Input<Buffer<float, 1>> bias{"bias"};
    Input<int> stride_x{"stride_x"}, stride_y{"stride_y"};
    Input<int> dilation_x{"dilation_x"}, dilation_y{"dilation_y"};
    Input<int> pad_left{"pad_left"}, pad_top{"pad_top"};
    Input<float> activation_min{"activation_min"}, activation_max{"activation_max"};
    Input<float> leaky_alpha{"leaky_alpha"};
    // Same layout as input; channels = channels * multiplier
    Output<Buffer<float, 4>> output{"output"};

    void generate() {
        const int c_dim = layout == Layout::NHWC ? 0 : 2, x_dim = layout == Layout::NHWC ? 1 : 0, y_dim = x_dim + 1;
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        Func padded = zero_padded(in, input.dim(x_dim).extent(), input.dim(y_dim).extent());

        DepthwiseGeometry g;
        g.kernel_w = kernel_w > 0 ? Expr(kernel_w) : filter.dim(2).extent();
        g.kernel_h = kernel_h > 0 ? Expr(kernel_h) : filter.dim(3).extent();
        g.multiplier = multiplier > 0 ? Expr(multiplier) : filter.dim(0).extent();
        g.stride_x = stride > 0 ? Expr(stride) : Expr(stride_x);
        g.stride_y = stride > 0 ? Expr(stride) : Expr(stride_y);
        g.dilation_x = dilation_x;
        g.dilation_y = dilation_y;
        g.pad_left = pad_left;
        g.pad_top = pad_top;
        DepthwiseStage dw = depthwise(padded, filter, bias, g);

        Var c("c"), x("x"), y("y"), n("n");
        Func activated("activated");
        activated(c, x, y, n) = activate(dw.result(c, x, y, n), activation,
                                         {activation_min, activation_max, leaky_alpha});
        store_in_layout(output, activated, layout);

        // Layout contract: filter is dense [M, C, k_w, k_h] starting at 0.
        filter.dim(0).set_min(0);
        filter.dim(1).set_min(0).set_stride(filter.dim(0).extent());
        filter.dim(2).set_min(0);
        filter.dim(3).set_min(0);
        if (kernel_w > 0) filter.dim(2).set_extent(kernel_w);
        if (kernel_h > 0) filter.dim(3).set_extent(kernel_h);
        if (multiplier > 0) filter.dim(0).set_extent(multiplier);
        for (int d = 0; d < 4; d++) {
            input.dim(d).set_min(0);
            output.dim(d).set_min(0);
        }
        bias.dim(0).set_min(0);
        // A bias of zeros arrives as a broadcast (stride 0) buffer.
        bias.dim(0).set_stride(Expr());

        // Estimates: MobileNet v1 dw2 (112x112x64, 3x3, stride 2).
        input.dim(c_dim).set_estimate(0, 64);
        input.dim(x_dim).set_estimate(0, 112);
        input.dim(y_dim).set_estimate(0, 112);
        input.dim(3).set_estimate(0, 1);
        filter.set_estimates({{0, 1}, {0, 64}, {0, 3}, {0, 3}});
        bias.set_estimates({{0, 64}});
        output.dim(c_dim).set_estimate(0, 64);
        output.dim(x_dim).set_estimate(0, 56);
        output.dim(y_dim).set_estimate(0, 56);
        output.dim(3).set_estimate(0, 1);
        stride_x.set_estimate(2);
        stride_y.set_estimate(2);
        dilation_x.set_estimate(1);
        dilation_y.set_estimate(1);
        pad_left.set_estimate(0);
        pad_top.set_estimate(0);
        activation_min.set_estimate(0.0f);
        activation_max.set_estimate(6.0f);
        leaky_alpha.set_estimate(1.0f);

        if (!using_autoscheduler()) {
            activated.compute_inline();
            schedules::schedule_depthwise({output, dw.result, dw.taps, layout, kernel_w > 0 && kernel_h > 0,
                                           g.multiplier, output.dim(c_dim).extent(), output.dim(x_dim).extent()},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Depthwise, depthwise)
