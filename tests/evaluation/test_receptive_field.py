import io
import math

import keras
import numpy as np
import pytest

from keras_lk import backbones, models
from keras_lk import layers as lk_layers
from keras_lk.evaluation import (
    ReceptiveField,
    ValidReceptiveField,
    plot_valid_receptive_field,
    theoretical_receptive_field,
    valid_receptive_field,
)


def _images(shape, seed=0):
    return np.random.RandomState(seed).normal(size=shape).astype("float32")


def _model(build, input_shape=(None, None, 3)):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, build(inputs))


def _conv_model(kernel, seed=0):
    """One 'same' convolution to 2 classes with the given (k, k, 3, 2) kernel (or size)."""
    keras.utils.set_random_seed(seed)
    size = kernel if isinstance(kernel, int) else kernel.shape[0]
    conv = keras.layers.Conv2D(2, size, padding="same")
    model = _model(conv)
    if not isinstance(kernel, int):
        conv.set_weights([kernel.astype("float32"), np.zeros(2, "float32")])
    return model


def _support(gradient):
    """(height, width) of the bounding box of the non-zero gradient."""
    rows, cols = np.nonzero(gradient.any(axis=1))[0], np.nonzero(gradient.any(axis=0))[0]
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


# === Theoretical receptive field ===


def test_two_stacked_3x3_convs_see_5x5():
    model = _model(lambda x: keras.layers.Conv2D(4, 3)(keras.layers.Conv2D(4, 3)(x)))
    assert theoretical_receptive_field(model) == ReceptiveField(size=5, stride=1)


def test_resnet_stem_is_11_pixels_at_stride_4():
    # 7x7 stride 2: 7 px, jump 2; 3x3 max-pool stride 2: 7 + 2 * 2 = 11 px, jump 4.
    def stem(x):
        x = keras.layers.Conv2D(8, 7, strides=2, padding="same")(x)
        x = keras.layers.BatchNormalization()(keras.layers.ReLU()(x))
        return keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)

    assert theoretical_receptive_field(_model(stem)) == ReceptiveField(11, 4)
    backbone = backbones.ResNet10Narrow()
    assert theoretical_receptive_field(backbone, "pool1_pool") == ReceptiveField(11, 4)


def test_resnet10_narrow_stages():
    # One basic block (two 3x3 convs, the first strided) per stage after the 11 px stem
    # at jump 4; a 3x3 conv adds 2 * jump, the strided one before doubling the jump:
    #   res2: 11 + 2*4 + 2*4 = 27 (jump 4)
    #   res3: 27 + 2*4 + 2*8 = 51 (jump 8)
    #   res4: 51 + 2*8 + 2*16 = 99 (jump 16)
    #   res5: 99 + 2*16 + 2*32 = 195 (jump 32)
    # The 1x1 shortcuts see less (11, 27, 51, 99); Add keeps the larger field.
    backbone = backbones.ResNet10Narrow()
    expected = {"conv2_block1_out": (27, 4), "conv3_block1_out": (51, 8),
                "conv4_block1_out": (99, 16), "conv5_block1_out": (195, 32)}
    for layer_name, (size, stride) in expected.items():
        assert theoretical_receptive_field(backbone, layer_name) == ReceptiveField(size, stride)


@pytest.mark.parametrize("output_stride", [32, 8])
def test_resnet50_field_is_483_and_dilation_keeps_it(output_stride):
    # ResNet-50 v1: 483 px (Araujo et al., "Computing Receptive Fields of CNNs", Distill
    # 2019). At output stride 8 a dilation d at jump J/d adds as much as the stride did.
    backbone = backbones.ResNet50(output_stride=output_stride)
    assert theoretical_receptive_field(backbone, "conv4_block6_out").size == 291
    assert theoretical_receptive_field(backbone, "conv5_block3_out") == ReceptiveField(
        483, output_stride)


def test_resnet50_gcn_module_is_k_by_k():
    # GCN block of conv4 (k=5, strides (1,2) then (2,1)) on res3 (99 px, jump 8): the
    # 1x5 and 5x1 branches give a square 99 + 4*8 = 131 px at jump 16 on both axes.
    backbone = backbones.ResNet50GCN()
    assert theoretical_receptive_field(backbone, "conv3_block4_out") == ReceptiveField(99, 8)
    assert theoretical_receptive_field(backbone, "conv4_block1_gcn_add") == ReceptiveField(
        131, 16)


