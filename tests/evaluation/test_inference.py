import keras
import numpy as np
import pytest

from keras_lk import models
from keras_lk.evaluation import predict_multiscale, predict_sliding_window
from keras_lk.evaluation.tta import _tile_origins


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _conv_model(kernel_size, classes=4, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(classes, kernel_size, padding="same",
                                  bias_initializer="random_normal")(inputs)
    return keras.Model(inputs, outputs)


def _images(shape, seed=0):
    return np.random.RandomState(seed).normal(size=shape).astype("float32")


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_tile_origins_of_the_papers():
    # GCN, Cityscapes: four 1024x1024 crops of a 1024x2048 image (overlap 2/3).
    assert _tile_origins(2048, 1024, 342) == [0, 342, 684, 1024]
    assert _tile_origins(1024, 1024, 342) == [0]
    # GALD: 769 tiles with 1/3 overlap (stride 513).
    assert _tile_origins(2048, 769, 513) == [0, 513, 1026, 1279]
    assert _tile_origins(1024, 769, 513) == [0, 255]


@pytest.mark.parametrize("tile, overlap", [(16, 1 / 3), ((9, 20), 0.5), (64, 0.0)])
def test_sliding_window_equals_whole_image_for_pointwise_model(tile, overlap):
    model = _conv_model(1)
    images = _images((2, 37, 50, 3))
    expected = _softmax(_numpy(model(images)))
    fused = predict_sliding_window(model, images, tile=tile, overlap=overlap, num_classes=4)
    assert fused.shape == (2, 37, 50, 4) and fused.dtype == np.float32
    np.testing.assert_allclose(fused, expected, atol=1e-6)


def test_sliding_window_averages_overlapping_tile_scores():
    # A model whose logits depend on the whole tile (global mean): the fused score of a
    # pixel is the mean of the softmax of every tile covering it.
    inputs = keras.Input((None, None, 3))
    pooled = keras.layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    outputs = keras.layers.Lambda(lambda t: t[1] * 3.0 + 0.0 * t[0][..., :1])([inputs, pooled])
    model = keras.Model(inputs, outputs)
    image = _images((10, 14, 3), seed=1)
    total, count = np.zeros((10, 14, 3)), np.zeros((10, 14, 1))
    for top in (0, 3, 4):  # ceil((10 - 6) / 3) + 1 tiles, the last flush with the edge.
        for left in (0, 3, 6, 8):
            crop = image[top : top + 6, left : left + 6]
            total[top : top + 6, left : left + 6] += _softmax(crop.mean((0, 1)) * 3.0)
            count[top : top + 6, left : left + 6] += 1
    fused = predict_sliding_window(model, image, tile=6, overlap=0.5)
    assert fused.shape == (10, 14, 3)
    np.testing.assert_allclose(fused, total / count, atol=1e-5)


def test_multiscale_single_scale_equals_predict_gcn():
    keras.utils.set_random_seed(0)
    model = models.GCNSeg(num_classes=3, k=7, backbone="resnet18")
    images = _images((2, 45, 61, 3))
    probs = predict_multiscale(model, images, scales=(1.0,), flip=False)
    np.testing.assert_allclose(probs, _softmax(_numpy(model(images, training=False))),
                               atol=1e-5)


def test_flip_averaging_equals_manual_average():
    model = _conv_model(3)
    images = _images((1, 12, 17, 3))
    plain = _softmax(_numpy(model(images)))
    mirrored = _softmax(_numpy(model(images[:, :, ::-1].copy())))[:, :, ::-1]
    assert not np.allclose(plain, mirrored, atol=1e-3)  # The model is not symmetric.
    probs = predict_multiscale(model, images, scales=(1.0,), flip=True)
    np.testing.assert_allclose(probs, (plain + mirrored) / 2, atol=1e-6)


def test_multiscale_equals_manual_resize_average():
    model = _conv_model(3)
    image = _images((16, 20, 3))

    def scores_at(size):
        scaled = keras.ops.image.resize(image[None], size, interpolation="bilinear",
                                        antialias=False)
        probs = _softmax(_numpy(model(scaled)))
        return _numpy(keras.ops.image.resize(probs, (16, 20), interpolation="bilinear",
                                             antialias=False))[0]

    expected = (scores_at((8, 10)) + _softmax(_numpy(model(image[None])))[0]
                + scores_at((24, 30))) / 3
    probs = predict_multiscale(model, image, scales=(0.5, 1.0, 1.5))
    assert probs.shape == (16, 20, 4)
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_multiscale_with_sliding_window_and_dict_output():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    logits = keras.layers.Conv2D(2, 1)(inputs)
    model = keras.Model(inputs, {"logits": logits, "aux_logits": logits * 0.5})
    images = _images((1, 20, 26, 3))
    expected = _softmax(_numpy(model(images)["logits"]))
    probs = predict_multiscale(model, images, scales=(1.0,), flip=True, tile=8, overlap=0.25)
    np.testing.assert_allclose(probs, expected, atol=1e-6)


def test_bad_inputs():
    model = _conv_model(1)
    with pytest.raises(ValueError, match="`image` must be"):
        predict_multiscale(model, np.zeros((8, 8)))
    with pytest.raises(ValueError, match="`scales`"):
        predict_multiscale(model, np.zeros((8, 8, 3)), scales=(0.0,))
    with pytest.raises(ValueError, match="`overlap`"):
        predict_sliding_window(model, np.zeros((8, 8, 3)), tile=4, overlap=1.0)
    with pytest.raises(ValueError, match="`tile`"):
        predict_sliding_window(model, np.zeros((8, 8, 3)), tile=0)
    with pytest.raises(ValueError, match="returned 4 classes, `num_classes` is 5"):
        predict_sliding_window(model, np.zeros((8, 8, 3)), tile=4, num_classes=5)
    inputs = keras.Input((None, None, 3))
    no_logits = keras.Model(inputs, {"scores": keras.layers.Conv2D(2, 1)(inputs)})
    with pytest.raises(ValueError, match="'logits'"):
        predict_multiscale(no_logits, np.zeros((8, 8, 3)))
    low_res = keras.Model(inputs, keras.layers.Conv2D(2, 1, strides=2)(inputs))
    with pytest.raises(ValueError, match="full-resolution"):
        predict_multiscale(low_res, np.zeros((8, 8, 3)))
