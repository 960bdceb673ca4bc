import dataclasses
import hashlib

import numpy as np
import pytest
from scipy import ndimage

from keras_lk import data
from keras_lk.data import SceneConfig, large_object_scenes_numpy
from keras_lk.data.scenes import RARE_CLASS_SCENES, SMALL_OBJECT_SCENES
from keras_lk.evaluation import boundary_region

# sha256 of images + masks of the first 16 images of each split (seed 0) with the default
# `SceneConfig` at 64² and 128², computed before the small-object / class knobs were
# added: the defaults must keep every scene bitwise (recipes' results depend on them).
DEFAULT_SCENE_HASHES = {
    (64, "train"): "9b81ccacb4cc3e5a80b2f2f4f336ae5ba437612b7ec605165ff020379a19bf6f",
    (64, "val"): "c5d9ab9dd7a0ff4519029cb95656e8f39cd9c99f1e4f97e96b875679eeb96eaf",
    (64, "test"): "c10cd71efdea346c919f95fd16a0845e7ecb6a4c032dc7eeeb9b5c8fe3d12875",
    (128, "train"): "5a17ba6d3c5a0284de18122745c70037e2520dd1b1e5d90fabd67392377bf4b2",
    (128, "val"): "7016fa49e767143e5dac1c3b8f5c016abfb34dd3b24f5018397a7843f2d22ea3",
    (128, "test"): "eb74a330d9f91a13c03545388abb7f21bf285e6c7ae8a52b18d06e51d530b08d",
}


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


def test_a_split_generated_again_is_kept_and_each_caller_gets_its_own_arrays():
    from keras_lk.data import scenes

    first, _ = large_object_scenes_numpy("val", 5, seed=11)
    hits = scenes._generated.cache_info().hits
    first[:] = 0  # a caller's changes stay its own
    again, again_masks = large_object_scenes_numpy("val", 5, seed=11)
    assert scenes._generated.cache_info().hits == hits + 1
    assert again.any() and not np.shares_memory(again, first)
    scenes._generated.cache_clear()
    fresh, fresh_masks = large_object_scenes_numpy("val", 5, seed=11)
    np.testing.assert_array_equal(again, fresh)
    np.testing.assert_array_equal(again_masks, fresh_masks)


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
    boundary, internal = boundary_region(masks, distance=7)
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
        ({"small_objects_per_image": (-1, 2)}, "small_objects_per_image"),
        ({"small_objects_per_image": (3, 1)}, "small_objects_per_image"),
        ({"small_radius_range": (0.0, 0.1)}, "small_radius_range"),
        ({"small_radius_range": (0.2, 0.6)}, "small_radius_range"),
        ({"large_classes": (0, 1)}, "large_classes"),
        ({"large_classes": ()}, "large_classes"),
        ({"small_classes": (6,)}, r"small_classes.*\[1, 5\]"),
        ({"small_classes": (1, 1)}, "small_classes"),
        ({"small_placement": "inside"}, "small_placement"),
        ({"class_frequencies": (1, 1)}, "class_frequencies.*5 numbers"),
        ({"class_frequencies": (1, -1, 1, 1, 1)}, "class_frequencies"),
        ({"class_frequencies": (1, 0, 1, 1, 1), "large_classes": (2,)},
         "class_frequencies.*large_classes"),
        ({"class_frequencies": (1, 0, 1, 1, 1), "small_classes": (2,),
          "small_objects_per_image": (1, 1)}, "class_frequencies.*small_classes"),
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
    colours = data.colorize(masks[0])
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
    with pytest.raises(ValueError, match="labels"):
        data.colorize(np.zeros((2, 2, 2), dtype=np.uint8))


# === Scene variants: small objects, class restrictions and frequencies ===


@pytest.mark.parametrize("size, split", sorted(DEFAULT_SCENE_HASHES))
def test_default_scenes_are_unchanged_bitwise(size, split):
    images, masks = large_object_scenes_numpy(split, 16, seed=0,
                                              config=SceneConfig(image_size=size))
    digest = hashlib.sha256(images.tobytes() + masks.tobytes()).hexdigest()
    assert digest == DEFAULT_SCENE_HASHES[size, split]


