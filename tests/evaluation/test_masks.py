"""Predicted label maps as palette PNGs and overlays."""

import numpy as np
import pytest
from PIL import Image

from keras_lk.data import cityscapes_colors, colorize, voc_palette
from keras_lk.evaluation import overlay, save_label_png

LABELS = np.array([[0, 1, 15], [255, 2, 0]], np.uint8)


@pytest.mark.parametrize("palette", ["voc", "cityscapes"])
def test_save_label_png_round_trip(tmp_path, palette):
    path = tmp_path / "prediction.png"
    save_label_png(path, LABELS[..., None], palette=palette)
    picture = Image.open(path)
    assert picture.mode == "P"
    np.testing.assert_array_equal(np.array(picture), LABELS)  # Class ids are kept.
    colors = voc_palette() if palette == "voc" else cityscapes_colors(256)
    np.testing.assert_array_equal(np.array(picture.convert("RGB")), colors[LABELS])


def test_colorize_and_overlay_hand_values():
    np.testing.assert_array_equal(colorize(LABELS, "voc")[0, 2], (192, 128, 128))
    image = np.full((2, 3, 3), 100, np.uint8)
    blended = overlay(image, LABELS, alpha=0.25, palette="cityscapes")
    np.testing.assert_array_equal(blended[0, 1], np.rint(0.75 * 100 + 0.25 *
                                                          np.array([244, 35, 232])))
    np.testing.assert_array_equal(blended[1, 0], (100, 100, 100))  # Void keeps the image.
    float_image = overlay(image / 255.0, LABELS, alpha=0.0)
    np.testing.assert_array_equal(float_image, image)


def test_bad_input_is_refused_with_the_argument_named(tmp_path):
    with pytest.raises(TypeError, match="`labels` must hold integer"):
        save_label_png(tmp_path / "x.png", LABELS.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        save_label_png(tmp_path / "x.png", LABELS.astype(np.int32) + 300)
    with pytest.raises(ValueError, match="`palette`"):
        colorize(LABELS, "ade20k")
    with pytest.raises(ValueError, match="same height and width"):
        overlay(np.zeros((3, 3, 3), np.uint8), LABELS)
    with pytest.raises(ValueError, match="`labels` must be H×W"):
        colorize(np.zeros((1, 2, 3, 4), np.uint8))
