// Depthwise 2-D convolution, TensorFlow's tf.nn.depthwise_conv2d (float32).
//   out[n, i, j, k*M + q] = bias[k*M + q] + sum_{di, dj} filter[di, dj, k, q] *
//       in_padded[n, s_h*i + r_h*di - pad_top, s_w*j + r_w*dj - pad_left, k]
// then the activation. The output extent (out_h, out_w) is the output
// buffer's; pad_top / pad_left come from TF's padding rules (runtime/shape.cpp).
#include "Halide.h"
#include "algorithm.h"
#include "contracts.h"
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
    // The input's channel count (NHWC only): the tensors' columns are then
    // dense at a constant stride (a per-layer variant).
    GeneratorParam<int> channels{"channels", 0};
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
        const TensorDims d = tensor_dims(layout);
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        Func padded = zero_padded(in, input.dim(d.x).extent(), input.dim(d.y).extent());
        const DepthwiseGeometry g = depthwise_geometry(*this, filter);
        DepthwiseStage dw = depthwise(padded, filter, bias, g);

        Var c("c"), x("x"), y("y"), n("n");
        const ActivationInputs activation_inputs{activation_min, activation_max, leaky_alpha};
        Func activated("activated");
        activated(c, x, y, n) = activate(dw.result(c, x, y, n), activation, activation_inputs);
        store_in_layout(output, activated, layout);

        require_depthwise_filter(*this, filter);
        require_tensors_from_zero(*this);
        require_channels(*this, filter, channels * g.multiplier);

        // Estimates: MobileNet v1 dw2 (112x112x64, 3x3, stride 2).
        estimate_tensor(input, layout, 64, 112, 112);
        filter.set_estimates({{0, 1}, {0, 64}, {0, 3}, {0, 3}});
        bias.set_estimates({{0, 64}});
        estimate_tensor(output, layout, 64, 56, 56);
        estimate_depthwise_geometry(*this, 2, 0);
        estimate_relu6(*this);

        if (!using_autoscheduler()) {
            activated.compute_inline();
            schedules::schedule_depthwise({output, dw.result, dw.taps, layout, taps_known(*this), g.multiplier,
                                           g.dilation_x, g.dilation_y,
                                           output.dim(d.c).extent(), output.dim(d.x).extent(),
                                           activation_special_cases(activation, activation_inputs)},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Depthwise, depthwise)