def test_gcn_seg_figures():
    # resnet10_narrow res5: 195 px, jump 32. GCN k=15: + 14*32 = 643; BR: + 4*32 = 771;
    # deconv (k4 s2: 2 inputs per output): + 32 = 803 at jump 16; fuse BR: + 64 = 867;
    # deconv + 16 = 883 (jump 8), BR + 32 = 915; deconv + 8 = 923 (jump 4), BR + 16 = 939;
    # up1: deconv + 4 = 943 (jump 2), BR + 8 = 951; up2: deconv + 2 = 953 (jump 1),
    # BR + 4 = 957. The finer stages' branches are smaller; Add keeps the res-5 path.
    model = models.GCNSeg(num_classes=3, k=15, backbone="resnet10_narrow")
    expected = {"conv5_block1_out": (195, 32), "res5_gcn": (643, 32), "res5_br": (771, 32),
                "res5_deconv": (803, 16), "res4_fuse_br": (867, 16), "up1_br": (951, 2)}
    for layer_name, (size, stride) in expected.items():
        assert theoretical_receptive_field(model, layer_name) == ReceptiveField(size, stride)
    assert theoretical_receptive_field(model) == ReceptiveField(957, 1)


@pytest.mark.parametrize("head, k, growth", [("conv_kxk", 7, 6), ("stack3x3", 7, 6),
                                             ("conv1x1", 7, 0)])
def test_gcn_seg_heads(head, k, growth):
    model = models.GCNSeg(num_classes=3, k=k, backbone="resnet10_narrow", head=head,
                          boundary_refine=False, stack_channels=8 if head == "stack3x3" else None)
    field = theoretical_receptive_field(model, f"res5_{head}")
    assert field == ReceptiveField(195 + growth * 32, 32)


def test_fcrn_field_of_view_is_the_classifier_footprint():
    # resnet10_narrow at output stride 8 (res4 dilation 2, res5 dilation 4):
    #   res3: 51 (jump 8); res4: 51 + 2*2*8 + 2*2*8 = 115; res5: 115 + 2*4*8 * 2 = 243.
    # Classifier k=3, d=6: + (3-1)*6*8 = 96 -> 339; bilinear x8: + 8 (two neighbours).
    # `FCRN.field_of_view` = 8 * ((3-1)*6 + 1) = 104 counts the classifier taps only (each
    # one output-stride cell wide), not the backbone's own 243 px field.
    model = models.FCRN(3, backbone="resnet10_narrow", output_stride=8, kernel_size=3,
                        dilation=6)
    res5 = theoretical_receptive_field(model, "conv5_block1_out")
    classifier = theoretical_receptive_field(model, "classifier")
    assert res5 == ReceptiveField(243, 8) and classifier == ReceptiveField(339, 8)
    assert model.field_of_view == 104
    assert classifier.size - res5.size + model.output_stride == model.field_of_view
    assert theoretical_receptive_field(model) == ReceptiveField(243 + 104, 1)


def test_nested_models_are_entered():
    # HighResolutionSimulation calls the FCRN model four times on shifted images and
    # interleaves the passes: the FCRN's field at half its stride.
    fcrn = models.FCRN(3, backbone="resnet10_narrow", output_stride=8, kernel_size=3,
                       dilation=6, upsample_logits=False)
    wrapper = models.HighResolutionSimulation(fcrn, output_stride=8)
    assert theoretical_receptive_field(wrapper) == ReceptiveField(339, 4)

    inner = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.Conv2D(4, 3)])
    inner_functional = _model(lambda x: keras.layers.Conv2D(4, 5)(x), (None, None, 4))

    def outer(x):
        x = keras.layers.Conv2D(4, 3, strides=2)(x)  # 3 px, jump 2
        return inner_functional(inner(x))  # + 2*2 + 2*2 + 4*2

    assert theoretical_receptive_field(_model(outer)) == ReceptiveField(19, 2)
    sequential = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3),
                                   keras.layers.MaxPooling2D(2), keras.layers.Conv2D(4, 3)])
    assert theoretical_receptive_field(sequential) == ReceptiveField(8, 2)


def test_upsampling_divides_the_stride():
    def build(x):
        x = keras.layers.Conv2D(4, 3, strides=4)(x)  # 3 px, jump 4
        x = keras.layers.UpSampling2D(2)(x)  # nearest: one input per output
        return keras.layers.Conv2DTranspose(4, 2, strides=4)(x)  # k < s: one input

    assert theoretical_receptive_field(_model(build)) == ReceptiveField(3, 0.5)


