// Pointwise (1x1, stride 1) convolution, the second stage of
// tf.nn.separable_conv2d (float32):
//   out[n, i, j, o] = bias[o] + sum_c in[n, i, j, c] * weights[0, 0, c, o]
// then the activation.
#include "Halide.h"
#include "algorithm.h"
#include "contracts.h"
#include "schedules.h"

namespace sepconv {
namespace {

using namespace Halide;

class Pointwise : public Generator<Pointwise> {
public:
    GeneratorParam<Layout> layout{"layout", Layout::NHWC, layout_names};
    GeneratorParam<Activation> activation{"activation", Activation::Runtime, activation_names};
    // The weights' layout: tf, or packed (PointwiseWeights in algorithm.h).
    GeneratorParam<PointwiseWeights> weights_layout{"weights_layout", PointwiseWeights::TF,
                                                    pointwise_weights_names};
    // Schedule knobs overriding the hand schedule (schedules/knobs.h): "name=value,...".
    GeneratorParam<std::string> knobs{"knobs", ""};

    // NHWC: [in_channels, width, height, batch]; NCHW: [width, height, in_channels, batch]
    Input<Buffer<float, 4>> input{"input"};
    // tf: TF [1, 1, in_channels, out_channels] as [out_channels, in_channels];
    // packed: [16 * in_channels, out_channels / 16] (out_channels a multiple of 16)
    Input<Buffer<float, 2>> weights{"weights"};
    // [out_channels]; a zero-stride buffer of zeros when there is no bias
    Input<Buffer<float, 1>> bias{"bias"};
    Input<float> activation_min{"activation_min"}, activation_max{"activation_max"};
    Input<float> leaky_alpha{"leaky_alpha"};
    // Same layout as input, out_channels channels
    Output<Buffer<float, 4>> output{"output"};

    void generate() {
        const TensorDims d = tensor_dims(layout);
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        const bool packed = weights_layout == PointwiseWeights::Packed;
        PointwiseStage pw = pointwise(in, pointwise_weights(weights, weights_layout), bias, input.dim(d.c).extent());

        Var c("c"), x("x"), y("y"), n("n");
        Func activated("activated");
        const ActivationInputs activation_inputs{activation_min, activation_max, leaky_alpha};
        activated(c, x, y, n) = activate(pw.result(c, x, y, n), activation, activation_inputs);
        store_in_layout(output, activated, layout);

        if (packed) {
            weights.dim(0).set_extent(input.dim(d.c).extent() * kPackedOutputChannels);
            require_packed_pointwise_weights(*this, weights);
        } else {
            weights.dim(0).set_min(0);
            weights.dim(1).set_min(0);
        }
        require_tensors_from_zero(*this);

        // Estimates: MobileNet v1 pw1 (112x112, 32 -> 64).
        estimate_tensor(input, layout, 32, 112, 112);
        if (packed) {
            weights.set_estimates({{0, 32 * kPackedOutputChannels}, {0, 64 / kPackedOutputChannels}});
        } else {
            weights.set_estimates({{0, 64}, {0, 32}});
        }
        bias.set_estimates({{0, 64}});
        estimate_tensor(output, layout, 64, 112, 112);
        estimate_relu6(*this);

        if (!using_autoscheduler()) {
            schedules::schedule_pointwise({output, pw.result, pw.channels, layout, output.dim(d.c).extent(),
                                           output.dim(d.x).extent(), packed, activated,
                                           activation_special_cases(activation, activation_inputs)},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Pointwise, pointwise)
