"""The one home of class colours: VOC and Cityscapes palettes, full palettes, colorize,
and the legend the tutorials draw."""

import matplotlib
import numpy as np
import pytest

from keras_lk.data import DATASETS, add_class_legend, cityscapes_colors, colorize, full_palette

matplotlib.use("Agg", force=False)


def test_cityscapes_colors_official_values():
    colors = cityscapes_colors()
    assert colors.shape == (19, 3) and colors.dtype == np.uint8
    assert tuple(colors[0]) == (128, 64, 128)  # road
    assert tuple(colors[11]) == (220, 20, 60)  # person
    assert tuple(colors[13]) == (0, 0, 142)  # car
    assert tuple(colors[18]) == (119, 11, 32)  # bicycle
    assert len({tuple(c) for c in colors}) == 19
    full = cityscapes_colors(256)
    assert tuple(full[255]) == (0, 0, 0) and np.array_equal(full[:19], colors)


def test_a_dataset_palette_with_white_for_every_other_label():
    palette = DATASETS["scenes"].palette
    labels = np.array([[0, 1, 5], [255, 6, 2]], np.uint8)
    rgb = colorize(labels, palette, other_color=(255, 255, 255))
    np.testing.assert_array_equal(rgb[0], np.array(palette)[[0, 1, 5]])
    np.testing.assert_array_equal(rgb[1, :2], [[255, 255, 255]] * 2)  # 255 and 6: no class
    np.testing.assert_array_equal(full_palette(palette)[255], (0, 0, 0))
    np.testing.assert_array_equal(full_palette("voc", other_color=(1, 2, 3))[255],
                                  (224, 224, 192))  # VOC names all 256 labels
    np.testing.assert_array_equal(full_palette("cityscapes", (9, 9, 9))[19], (9, 9, 9))
    with pytest.raises(ValueError, match="at most 256 RGB colours"):
        full_palette(np.zeros((3, 4)))


def test_the_legend_shows_each_class_in_its_colour_and_the_ignore_band():
    from matplotlib.figure import Figure

    info = DATASETS["scenes"]
    figure = Figure()
    add_class_legend(figure, info.class_names, info.palette, other_color=(255, 255, 255))
    (legend,) = figure.legends
    names = [text.get_text() for text in legend.get_texts()]
    assert names == [*info.class_names, "ignore (255)"]
    colors = [tuple(np.round(np.array(patch.get_facecolor()[:3]) * 255).astype(int))
              for patch in legend.get_patches()]
    assert colors == [*(tuple(c) for c in info.palette), (255, 255, 255)]