@pytest.mark.parametrize("ga", ["cgnl", "nonlocal", "psp", "aspp"])
def test_global_aggregation_sees_the_whole_image(ga):
    model = models.GALDNet(3, backbone="resnet10_narrow", ga=ga, ld=True, head_channels=16,
                           cgnl_groups=4)
    assert theoretical_receptive_field(model, "logits").size == math.inf
    # The auxiliary head stays local: res4 at output stride 8 is 115 px (jump 8, see the
    # FCRN test), its 3x3 conv adds 2*8 = 131, the bilinear x8 upsampling + 8 = 139.
    assert theoretical_receptive_field(model, "aux_logits") == ReceptiveField(139, 1)


def test_global_pooling_and_group_norm_see_the_whole_image():
    pooled = _model(lambda x: keras.layers.GlobalAveragePooling2D(keepdims=True)(x))
    assert theoretical_receptive_field(pooled) == ReceptiveField(math.inf, 1)
    grouped = _model(lambda x: keras.layers.GroupNormalization(groups=1)(x))
    assert theoretical_receptive_field(grouped).size == math.inf


def test_local_distribution_without_ga():
    # head_reduce on res5 (243 at stride 8): 259. LD, rate 8, depthwise 3x3 s2 three
    # times: 1 + 2 + 4 + 8 = 15 coarse px at jump 8, bilinear upsampling + 8: 23 px, i.e.
    # + 22 * 8 = 176 -> 435.
    model = models.GALDNet(3, backbone="resnet10_narrow", ga=None, ld=True, aux_head=False,
                           head_channels=16)
    assert theoretical_receptive_field(model, "ld") == ReceptiveField(435, 8)


# Each model's theoretical field equals the support of its input gradient (random
# weights, so no tap is zero): the rules are exact for these layers.
SUPPORT_CASES = {
    "global_conv": (lambda x: lk_layers.GlobalConv(4, kernel_size=7)(x), 7),
    "boundary_refine": (lambda x: lk_layers.BoundaryRefine()(x), 5),
    "conv_stack": (lambda x: lk_layers.ConvStack3x3(4, 7, intermediate_filters=4)(x), 7),
    "large_kernel": (lambda x: lk_layers.LargeKernelConv(4, kernel_size=5)(x), 5),
    "ld_depthwise": (lambda x: lk_layers.LocalDistribution(8)(x), 23),
    "ld_bilinear": (lambda x: lk_layers.LocalDistribution(8, downsample="bilinear")(x), 10),
    "ld_average": (lambda x: lk_layers.LocalDistribution(8, downsample="average")(x), 16),
    "deconv": (lambda x: keras.layers.Conv2DTranspose(4, 4, strides=2, padding="same")(
        keras.layers.Conv2D(4, 3, strides=2, padding="same")(x)), 5),
    "bilinear_x4": (lambda x: keras.layers.UpSampling2D(4, interpolation="bilinear")(
        keras.layers.Conv2D(4, 3, strides=4, padding="same")(x)), 7),
    # 16 channels into the strided 1x1 conv: the gradient of one with fewer input channels
    # than oneDNN's block (16 on AVX-512) corrupts the heap in TF 2.21 (see the README's
    # known issues); the process then crashed in a later test.
    "resizing": (lambda x: keras.layers.Resizing(48, 48)(keras.layers.Conv2D(4, 1, strides=4)(
        keras.layers.Conv2D(16, 1)(x))), 5),
    "dilated": (lambda x: keras.layers.Conv2D(4, 3, dilation_rate=3, padding="same")(x), 7),
}


@pytest.mark.parametrize("case", sorted(SUPPORT_CASES))
def test_theoretical_field_equals_gradient_support(case):
    build, size = SUPPORT_CASES[case]
    keras.utils.set_random_seed(0)
    model = _model(lambda x: build(keras.layers.Conv2D(4, 1)(x)), (48, 48, 3))
    assert theoretical_receptive_field(model).size == size
    result = valid_receptive_field(model, _images((1, 48, 48, 3)), (24, 23), class_index=0,
                                   threshold=0.0)
    assert _support(result.gradient) == (size, size)


