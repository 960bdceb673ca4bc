import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lk import data


def _examples(images, masks, names=None):
    names = names or [f"ex{i}" for i in range(len(images))]
    return tf.data.Dataset.from_tensor_slices(
        {"image": np.asarray(images), "segmentation_mask": np.asarray(masks), "file_name": names}
    )


def _label_coloured(num, size=48, num_classes=4, seed=0):
    """Blocky masks and images whose red channel is 40 × label: alignment is checkable."""
    rng = np.random.default_rng(seed)
    masks = rng.integers(0, num_classes, size=(num, size // 8, size // 8)).repeat(8, 1).repeat(8, 2)
    masks = masks[..., None].astype(np.uint8)
    ramp = np.tile(np.linspace(0, 255, size, dtype=np.float32), (size, 1))
    images = np.stack(
        [masks[..., 0] * 40.0, np.broadcast_to(ramp, masks.shape[:3]), np.zeros(masks.shape[:3])],
        -1,
    ).astype(np.uint8)
    return images, masks


def test_train_pipeline_shapes_dtypes_and_alignment():
    images, masks = _label_coloured(12)
    ds = data.train_pipeline(
        _examples(images, masks),
        crop_size=(40, 56),
        batch_size=4,
        num_classes=4,
        scale_range=(0.5, 2.0),
        normalization="none",
        seed=0,
    )
    assert ds.element_spec[0].shape.as_list() == [4, 40, 56, 3]
    assert ds.element_spec[1].shape.as_list() == [4, 40, 56, 1]
    assert ds.element_spec[1].dtype == tf.int32
    checked = 0
    for batch_images, batch_masks in ds.take(6):
        batch_images, batch_masks = batch_images.numpy(), batch_masks.numpy()[..., 0]
        assert set(np.unique(batch_masks)) <= {0, 1, 2, 3, 255}
        # Where a 3×3 neighbourhood holds one label, the image's red channel encodes it.
        for image, mask in zip(batch_images, batch_masks):
            padded = np.pad(mask, 1, constant_values=-1)  # crop borders: unknown outside
            windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
            uniform = (windows.min((-1, -2)) == windows.max((-1, -2))) & (mask != 255)
            np.testing.assert_allclose(image[..., 0][uniform], 40.0 * mask[uniform], atol=1.0)
            # Padding: void label and zero (mean) image.
            np.testing.assert_array_equal(image[mask == 255], 0.0)
            checked += uniform.sum()
    assert checked > 10000


def test_padding_small_images_with_ignore_label():
    images = np.full((2, 20, 30, 3), 200, np.uint8)
    masks = np.ones((2, 20, 30, 1), np.uint8)
    ds = data.train_pipeline(
        _examples(images, masks),
        crop_size=32,
        batch_size=2,
        num_classes=2,
        scale_range=None,
        flip=False,
        seed=0,
    )
    batch_images, batch_masks = next(iter(ds))
    batch_images, batch_masks = batch_images.numpy(), batch_masks.numpy()
    np.testing.assert_array_equal(batch_masks[:, :20, :30], 1)
    np.testing.assert_array_equal(batch_masks[:, 20:], 255)
    np.testing.assert_array_equal(batch_masks[:, :, 30:], 255)
    np.testing.assert_array_equal(batch_images[:, 20:], 0.0)
    expected = keras.applications.resnet.preprocess_input(images[:1].astype(np.float32))
    np.testing.assert_allclose(batch_images[0, :20, :30], expected[0], rtol=1e-6)


def test_flip_happens_and_is_applied_to_masks():
    images, masks = _label_coloured(16, size=32)
    ds = data.train_pipeline(
        _examples(images, masks),
        crop_size=32,
        batch_size=16,
        num_classes=4,
        scale_range=None,
        normalization="none",
        shuffle_buffer=0,
        seed=3,
    )
    batch_images, batch_masks = (t.numpy() for t in next(iter(ds)))
    flipped = batch_images[:, 0, 0, 1] > batch_images[:, 0, -1, 1]  # green ramp reversed
    assert 2 <= flipped.sum() <= 14
    for i in range(16):
        expected = masks[i][:, ::-1] if flipped[i] else masks[i]
        np.testing.assert_array_equal(batch_masks[i], expected)


def test_train_pipeline_deterministic_with_seed():
    scenes = data.large_object_scenes("train", num_images=8)

    def make():
        return data.train_pipeline(scenes, crop_size=64, batch_size=4, num_classes=6, seed=7)

    first = [m.numpy() for _, m in make().take(3)]
    second = [m.numpy() for _, m in make().take(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("normalization", ["caffe", "torch", "tf", "zero_one", "none"])
def test_normalize_image(normalization):
    image = np.random.default_rng(0).integers(0, 256, (2, 5, 5, 3)).astype(np.uint8)
    out = data.normalize_image(image, normalization).numpy()
    if normalization == "caffe":
        expected = keras.applications.resnet.preprocess_input(image.astype(np.float32))
    elif normalization == "torch":
        expected = keras.applications.imagenet_utils.preprocess_input(
            image.astype(np.float32), mode="torch"
        )
    elif normalization == "tf":
        expected = image / 127.5 - 1
    elif normalization == "zero_one":
        expected = image / 255.0
    else:
        expected = image.astype(np.float32)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_eval_pipeline_full_size_in_order_with_padding():
    small = {
        "image": np.zeros((10, 12, 3), np.uint8),
        "segmentation_mask": np.ones((10, 12, 1), np.uint8),
        "file_name": "small",
    }
    large = {
        "image": np.zeros((14, 9, 3), np.uint8),
        "segmentation_mask": np.full((14, 9, 1), 2, np.uint8),
        "file_name": "large",
    }
    ds = tf.data.Dataset.from_generator(
        lambda: iter([small, large, small]),
        output_signature={
            "image": tf.TensorSpec([None, None, 3], tf.uint8),
            "segmentation_mask": tf.TensorSpec([None, None, 1], tf.uint8),
            "file_name": tf.TensorSpec([], tf.string),
        },
    )
    batches = list(data.eval_pipeline(ds, batch_size=2, num_classes=3))
    assert [b[0].shape.as_list() for b in batches] == [[2, 14, 12, 3], [1, 10, 12, 3]]
    masks = batches[0][1].numpy()[..., 0]
    np.testing.assert_array_equal(masks[0, :10, :12], 1)
    assert np.all(masks[0, 10:] == 255) and np.all(masks[1, :, 9:] == 255)
    np.testing.assert_array_equal(masks[1, :14, :9], 2)
    single = list(data.eval_pipeline(ds, num_classes=3))
    assert [b[1].shape.as_list() for b in single] == [[1, 10, 12, 1], [1, 14, 9, 1], [1, 10, 12, 1]]


@pytest.mark.parametrize(
    "image_shape, mask, message",
    [
        ((8, 8, 3), np.full((8, 8, 1), 7, np.uint8), "outside"),
        ((8, 8, 3), np.zeros((8, 9, 1), np.uint8), "differs from mask size"),
        ((0, 8, 3), np.zeros((0, 8, 1), np.uint8), "empty image"),
    ],
)
def test_invalid_examples_are_named(image_shape, mask, message):
    good = {
        "image": np.zeros((8, 8, 3), np.uint8),
        "segmentation_mask": np.zeros((8, 8, 1), np.uint8),
        "file_name": "good.png",
    }
    bad = {
        "image": np.zeros(image_shape, np.uint8),
        "segmentation_mask": mask,
        "file_name": "2008_000123.png",
    }
    ds = tf.data.Dataset.from_generator(
        lambda: iter([good, bad]),
        output_signature={
            "image": tf.TensorSpec([None, None, 3], tf.uint8),
            "segmentation_mask": tf.TensorSpec([None, None, 1], tf.uint8),
            "file_name": tf.TensorSpec([], tf.string),
        },
    )
    for pipeline in (
        data.eval_pipeline(ds, num_classes=5),
        data.train_pipeline(ds, crop_size=8, batch_size=1, num_classes=5, repeat=False),
    ):
        with pytest.raises(tf.errors.InvalidArgumentError, match=f"(?s)2008_000123.*{message}"):
            list(pipeline)
    with pytest.raises(ValueError, match=f"2008_000123.*{message.split()[0]}"):
        data.validate_example(bad["image"], bad["segmentation_mask"], 5, name="2008_000123")


def test_static_errors():
    floats = tf.data.Dataset.from_tensors(
        {"image": tf.zeros((4, 4, 3)), "segmentation_mask": tf.zeros((4, 4, 1), tf.uint8)}
    )
    with pytest.raises(ValueError, match="'image' must be uint8"):
        data.train_pipeline(floats, crop_size=4, batch_size=1, num_classes=2)
    float_masks = tf.data.Dataset.from_tensors(
        {"image": tf.zeros((4, 4, 3), tf.uint8), "segmentation_mask": tf.zeros((4, 4, 1))}
    )
    with pytest.raises(ValueError, match="integer dtype"):
        data.eval_pipeline(float_masks, num_classes=2)
    tuples = tf.data.Dataset.from_tensors((tf.zeros((4, 4, 3), tf.uint8),) * 2)
    with pytest.raises(ValueError, match="keys"):
        data.eval_pipeline(tuples, num_classes=2)
    good = tf.data.Dataset.from_tensors(
        {"image": tf.zeros((4, 4, 3), tf.uint8), "segmentation_mask": tf.zeros((4, 4, 1), tf.uint8)}
    )
    with pytest.raises(ValueError, match="crop_size"):
        data.train_pipeline(good, crop_size=0, batch_size=1, num_classes=2)
    with pytest.raises(ValueError, match="normalization"):
        data.train_pipeline(good, crop_size=4, batch_size=1, num_classes=2, normalization="bgr")
    with pytest.raises(ValueError, match="dtype must be uint8"):
        data.validate_example(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4)), 2, name="x")
    with pytest.raises(ValueError, match="integer"):
        data.validate_example(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4)), 2, name="x")