def test_small_objects_are_drawn_on_top_of_the_same_large_objects():
    plain = SceneConfig(image_size=64, boundary_width=0, large_classes=(3, 4, 5))
    with_small = dataclasses.replace(plain, small_objects_per_image=(1, 4),
                                     small_radius_range=(0.05, 0.1), small_classes=(1, 2))
    _, masks0, objects0 = large_object_scenes_numpy("train", 40, config=plain,
                                                    return_objects=True)
    _, masks1, objects1 = large_object_scenes_numpy("train", 40, config=with_small,
                                                    return_objects=True)
    for mask0, mask1, obj0, obj1 in zip(masks0, masks1, objects0, objects1):
        # The large objects are the same draws; small ones only cover pixels.
        np.testing.assert_array_equal(obj1[: len(obj0), :2], obj0[:, :2])
        small = obj1[len(obj0):]
        assert 1 <= len(small) <= 4
        assert set(small[:, 0].astype(int)) <= {1, 2}
        assert np.all((small[:, 1] >= 0.05 * 64) & (small[:, 1] <= 0.1 * 64))
        assert np.all(np.diff(small[:, 1]) <= 0)  # largest first, the smallest on top
        covered = np.isin(mask1, (1, 2))
        np.testing.assert_array_equal(mask1[~covered], mask0[~covered])
        assert not np.isin(mask0, (1, 2)).any()
        # Pixels match the metadata, as for the large objects.
        for cls in range(1, 6):
            assert np.sum(mask1 == cls) == obj1[obj1[:, 0] == cls, 2].sum()


def test_small_objects_on_large_sit_inside_large_regions():
    def surrounding_large_fraction(placement):
        config = dataclasses.replace(SMALL_OBJECT_SCENES, image_size=96, boundary_width=0,
                                     small_objects_per_image=(1, 1),
                                     small_placement=placement)
        _, masks = large_object_scenes_numpy("val", 60, config=config)
        fractions = []
        for mask in masks[..., 0]:
            small = np.isin(mask, config.small_classes)
            ring = ndimage.binary_dilation(small, iterations=3) & ~small
            fractions.append(np.isin(mask[ring], config.large_classes).mean())
        return np.mean(fractions)

    on_large, anywhere = surrounding_large_fraction("on_large"), surrounding_large_fraction(
        "anywhere")
    assert on_large > 0.7 and on_large > anywhere + 0.25


def test_class_frequencies_set_how_often_each_class_is_drawn():
    config = SceneConfig(image_size=32, num_classes=6, class_frequencies=(4, 2, 1, 1, 0))
    _, _, objects = large_object_scenes_numpy("train", 800, seed=2, config=config,
                                              return_objects=True)
    classes = np.concatenate(objects)[:, 0].astype(int)
    shares = np.bincount(classes, minlength=6)[1:] / len(classes)
    np.testing.assert_allclose(shares, [0.5, 0.25, 0.125, 0.125, 0.0], atol=0.04)
    assert shares[4] == 0


def test_variants_are_deterministic():
    for preset in (SMALL_OBJECT_SCENES, RARE_CLASS_SCENES):
        config = dataclasses.replace(preset, image_size=64)
        a_images, a_masks = large_object_scenes_numpy("test", 5, seed=1, config=config)
        b_images, b_masks = large_object_scenes_numpy("test", 5, seed=1, config=config)
        np.testing.assert_array_equal(a_images, b_images)
        np.testing.assert_array_equal(a_masks, b_masks)


