import numpy as np
import pytest
from scipy import ndimage

from keras_lk import data
from keras_lk.data import SceneConfig, large_object_scenes_numpy


def test_deterministic_and_splits_independent():
    a_images, a_masks = large_object_scenes_numpy("train", 6, seed=3)
    b_images, b_masks = large_object_scenes_numpy("train", 6, seed=3)
    np.testing.assert_array_equal(a_images, b_images)
    np.testing.assert_array_equal(a_masks, b_masks)
    # A longer split starts with the same images.
    c_images, _ = large_object_scenes_numpy("train", 9, seed=3)
    np.testing.assert_array_equal(a_images, c_images[:6])
    val_images, _ = large_object_scenes_numpy("val", 6, seed=3)
    other_seed, _ = large_object_scenes_numpy("train", 6, seed=4)
    for other in (val_images, other_seed):
        assert all(not np.array_equal(x, y) for x, y in zip(a_images, other))


def test_shapes_dtypes_and_value_range():
    config = SceneConfig(image_size=64, num_classes=8)
    images, masks = large_object_scenes_numpy("val", 20, config=config)
    assert images.shape == (20, 64, 64, 3) and images.dtype == np.uint8
    assert masks.shape == (20, 64, 64, 1) and masks.dtype == np.uint8
    values = set(np.unique(masks).tolist())
    assert values <= set(range(8)) | {255}
    assert 255 in values and 0 in values


def test_object_statistics_match_config():
    config = SceneConfig(
        image_size=64, num_classes=6, radius_range=(0.1, 0.4), objects_per_image=(1, 3)
    )
    _, _, objects = large_object_scenes_numpy(
        "train", 600, seed=1, config=config, return_objects=True
    )
    counts = np.array([len(o) for o in objects])
    assert counts.min() == 1 and counts.max() == 3
    # Uniform number of objects per image: each of 1, 2, 3 in ~1/3 of the images.
    np.testing.assert_allclose(np.bincount(counts)[1:] / len(counts), 1 / 3, atol=0.06)
    table = np.concatenate(objects)
    classes, radii = table[:, 0].astype(int), table[:, 1]
    # Class balance over objects: uniform over the 5 shapes.
    np.testing.assert_allclose(np.bincount(classes, minlength=6)[1:] / len(classes), 0.2, atol=0.04)
    # Size histogram: radii uniform in radius_range × image_size.
    assert radii.min() >= 0.1 * 64 and radii.max() <= 0.4 * 64
    histogram, _ = np.histogram(radii, bins=4, range=(6.4, 25.6))
    np.testing.assert_allclose(histogram / len(radii), 0.25, atol=0.05)


def test_pixels_match_objects_and_boundary_band():
    plain = SceneConfig(image_size=64, boundary_width=0)
    banded = SceneConfig(image_size=64, boundary_width=2)
    images0, masks0, objects = large_object_scenes_numpy(
        "train", 30, config=plain, return_objects=True
    )
    images2, masks2 = large_object_scenes_numpy("train", 30, config=banded)
    np.testing.assert_array_equal(images0, images2)  # the band only changes labels
    assert not np.any(masks0 == 255)
    for mask, obj in zip(masks0[..., 0], objects):
        for cls in range(1, 6):
            assert np.sum(mask == cls) == obj[obj[:, 0] == cls, 2].sum()
    # The 255 band is exactly the set of pixels whose 5×5 window holds two labels.
    window = (1, 5, 5)
    labels = masks0[..., 0]
    expected = ndimage.maximum_filter(labels, window, mode="nearest") != ndimage.minimum_filter(
        labels, window, mode="nearest"
    )
    np.testing.assert_array_equal(masks2[..., 0] == 255, expected)
    np.testing.assert_array_equal(masks2[~expected], masks0[~expected])
    fraction = np.mean(masks2 == 255)
    assert 0.03 < fraction < 0.3


def test_large_objects_have_interior_pixels():
    _, masks = large_object_scenes_numpy("val", 40)
    boundary, internal = data.boundary_region(masks, distance=7)
    foreground = (masks > 0) & (masks != 255)
    # A large share of foreground pixels lies > 7 px from any boundary: the GCN regime.
    assert internal[foreground].mean() > 0.3
    assert not np.any(boundary & internal)
    assert not np.any((boundary | internal) & (masks == 255))


def test_tf_dataset_view():
    dataset = data.large_object_scenes("val", num_images=3, seed=2)
    examples = list(dataset.as_numpy_iterator())
    assert len(examples) == 3
    images, masks = large_object_scenes_numpy("val", 3, seed=2)
    np.testing.assert_array_equal(examples[1]["image"], images[1])
    np.testing.assert_array_equal(examples[1]["segmentation_mask"], masks[1])
    assert examples[0]["file_name"] == b"scene_val_seed2_000000"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 9}, "num_classes"),
        ({"radius_range": (0.3, 0.2)}, "radius_range"),
        ({"image_size": 8}, "image_size"),
        ({"objects_per_image": (0, 2)}, "objects_per_image"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SceneConfig(**kwargs)


def test_unknown_split():
    with pytest.raises(ValueError, match="split"):
        large_object_scenes_numpy("training", 1)


def test_palette_and_figure(tmp_path):
    palette = data.voc_palette()
    np.testing.assert_array_equal(
        palette[[0, 1, 15, 255]], [[0, 0, 0], [128, 0, 0], [192, 128, 128], [224, 224, 192]]
    )
    images, masks = large_object_scenes_numpy("val", 1)
    colours = data.colorize_mask(masks[0])
    assert colours.shape == (128, 128, 3)
    np.testing.assert_array_equal(
        colours[masks[0, ..., 0] == 255], np.tile([224, 224, 192], (np.sum(masks[0] == 255), 1))
    )
    path = tmp_path / "figure.png"
    figure = data.plot_segmentation(
        images[0],
        masks[0],
        prediction=np.zeros((128, 128, 6)),
        path=path,
        class_names=SceneConfig().class_names,
    )
    assert len(figure.axes) == 3
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="mask"):
        data.colorize_mask(np.zeros((2, 2, 2), dtype=np.uint8))