def test_pointwise_and_unknown_layers():
    class Scale(keras.layers.Layer):  # no kernel: pointwise
        def call(self, x):
            return 2.0 * x

    class Blur(keras.layers.Layer):  # a kernel with no rule
        kernel_size = 3

        def call(self, x):
            return x

    def scaled(x):
        return Scale()(keras.layers.Dropout(0.5)(keras.layers.Conv2D(2, 3)(x)))

    assert theoretical_receptive_field(_model(scaled)) == ReceptiveField(3, 1)
    with pytest.raises(ValueError, match="blur.*kernel_size.*LAYER_RULES"):
        theoretical_receptive_field(_model(lambda x: Blur(name="blur")(x)))

    class Subclassed(keras.Model):  # no graph to walk
        def __init__(self):
            super().__init__(name="subclassed")
            self.conv = keras.layers.Conv2D(2, 3)

        def call(self, x):
            return self.conv(x)

    with pytest.raises(ValueError, match="inside model 'subclassed'"):
        theoretical_receptive_field(_model(lambda x: Subclassed()(x), (8, 8, 3)))


def test_theoretical_bad_arguments():
    model = models.GALDNet(3, backbone="resnet10_narrow", ga=None, ld=False, head_channels=16)
    with pytest.raises(ValueError, match="2 outputs.*`layer_name`.*'aux_logits'"):
        theoretical_receptive_field(model)
    with pytest.raises(ValueError, match="`layer_name`.*'nope'"):
        theoretical_receptive_field(model, "nope")
    nested = _model(lambda x: backbones.ResNet10Narrow()(x)["res5"])  # a dict-output layer
    assert theoretical_receptive_field(nested) == ReceptiveField(195, 32)
    with pytest.raises(ValueError, match="`layer_name` 'resnet10_narrow' has several outputs"):
        theoretical_receptive_field(nested, "resnet10_narrow")
    with pytest.raises(TypeError, match="`model`"):
        theoretical_receptive_field(keras.layers.Conv2D(2, 3))


# === Valid receptive field ===


def test_valid_field_of_a_5x5_conv_is_exactly_its_window():
    model = _conv_model(5)
    result = valid_receptive_field(model, _images((2, 16, 20, 3)), (7, 11), threshold=0.0)
    assert isinstance(result, ValidReceptiveField)
    window = np.zeros((16, 20), bool)
    window[5:10, 9:14] = True
    assert result.gradient.shape == (16, 20) and result.gradient.dtype == np.float32
    np.testing.assert_array_equal(result.gradient > 0, window)
    np.testing.assert_array_equal(result.mask, window)
    assert result.center == (7, 11) and result.extent == 5


def test_gradient_is_the_kernel_summed_over_channels():
    # Score = sum over taps and channels of w * x: the gradient at input (7+i-2, 11+j-2)
    # is sum_c |w[i, j, c, class]|, the same for every image of the batch.
    kernel = np.random.RandomState(3).normal(size=(5, 5, 3, 2))
    model = _conv_model(kernel)
    result = valid_receptive_field(model, _images((3, 16, 20, 3)), (7, 11), class_index=1)
    np.testing.assert_allclose(result.gradient[5:10, 9:14], np.abs(kernel[..., 1]).sum(-1),
                               rtol=1e-6)
    assert result.gradient.sum() == pytest.approx(np.abs(kernel[..., 1]).sum(), rel=1e-6)


def test_default_class_is_the_predicted_one_per_image():
    kernel = np.random.RandomState(4).normal(size=(3, 3, 3, 2))
    model = _conv_model(kernel)
    images = _images((4, 9, 9, 3), seed=5)
    predicted = np.argmax(keras.ops.convert_to_numpy(model(images))[:, 4, 4], axis=-1)
    assert len(set(predicted)) == 2  # both classes occur: the test is not trivial
    per_class = np.abs(kernel).sum(axis=2)  # (3, 3, classes)
    expected = per_class[..., predicted].mean(axis=-1)
    result = valid_receptive_field(model, images, (4, 4))
    np.testing.assert_allclose(result.gradient[3:6, 3:6], expected, rtol=1e-6)


@pytest.mark.parametrize("center_weight, extent", [(1.0, 5), (1000.0, 1)])
def test_extent_holds_95_percent_of_the_mass(center_weight, extent):
    # Uniform 5x5: the inner 3x3 holds 9/25 < 95% -> 5. A dominant centre tap holds
    # 3000 / (3000 + 24*3) = 97.7% -> 1.
    kernel = np.ones((5, 5, 3, 2))
    kernel[2, 2] = center_weight
    result = valid_receptive_field(_conv_model(kernel), _images((1, 12, 12, 3)), (6, 6),
                                   class_index=0)
    assert result.extent == extent


def test_extent_of_a_3x3_window_model_is_at_most_3():
    def build(x):
        x = keras.layers.AveragePooling2D(3, strides=1, padding="same")(x)
        return keras.layers.Conv2D(2, 1)(x)

    result = valid_receptive_field(_model(build), _images((2, 15, 15, 3)), (7, 7))
    assert result.extent <= 3 and result.mask.sum() == 9