def test_small_object_scenes_mix_small_objects_into_large_regions():
    _, masks, objects = large_object_scenes_numpy(
        "train", 150, seed=0, config=SMALL_OBJECT_SCENES, return_objects=True)
    assert masks.shape == (150, 128, 128, 1)
    assert set(np.unique(masks).tolist()) <= set(range(8)) | {255}
    table = np.concatenate(objects)
    small = np.isin(table[:, 0], (1, 2))
    # Every small object is small: at most π (0.1 · 128)² pixels, and visible.
    assert np.all(table[small, 2] <= np.pi * (0.1 * 128) ** 2)
    assert np.median(table[small, 2]) < 0.02 * 128**2
    assert np.all(table[small, 2] > 0)
    # ... and every large one is large.
    assert np.all(table[~small, 1] >= 0.2 * 128)
    counts = np.array([np.isin(o[:, 0], (1, 2)).sum() for o in objects])
    assert counts.min() >= 2 and counts.max() <= 5
    # The small classes are in most images and cover a few % of the pixels.
    present = np.isin(masks[..., 0], (1, 2)).any(axis=(1, 2))
    assert present.mean() > 0.9
    assert 0.01 < np.isin(masks, (1, 2)).mean() < 0.1


def test_rare_class_scenes_have_rare_small_classes():
    _, masks = large_object_scenes_numpy("train", 300, seed=0, config=RARE_CLASS_SCENES)
    labels = masks[masks != 255]
    shares = np.bincount(labels, minlength=8) / labels.size
    rare, common = shares[[1, 2]], shares[3:]
    assert np.all(rare > 0.002) and np.all(rare < 0.01)
    assert rare.max() < common.min() / 1.5
    assert shares[0] > 0.6
    # Common classes follow the 3:3:2:1:1 frequencies of their objects (roughly: their
    # shapes differ in area).
    assert min(shares[3], shares[4]) > max(shares[6], shares[7])
    # Rare, not absent: each rare class is in a fair share of the images (evaluation).
    for cls in (1, 2):
        assert 0.2 < (masks[..., 0] == cls).any(axis=(1, 2)).mean() < 0.6


@pytest.mark.parametrize("name, preset", [("scenes_small_objects", SMALL_OBJECT_SCENES),
                                          ("scenes_rare_classes", RARE_CLASS_SCENES)])
def test_variants_are_registered_datasets(name, preset):
    info = data.DATASETS[name]
    assert info.num_classes == preset.num_classes == 8
    assert info.class_names == preset.class_names == ("background",) + data.SHAPES
    assert info.splits == ("train", "val", "test") and not info.needs_data_dir
    assert info.ignore_label == 255 and len(info.palette) == 8
    examples = list(info.load("val", num_images=2, image_size=64).as_numpy_iterator())
    images, masks = large_object_scenes_numpy(
        "val", 2, config=dataclasses.replace(preset, image_size=64))
    np.testing.assert_array_equal(examples[1]["image"], images[1])
    np.testing.assert_array_equal(examples[1]["segmentation_mask"], masks[1])
    default = next(info.load("test", num_images=1).as_numpy_iterator())
    assert default["image"].shape == (128, 128, 3)  # the presets' size


@pytest.mark.parametrize("dataset, model, options, loss", [
    ("scenes_small_objects", "gald",
     {"ga": "cgnl", "ld": True, "head_channels": 16, "ld_downsample_rate": 2}, "ohem"),
    ("scenes_rare_classes", "fcrn", {"kernel_size": 3, "dilation": 2}, "ohem"),
])
def test_one_training_step_on_each_variant(tmp_path, dataset, model, options, loss):
    from keras_lk.training import TrainConfig, train

    result = train(TrainConfig(
        output_dir=str(tmp_path), dataset=dataset, model=model, model_options=options,
        backbone="resnet10_local", image_size=32, crop_size=32, num_train_images=4,
        batch_size=2, steps=1, steps_per_epoch=1, optimizer="adam", l2=0.0, loss=loss,
        ohem_mode="fcrn", ohem_threshold=0.0, ohem_min_kept=64, tensorboard=False,
        verbose=0))
    assert result.step == 1 and result.model.num_classes == 8
    assert result.model.class_names == list(data.DATASETS[dataset].class_names)
