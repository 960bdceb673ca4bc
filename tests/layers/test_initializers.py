"""Training fidelity: each layer and family starts as the reference code it follows.

Every rule is checked against its closed-form statistic: the standard deviation of a
freshly built kernel (U(−b, b) has std b/√3), or the BatchNorm settings of the layers.
"""

import math

import keras
import numpy as np
import pytest

import keras_lk
from keras_lk.layers import TORCH_BATCH_NORM, TorchConvUniform
from keras_lk.layers.initializers import conv_initializers, norm_options
from keras_lk.training import TrainConfig
from keras_lk.training.optimizers import make_optimizer


def uniform_std(fan_in):
    """The standard deviation of PyTorch's U(±1/√fan_in)."""
    return 1.0 / math.sqrt(3.0 * fan_in)


@pytest.mark.parametrize("shape, depthwise, fan_in", [
    ((3, 3, 64, 32), False, 9 * 64),
    ((1, 15, 48, 7), False, 15 * 48),
    ((3, 3, 64, 1), True, 9),      # depth-wise: PyTorch's fan-in is k·k, not k·k·C
    ((5, 5, 128, 1), True, 25),
])
def test_torch_conv_uniform_has_pytorch_bound_and_std(shape, depthwise, fan_in):
    kernel = np.asarray(TorchConvUniform(depthwise=depthwise, seed=3)(shape))
    bound = 1.0 / math.sqrt(fan_in)
    assert np.abs(kernel).max() <= bound
    assert np.abs(kernel).max() > 0.95 * bound
    assert kernel.std() == pytest.approx(uniform_std(fan_in), rel=0.1)


def test_keras_glorot_starts_depthwise_kernels_smaller_than_pytorch():
    # The deviation the rule fixes: (C + 1)/6 times the variance at C channels.
    channels = 64
    glorot = np.asarray(keras.initializers.GlorotUniform(seed=0)((3, 3, channels, 1)))
    torch = np.asarray(TorchConvUniform(depthwise=True, seed=0)((3, 3, channels, 1)))
    assert (torch.var() / glorot.var()) == pytest.approx((channels + 1) / 6, rel=0.15)


def test_torch_conv_uniform_bias_takes_its_kernels_fan_in():
    bias = np.asarray(TorchConvUniform(fan_in=9, seed=1)((4096,)))
    assert np.abs(bias).max() <= 1 / 3
    assert bias.std() == pytest.approx(uniform_std(9), rel=0.1)
    with pytest.raises(ValueError, match="no fan-in of its own"):
        TorchConvUniform()((16,))
    with pytest.raises(ValueError, match="`fan_in` must be None or an integer"):
        TorchConvUniform(fan_in=0)


def test_torch_conv_uniform_round_trips_and_is_seeded():
    init = TorchConvUniform(depthwise=True, fan_in=None, seed=5)
    again = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert isinstance(again, TorchConvUniform)
    assert again.get_config() == {"depthwise": True, "fan_in": None, "seed": 5}
    np.testing.assert_array_equal(np.asarray(init((3, 3, 8, 1))),
                                  np.asarray(again((3, 3, 8, 1))))


def test_initialization_helpers_name_their_choices():
    assert conv_initializers("keras") == {} and norm_options("keras") == {}
    assert norm_options("torch") == {"epsilon": 1e-5, "momentum": 0.9}
    with pytest.raises(ValueError, match="`initialization` must be one of"):
        conv_initializers("caffe")


@pytest.mark.parametrize("variant, size", [("paper", 32), ("official", 33)])
def test_local_distribution_starts_as_gald_code(variant, size):
    channels = 64
    layer = keras_lk.layers.LocalDistribution(downsample_rate=2, batch_norm=True, relu=True,
                                              variant=variant)
    layer.build((None, size, size, channels))
    kernel = np.asarray(layer.depthwise_kernels[0])
    # PyTorch's depth-wise fan-in 3·3: std 0.192, not glorot's 0.034 at 64 channels.
    assert kernel.std() == pytest.approx(uniform_std(9), rel=0.15)
    for norm in layer.norms:
        assert (norm.epsilon, norm.momentum) == (1e-5, 0.9)
    if variant == "official":
        bias = np.asarray(layer.depthwise_biases[0])
        assert np.abs(bias).max() <= 1 / 3 and bias.std() > 0.1


def test_local_distribution_mask_is_not_flat_at_the_start():
    # Glorot's C-times-smaller kernels left the mask at ≈ 0.5 everywhere.
    layer = keras_lk.layers.LocalDistribution(downsample_rate=2)
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 64)).astype("float32")
    features = layer(x) - x  # = M ⊙ x
    mask = np.asarray(features) / x
    assert np.std(mask[np.abs(x) > 0.5]) > 0.08


