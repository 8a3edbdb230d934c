// Pointwise (1x1, stride 1) convolution, the second stage of
// tf.nn.separable_conv2d (float32):
//   out[n, i, j, o] = bias[o] + sum_c in[n, i, j, c] * weights[0, 0, c, o]
// then the activation.
#include "Halide.h"
#include "algorithm.h"
#include "schedules.h"

namespace sepconv {
namespace {

using namespace Halide;

class Pointwise : public Generator<Pointwise> {
public:
    GeneratorParam<Layout> layout{"layout", Layout::NHWC, layout_names};
    GeneratorParam<Activation> activation{"activation", Activation::Runtime, activation_names};
    // Schedule knobs overriding the hand schedule (schedules/knobs.h): "name=value,...".
    GeneratorParam<std::string> knobs{"knobs", ""};

    // NHWC: [in_channels, width, height, batch]; NCHW: [width, height, in_channels, batch]
    Input<Buffer<float, 4>> input{"input"};
    // TF [1, 1, in_channels, out_channels]: [out_channels, in_channels]
    Input<Buffer<float, 2>> weights{"weights"};
    // [out_channels]; a zero-stride buffer of zeros when there is no bias
    Input<Buffer<float, 1>> bias{"bias"};
    Input<float> activation_min{"activation_min"}, activation_max{"activation_max"};
    Input<float> leaky_alpha{"leaky_alpha"};
    // Same layout as input, out_channels channels
    Output<Buffer<float, 4>> output{"output"};

    void generate() {
        const int c_dim = layout == Layout::NHWC ? 0 : 2, x_dim = layout == Layout::NHWC ? 1 : 0, y_dim = x_dim + 1;
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        PointwiseStage pw = pointwise(in, weights, bias, input.dim(c_dim).extent());

        Var c("c"), x("x"), y("y"), n("n");
        Func activated("activated");
        activated(c, x, y, n) = activate(pw.result(c, x, y, n), activation,
                                         {activation_min, activation_max, leaky_alpha});
        store_in_layout(output, activated, layout);

        for (int d = 0; d < 4; d++) {
            input.dim(d).set_min(0);
            output.dim(d).set_min(0);
        }
        weights.dim(0).set_min(0);
        weights.dim(1).set_min(0);
        bias.dim(0).set_min(0).set_stride(Expr());

        // Estimates: MobileNet v1 pw1 (112x112, 32 -> 64).
        input.dim(c_dim).set_estimate(0, 32);
        input.dim(x_dim).set_estimate(0, 112);
        input.dim(y_dim).set_estimate(0, 112);
        input.dim(3).set_estimate(0, 1);
        weights.set_estimates({{0, 64}, {0, 32}});
        bias.set_estimates({{0, 64}});
        output.dim(c_dim).set_estimate(0, 64);
        output.dim(x_dim).set_estimate(0, 112);
        output.dim(y_dim).set_estimate(0, 112);
        output.dim(3).set_estimate(0, 1);
        activation_min.set_estimate(0.0f);
        activation_max.set_estimate(6.0f);
        leaky_alpha.set_estimate(1.0f);

        if (!using_autoscheduler()) {
            activated.compute_inline();
            schedules::schedule_pointwise({output, pw.result, pw.channels, layout, output.dim(c_dim).extent(),
                                           output.dim(x_dim).extent()},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Pointwise, pointwise)