def test_distributed_per_replica_batches():
    script = textwrap.dedent("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_lk import data
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        scenes = data.large_object_scenes("train", num_images=8, config=data.SceneConfig(image_size=32))
        ds = data.distribute_dataset(
            strategy,
            lambda ctx, b: data.train_pipeline(scenes, crop_size=24, batch_size=b, num_classes=6,
                                               input_context=ctx, seed=0),
            global_batch_size=6)
        images, masks = next(iter(ds))
        shapes = [tuple(t.shape) for t in strategy.experimental_local_results(images)]
        print("SHAPES", shapes)
        try:
            data.distribute_dataset(strategy, lambda ctx, b: None, global_batch_size=5)
        except ValueError as error:
            print("ERROR", error)
    """)
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        KERAS_BACKEND="tensorflow",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "SHAPES [(3, 24, 24, 3), (3, 24, 24, 3)]" in result.stdout, result.stderr[-2000:]
    assert "divisible by the 2 replicas" in result.stdout


def test_eval_pipeline_pad_to_fixed_size():
    scenes = data.large_object_scenes("val", num_images=3, config=data.SceneConfig(image_size=32))
    batches = list(data.eval_pipeline(scenes, batch_size=2, num_classes=6, pad_to=40))
    assert [tuple(b[1].shape) for b in batches] == [(2, 40, 40, 1), (1, 40, 40, 1)]
    masks = batches[0][1].numpy()
    assert np.all(masks[:, 32:] == 255) and np.all(masks[:, :, 32:] == 255)
    _, expected = data.large_object_scenes_numpy("val", 2, config=data.SceneConfig(image_size=32))
    np.testing.assert_array_equal(masks[:, :32, :32], expected)
