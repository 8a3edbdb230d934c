// Separable 2-D convolution, TensorFlow's tf.nn.separable_conv2d (float32):
// a depthwise convolution (stride, dilation, padding, multiplier M) feeding a
// 1x1 convolution over its C*M channels, then bias and the activation.
//   mid[n, i, j, k*M + q] = sum_{di, dj} dw[di, dj, k, q] * in_padded[...]
//   out[n, i, j, o]       = bias[o] + sum_m mid[n, i, j, m] * pw[0, 0, m, o]
// `mid` is a Func of its own so the schedule can fuse it into the pointwise
// loop nest.
#include "Halide.h"
#include "algorithm.h"
#include "contracts.h"
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
    // The input's channel count (NHWC only): the tensors' columns are then
    // dense at a constant stride, and the intermediate's channel count
    // (channels * multiplier) a constant (a per-layer variant).
    GeneratorParam<int> channels{"channels", 0};
    GeneratorParam<Activation> activation{"activation", Activation::Runtime, activation_names};
    // The pointwise weights' layout: tf, or packed (PointwiseWeights in algorithm.h).
    GeneratorParam<PointwiseWeights> weights_layout{"weights_layout", PointwiseWeights::TF,
                                                    pointwise_weights_names};
    // Schedule knobs overriding the hand schedule (schedules/knobs.h): "name=value,...".
    GeneratorParam<std::string> knobs{"knobs", ""};

    // NHWC: [channels, width, height, batch]; NCHW: [width, height, channels, batch]
    Input<Buffer<float, 4>> input{"input"};
    // TF [k_h, k_w, channels, multiplier]: [multiplier, channels, k_w, k_h]
    Input<Buffer<float, 4>> depthwise_filter{"depthwise_filter"};
    // tf: TF [1, 1, channels * multiplier, out_channels] as [out_channels, channels * multiplier];
    // packed: [16 * channels * multiplier, out_channels / 16] (out_channels a multiple of 16)
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
        const TensorDims d = tensor_dims(layout);
        Func in = channels_x_y_batch(input, layout, "input_cxyn");
        Func padded = zero_padded(in, input.dim(d.x).extent(), input.dim(d.y).extent());
        const DepthwiseGeometry g = depthwise_geometry(*this, depthwise_filter);
        Var c("c"), x("x"), y("y"), n("n");
        Func no_bias("no_depthwise_bias");
        no_bias(c) = 0.0f;
        DepthwiseStage dw = depthwise(padded, depthwise_filter, no_bias, g);

        const bool packed = weights_layout == PointwiseWeights::Packed;
        // The pointwise weights' input channels (the intermediate's, C * M)
        // and output channels: TF's [O, C * M]; packed [16 * C * M, O / 16].
        const int mid_dim = packed ? 0 : 1, out_dim = packed ? 1 : 0;
        const int block = packed ? kPackedOutputChannels : 1;
        Expr mid_channels = pointwise_filter.dim(mid_dim).extent() / block;
        const Expr out_channels = pointwise_filter.dim(out_dim).extent() * block;
        if (channels > 0) {
            mid_channels = channels * g.multiplier;
            pointwise_filter.dim(mid_dim).set_extent(mid_channels * block);
        }
        PointwiseStage pw =
            pointwise(dw.result, pointwise_weights(pointwise_filter, weights_layout), bias, mid_channels);

        Func activated("activated");
        const ActivationInputs activation_inputs{activation_min, activation_max, leaky_alpha};
        activated(c, x, y, n) = activate(pw.result(c, x, y, n), activation, activation_inputs);
        store_in_layout(output, activated, layout);

        require_depthwise_filter(*this, depthwise_filter);
        if (packed) {
            require_packed_pointwise_weights(*this, pointwise_filter);
        } else {
            pointwise_filter.dim(0).set_min(0);
            pointwise_filter.dim(1).set_min(0);
        }
        require_tensors_from_zero(*this);
        require_channels(*this, depthwise_filter, out_channels);

        // Estimates: MobileNet v1 layer 1 (112x112x32, 3x3 stride 1, -> 64).
        estimate_tensor(input, layout, 32, 112, 112);
        depthwise_filter.set_estimates({{0, 1}, {0, 32}, {0, 3}, {0, 3}});
        if (packed) {
            pointwise_filter.set_estimates({{0, 32 * kPackedOutputChannels}, {0, 64 / kPackedOutputChannels}});
        } else {
            pointwise_filter.set_estimates({{0, 64}, {0, 32}});
        }
        bias.set_estimates({{0, 64}});
        estimate_tensor(output, layout, 64, 112, 112);
        estimate_depthwise_geometry(*this, 1, 1);
        estimate_relu6(*this);

        if (!using_autoscheduler()) {
            no_bias.compute_inline();
            schedules::schedule_separable({output, dw.result, dw.taps, pw.result, pw.channels, layout,
                                           taps_known(*this), g.multiplier, g.dilation_x, g.dilation_y, mid_channels,
                                           output.dim(d.c).extent(), output.dim(d.x).extent(), packed, activated,
                                           activation_special_cases(activation, activation_inputs)},
                                          get_target(), schedules::Knobs::parse(knobs));
        }
    }
};

}  // namespace
}  // namespace sepconv

HALIDE_REGISTER_GENERATOR(sepconv::Separable, separable)
