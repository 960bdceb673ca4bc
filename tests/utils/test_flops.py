import keras
import numpy as np

from keras_lk.utils import count_flops


def test_count_flops_conv_deconv_dense_depthwise_closed_forms():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv")(inputs)          # 16x16
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw")(x)  # 8x8
    x = keras.layers.Conv2DTranspose(4, 4, strides=2, padding="same", use_bias=False,
                                     name="deconv")(x)                            # 16x16
    x = keras.layers.Dense(5, name="dense")(x)
    model = keras.Model(inputs, x)
    total, parts = count_flops(model, (16, 16, 3), return_breakdown=True)
    conv = 2 * 16 * 16 * 8 * 3 * 3 * 3
    depthwise = 2 * 8 * 8 * 8 * 3 * 3
    deconv = 2 * 8 * 8 * 8 * 4 * 4 * 4
    dense = 2 * 16 * 16 * 4 * 5
    assert parts["conv"] == conv
    assert parts["depthwise_conv"] == depthwise
    assert parts["conv_transpose"] == deconv
    assert parts["matmul"] == dense
    assert total == conv + depthwise + deconv + dense


def test_count_flops_resnet50_224_and_restores_backend():
    from keras.src import backend

    from keras_lk.backbones import ResNet50

    original = backend.nn.conv
    flops = count_flops(ResNet50(), (224, 224, 3))
    assert backend.nn.conv is original
    # ResNet-50 without the classifier: 3.86 G multiply-adds.
    assert abs(flops / 2e9 - 3.856) < 0.01
    assert np.isfinite(flops)
