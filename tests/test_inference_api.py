"""One-call inference (`keras_lk.Segmenter`): any size and source in, label maps at the
original size out, batched by size, the same as calling the model, protocol and CRF."""

import numpy as np
import pytest
from PIL import Image

import keras_lk
from keras_lk.data import normalize_image
from keras_lk.models import GCNSeg


@pytest.fixture(scope="module")
def model():
    return GCNSeg(num_classes=3, k=3, backbone="resnet10_narrow",
                  class_names=["background", "a", "b"],
                  palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]])


def _direct(model, image):
    batch = np.asarray(normalize_image(image[None].astype("float32"), model.normalization))
    return np.argmax(np.asarray(model.main_logits(model(batch, training=False)))[0], -1)


def test_images_of_any_size_and_source_give_label_maps_at_their_size(model, tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    c = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    Image.fromarray(b).save(tmp_path / "b.png")
    grey = Image.fromarray(c[..., 0])  # greyscale PIL image → RGB
    segmenter = keras_lk.Segmenter(model, batch_size=2)
    results = segmenter([a, str(tmp_path / "b.png"), grey, a.astype(np.float32)])
    assert [r.labels.shape for r in results] == [(37, 53), (64, 48), (37, 53), (37, 53)]
    np.testing.assert_array_equal(results[0].labels, _direct(model, a))
    np.testing.assert_array_equal(results[1].labels, _direct(model, b))
    np.testing.assert_array_equal(results[2].labels,
                                  _direct(model, np.repeat(c[..., :1], 3, axis=-1)))
    np.testing.assert_array_equal(results[3].labels, results[0].labels)
    assert results[0].class_names == ("background", "a", "b")
    assert results[0].colorize().shape == (37, 53, 3)
    single = segmenter(a, probabilities=True)
    assert single.probabilities.shape == (37, 53, 3)
    np.testing.assert_allclose(single.probabilities.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(single.labels, results[0].labels)
    single.save(tmp_path / "a.png")
    saved = Image.open(tmp_path / "a.png")
    assert saved.mode == "P" and saved.getpalette()[3:6] == [255, 0, 0]


def test_a_saved_model_predicts_with_a_protocol(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    image = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    flipped = keras_lk.predict(str(path), image, scales=(0.75, 1.0), flip=True)
    plain = keras_lk.predict(str(tmp_path), image)  # a run directory holding model.keras
    assert flipped.labels.shape == plain.labels.shape == (40, 40)
    assert flipped.palette.tolist()[1] == [255, 0, 0]


def test_bad_inputs_are_one_line_errors(model):
    segmenter = keras_lk.Segmenter(model)
    with pytest.raises(ValueError, match="must be H×W, H×W×3 or H×W×4"):
        segmenter(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="must hold values in 0..255"):
        segmenter(np.full((4, 4, 3), 300.0))
    with pytest.raises(ValueError, match="is empty"):
        segmenter(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="cannot read image 'missing.jpg'"):
        segmenter("missing.jpg")
    with pytest.raises(ValueError, match="PIL mode 'I;16'"):
        segmenter(Image.fromarray(np.zeros((4, 4), np.uint16)))
    with pytest.raises(ValueError, match="`images` is empty"):
        segmenter([])
    with pytest.raises(ValueError, match="keras_lk segmentation model"):
        keras_lk.Segmenter(object())