def test_centre_of_a_coarse_output():
    # 2x2 stride-2 conv: output (2, 3) sees input rows 4-5, cols 6-7; its centre is on the
    # input pixel (floor(2.5 * 2), floor(3.5 * 2)) = (5, 7).
    model = _model(lambda x: keras.layers.Conv2D(2, 2, strides=2)(x))
    result = valid_receptive_field(model, _images((1, 10, 12, 3)), (2, 3), threshold=0.0)
    assert np.argwhere(result.mask).tolist() == [[4, 6], [4, 7], [5, 6], [5, 7]]
    assert result.center == (5, 7) and result.extent == 3


def test_gcn_seg_valid_field():
    model = models.GCNSeg(num_classes=3, k=15, backbone="resnet10_narrow")
    result = valid_receptive_field(model, _images((2, 64, 64, 3)), (32, 32))
    assert result.gradient.shape == (64, 64) and result.gradient.dtype == np.float32
    assert np.isfinite(result.gradient).all() and result.gradient.max() > 0
    assert result.mask.dtype == bool and result.mask[32, 32]
    assert 1 <= result.extent <= 64 and result.extent % 2 == 1


def test_multi_output_model_picks_the_named_output():
    model = models.GALDNet(3, backbone="resnet10_narrow", ga=None, ld=True, head_channels=16,
                           output_stride=16)
    images = _images((1, 32, 32, 3))
    main = valid_receptive_field(model, images, (16, 16))
    aux = valid_receptive_field(model, images, (16, 16), output="aux_logits")
    assert main.gradient.shape == aux.gradient.shape == (32, 32)
    assert not np.allclose(main.gradient, aux.gradient)
    with pytest.raises(ValueError, match="`output`.*'aux_logits', 'logits'.*'nope'"):
        valid_receptive_field(model, images, (16, 16), output="nope")


def test_mixed_precision_gives_a_float32_gradient():
    kernel = np.random.RandomState(6).normal(size=(3, 3, 3, 2))
    reference = valid_receptive_field(_conv_model(kernel), _images((1, 8, 8, 3)), (4, 4),
                                      class_index=0)
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = _conv_model(kernel)
        result = valid_receptive_field(model, _images((1, 8, 8, 3)), (4, 4), class_index=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert result.gradient.dtype == np.float32
    np.testing.assert_allclose(result.gradient, reference.gradient, rtol=0.02, atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"images": np.zeros((8, 8, 3))}, "`images`.*N×H×W×C.*(8, 8, 3)"),
    ({"pixel": (8, 0)}, r"`pixel`.*\(8, 8\).*\(8, 0\)"),
    ({"pixel": (-1, 0)}, "`pixel`.*inside"),
    ({"pixel": (1.5, 0)}, "`pixel`.*integers"),
    ({"pixel": 3}, "`pixel`.*pair"),
    ({"class_index": 2}, r"`class_index`.*\[0, 2\).*2"),
    ({"class_index": "cat"}, "`class_index`.*integer"),
    ({"output": "aux_logits"}, "`output`"),
    ({"threshold": 1.5}, r"`threshold`.*\[0, 1\]"),
])
def test_valid_field_bad_arguments(kwargs, message):
    arguments = {"images": np.zeros((1, 8, 8, 3)), "pixel": (4, 4), **kwargs}
    with pytest.raises(ValueError, match=message):
        valid_receptive_field(_conv_model(3), **arguments)


# === Plot ===


def test_plot_valid_receptive_field():
    from matplotlib.figure import Figure

    images = _images((1, 16, 16, 3))
    result = valid_receptive_field(_conv_model(5), images, (8, 8))
    figure = plot_valid_receptive_field(images[0], result, title="5x5 conv")
    assert isinstance(figure, Figure)
    axis, colorbar = figure.axes  # the image and its colour bar
    assert axis.get_title() == "5x5 conv"
    assert axis.get_xlabel() == "column (px)" and axis.get_ylabel() == "row (px)"
    assert "score" in colorbar.get_ylabel()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"

    panel = Figure().add_subplot()
    assert plot_valid_receptive_field(images[0], result, ax=panel) is panel.figure
    assert "extent 5 px" in panel.get_title()
    with pytest.raises(ValueError, match="`image`.*16, 16"):
        plot_valid_receptive_field(np.zeros((8, 8, 3)), result)