@pytest.mark.parametrize("layer", [
    keras_lk.layers.CGNL(groups=4, initialization="torch"),
    keras_lk.layers.NonLocal(initialization="torch"),
    keras_lk.layers.PyramidPooling(bins=(1, 2), initialization="torch"),
    keras_lk.layers.ASPP(rates=(2,), branch_filters=16, initialization="torch"),
], ids=lambda layer: type(layer).__name__)
def test_global_aggregation_modules_start_as_pytorch_with_torch_initialization(layer):
    channels = 64
    layer.build((None, 9, 9, channels))
    checked = 0
    for sublayer in layer._flatten_layers(include_self=False):
        if isinstance(sublayer, keras.layers.Conv2D):
            kernel = np.asarray(sublayer.kernel)
            fan_in = math.prod(kernel.shape[:-1])
            assert kernel.std() == pytest.approx(uniform_std(fan_in), rel=0.2), sublayer.name
            checked += 1
        if isinstance(sublayer, (keras.layers.BatchNormalization,
                                 keras.layers.GroupNormalization)):
            assert sublayer.epsilon == 1e-5, sublayer.name
            if isinstance(sublayer, keras.layers.BatchNormalization):
                assert sublayer.momentum == 0.9, sublayer.name
    assert checked >= 2
    again = type(layer).from_config(layer.get_config())
    assert again.initialization == "torch"


@pytest.mark.parametrize("variant, size", [("paper", 64), ("official", 129)])
def test_gald_net_head_starts_as_the_public_code(variant, size):
    model = keras_lk.models.GALDNet(5, backbone="resnet10_local", head_channels=32,
                                    variant=variant, input_shape=(size, size, 3))
    head_norms = [layer for layer in model._flatten_layers(include_self=False)
                  if isinstance(layer, keras.layers.BatchNormalization)
                  and not layer.name.startswith(("conv", "pool1"))]
    assert len(head_norms) >= 4
    for norm in head_norms:
        assert (norm.epsilon, norm.momentum) == tuple(TORCH_BATCH_NORM.values()), norm.name
    kernel = np.asarray(model.get_layer("ga_downsample_conv").kernel)
    assert kernel.std() == pytest.approx(uniform_std(9), rel=0.2)
    classifier = model.get_layer("classifier")
    fan_in = classifier.kernel.shape[-2]
    assert np.abs(np.asarray(classifier.bias)).max() <= 1 / math.sqrt(fan_in)
    assert np.asarray(classifier.bias).std() > 0  # PyTorch's biases do not start at 0


def _decayed(l2_on):
    config = TrainConfig(optimizer="sgd", l2=1e-4, l2_on=l2_on, tensorboard=False)
    optimizer = make_optimizer(config)
    return {path: optimizer.decays(path) for path in (
        "head_fuse_conv/kernel", "ld/depthwise1_kernel", "head_fuse_bn/gamma",
        "classifier/bias")}


def test_l2_on_kernels_or_every_variable():
    assert _decayed("kernels") == {"head_fuse_conv/kernel": True, "ld/depthwise1_kernel": True,
                                   "head_fuse_bn/gamma": False, "classifier/bias": False}
    assert all(_decayed("all").values())
    with pytest.raises(ValueError, match="`l2_on` must be one of"):
        TrainConfig(l2_on="biases")


def test_gald_full_scale_decays_every_parameter_as_its_code():
    from keras_lk.experiments.settings import GALD_CITYSCAPES

    assert GALD_CITYSCAPES.train["l2_on"] == "all"


@pytest.mark.parametrize("variant, size", [("paper", 64), ("official", 129)])
def test_gald_net_ld_initialization_keras_restores_glorots_start(variant, size):
    """`ld_initialization="keras"`: LD's depth-wise kernels start from glorot_uniform,
    U(±√(6 / (k·k·C + k·k))), the start before the fidelity rules; "torch" is the code's."""
    stds = {}
    for start in ("torch", "keras"):
        keras.utils.set_random_seed(0)
        model = keras_lk.models.GALDNet(5, backbone="resnet10_local", head_channels=64,
                                        variant=variant, ld_initialization=start,
                                        input_shape=(size, size, 3))
        kernels = [np.asarray(w) for w in model.get_layer("ld").depthwise_kernels]
        stds[start] = np.concatenate([k.ravel() for k in kernels]).std()
        again = keras_lk.models.GALDNet.from_config(model.get_config())
        assert again.ld_initialization == start
    assert stds["torch"] == pytest.approx(uniform_std(9), rel=0.1)
    glorot_bound = math.sqrt(6.0 / (9 * 64 + 9))
    assert stds["keras"] == pytest.approx(glorot_bound / math.sqrt(3.0), rel=0.1)


@pytest.mark.parametrize("options", [{"ld": False}, {"ld_downsample": "bilinear"},
                                     {"ga": None, "ld": False}])
def test_gald_net_ld_initialization_needs_the_depthwise_downsampler(options):
    with pytest.raises(ValueError, match="ld_initialization"):
        keras_lk.models.GALDNet(5, backbone="resnet10_local", head_channels=32,
                                ld_initialization="keras", **options)
    with pytest.raises(ValueError, match="ld_initialization"):
        keras_lk.models.GALDNet(5, backbone="resnet10_local", ld_initialization="glorot")
