import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_lk.evaluation import (
    CRF_VOC,
    DEFAULT_CRF_GRID,
    boundary_internal_accuracy,
    confusion_matrix,
    dense_crf,
    scores_from_confusion,
    search_crf_parameters,
)
from tests import golden


def _scene():
    """A synthetic 2-region image and a blurred, shifted score map of it."""
    height, width = 48, 64
    truth = np.zeros((height, width), np.int64)
    truth[10:38, 18:50] = 1
    rng = np.random.RandomState(0)
    image = np.where(truth[..., None] == 1, [200, 60, 40], [30, 90, 200]).astype(np.float32)
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    # Foreground probability: the true square blurred by an 11x11 box filter (centre
    # shifted by 2 px), so its 0.5 level misses the object edges, plus noise.
    padded = np.pad(truth.astype(np.float32), 8, mode="edge")
    smooth = np.zeros((height, width), np.float32)
    for dy in range(11):
        for dx in range(11):
            smooth += padded[dy + 1 : dy + 1 + height, dx + 5 : dx + 5 + width]
    smooth /= 121
    foreground = np.clip(0.15 + 0.7 * smooth + rng.normal(0, 0.1, smooth.shape), 0.02, 0.98)
    probs = np.stack([1 - foreground, foreground], -1).astype(np.float32)
    return image, probs, truth


def test_crf_sharpens_blurred_scores():
    pytest.importorskip("pydensecrf", reason="needs the optional `crf` extra")
    image, probs, truth = _scene()
    before = np.mean(probs.argmax(-1) == truth)
    refined = dense_crf(image, probs, num_iterations=5)
    after = np.mean(refined.argmax(-1) == truth)
    assert refined.shape == probs.shape and refined.dtype == np.float32
    np.testing.assert_allclose(refined.sum(-1), 1.0, atol=1e-4)
    assert before < 0.97
    assert after > before + 0.02
    # Sharper: refined marginals are more confident on average.
    assert np.mean(np.abs(refined[..., 1] - 0.5)) > np.mean(np.abs(probs[..., 1] - 0.5))


def test_crf_bad_input():
    image, probs, _ = _scene()
    with pytest.raises(ValueError, match="`image_uint8` must be a uint8"):
        dense_crf(image.astype(np.float32), probs)
    with pytest.raises(ValueError, match="same height and width"):
        dense_crf(image[:40], probs)
    with pytest.raises(ValueError, match="`probs` must be float"):
        dense_crf(image, probs[..., :1])


def test_crf_missing_package_message(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pydensecrf", None)  # `import` now raises ImportError.
    image, probs, _ = _scene()
    with pytest.raises(ImportError, match=r"keras_lk\[crf\]"):
        dense_crf(image, probs)


# --- A photo-like scene: DeepLab's VOC parameters must help, as on real photos. ---
#
# No photo ships offline (scikit-image is not installed), so the scene is generated: sky
# with a colour gradient, a wavy horizon, textured grass, a grey road and a brown dirt
# patch (low-contrast neighbours, as in real photos), a person (skin, striped shirt,
# dark trousers), a car (metallic gradient, dark windows, black wheels, a shadow), a dog
# with fur texture on the dirt, a 9 px yellow pole; then a 3×3 camera blur and sensor
# noise. Network-like scores: the true label's one-hot map averaged over stride×stride
# cells (a stride-8 / stride-16 output), bilinearly upsampled, softened and noised.
NUM_CLASSES = 5  # background, person, car, dog, pole
OLD_DEFAULTS = {"num_iterations": 5, "gaussian_sxy": 3.0, "gaussian_compat": 3.0,
                "bilateral_sxy": 80.0, "bilateral_srgb": 13.0, "bilateral_compat": 10.0}


def _smooth_noise(rng, height, width, cells):
    coarse = rng.standard_normal((1, cells, cells * width // height + 1, 1))
    return golden.resize_bilinear(coarse, height, width)[0, ..., 0]


def _ellipse(yy, xx, cy, cx, ry, rx):
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def _photo_like_scene(seed=0, height=192, width=256):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    colour = np.array  # an RGB triple, broadcast over the image

    def paint(image, mask, value):
        return np.where(mask[..., None], value, image)

    sky = np.stack([110 + 60 * yy / height, 160 + 50 * yy / height, 235 - 20 * yy / height], -1)
    grass = colour([70.0, 120, 50]) + 25 * _smooth_noise(rng, height, width, 12)[..., None]
    image = paint(grass, yy < 0.45 * height + 6 * np.sin(xx / 23), sky)
    road = (yy > 118 + 0.08 * xx) & (yy < 175)
    image = paint(image, road, colour([120.0, 118, 122])
                  + 8 * _smooth_noise(rng, height, width, 30)[..., None])
    dirt = _ellipse(yy, xx, 170, 55, 26, 45)
    image = paint(image, dirt, colour([118.0, 92, 62])
                  + 10 * _smooth_noise(rng, height, width, 25)[..., None])
    image = paint(image, (np.abs(yy - 168) < 5) & (np.abs(xx - 170) < 60), image * 0.45)
    label = np.zeros((height, width), np.int64)

    person = _ellipse(yy, xx, 110, 60, 38, 16) | _ellipse(yy, xx, 62, 60, 11, 10)
    shirt = np.stack([190 + 20 * np.sin(yy / 3), 40 + 0 * yy, 45 + 0 * yy], -1)
    clothes = paint(paint(shirt, yy >= 115, colour([40.0, 40, 70])), yy < 73,
                    colour([225.0, 180, 150]))
    image = paint(image, person, clothes)
    label[person] = 1

    body = (np.abs(yy - 130) < 22) & (np.abs(xx - 170) < 55)
    cabin = (np.abs(yy - 100) < 12) & (np.abs(xx - 165) < 32)
    wheels = _ellipse(yy, xx, 154, 135, 11, 11) | _ellipse(yy, xx, 154, 205, 11, 11)
    metal = np.stack([150 + 60 * (xx - 115) / 110] * 3, -1) * colour([1.0, 1.0, 1.1])
    car = paint(paint(metal, cabin & ~body, colour([50.0, 60, 80])), wheels,
                colour([20.0, 20, 20]))
    image = paint(image, body | cabin | wheels, car)
    label[body | cabin | wheels] = 2

    angle = np.arctan2(yy - 165, xx - 60)
    dog = np.hypot(yy - 165, xx - 60) < 20 + 5 * np.sin(3 * angle + 1) + 3 * np.sin(5 * angle)
    fur = (colour([140.0, 95, 50]) + 30 * _smooth_noise(rng, height, width, 40)[..., None]
           + rng.normal(0, 12, (height, width, 1)))
    image = paint(image, dog, fur)
    label[dog] = 3

    pole = (np.abs(xx - 235) < 5) & (yy > 30) & (yy < 175)
    image = paint(image, pole, colour([230.0, 220, 60]))
    label[pole] = 4

    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    image = sum(padded[i:i + height, j:j + width] for i in range(3) for j in range(3)) / 9
    image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
    return image, label


def _blurred_scores(label, stride, seed=0):
    """The label as a stride-`stride` network would score it: coarse, soft, noisy."""
    rng = np.random.default_rng(seed + stride)
    height, width = label.shape
    cells_h, cells_w = -(-height // stride), -(-width // stride)
    onehot = np.pad(np.eye(NUM_CLASSES)[label],
                    ((0, cells_h * stride - height), (0, cells_w * stride - width), (0, 0)),
                    mode="edge")
    coarse = onehot.reshape(cells_h, stride, cells_w, stride, NUM_CLASSES).mean((1, 3))
    up = golden.resize_bilinear(coarse[None], cells_h * stride, cells_w * stride)[0]
    logits = 0.5 * np.log(up[:height, :width] + 0.05) + 0.3 * rng.standard_normal(up.shape)[
        :height, :width]
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    return (probs / probs.sum(-1, keepdims=True)).astype(np.float32)


def _scores(label, probs):
    prediction = probs.argmax(-1)
    mean_iou = scores_from_confusion(confusion_matrix(label, prediction, NUM_CLASSES))["mean_iou"]
    return mean_iou, boundary_internal_accuracy(label, prediction)["boundary_accuracy"]


def test_defaults_are_deeplab_voc_parameters():
    defaults = {name: p.default for name, p in inspect.signature(dense_crf).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert defaults == dict(CRF_VOC) == {
        "num_iterations": 10, "gaussian_sxy": 3.0, "gaussian_compat": 3.0,
        "bilateral_sxy": 121.0, "bilateral_srgb": 5.0, "bilateral_compat": 4.0}
    with pytest.raises(TypeError):
        CRF_VOC["bilateral_compat"] = 10.0  # read-only
    assert set(DEFAULT_CRF_GRID) <= set(CRF_VOC)
    assert all(CRF_VOC[name] in values for name, values in DEFAULT_CRF_GRID.items())


@pytest.mark.parametrize("stride", [8, 16])
def test_defaults_raise_miou_and_boundary_accuracy_on_photo_like_scene(stride):
    pytest.importorskip("pydensecrf", reason="needs the optional `crf` extra")
    image, label = _photo_like_scene()
    probs = _blurred_scores(label, stride)
    miou_before, boundary_before = _scores(label, probs)
    miou_after, boundary_after = _scores(label, dense_crf(image, probs))
    miou_old, _ = _scores(label, dense_crf(image, probs, **OLD_DEFAULTS))
    # Measured (pydensecrf2 1.1): stride 8 0.832 → 0.966 mIoU, boundary 0.872 → 0.970;
    # stride 16 0.636 → 0.728, 0.717 → 0.855; old defaults 0.912 / 0.610 mIoU.
    assert miou_after > miou_before + 0.05, (miou_before, miou_after)
    assert boundary_after > boundary_before + 0.05, (boundary_before, boundary_after)
    # The old defaults (weight 10, σβ 13) leak labels across low-contrast edges.
    assert miou_after > miou_old + 0.02, (miou_old, miou_after)


def test_search_picks_a_setting_at_least_as_good_as_the_defaults():
    pytest.importorskip("pydensecrf", reason="needs the optional `crf` extra")
    image, label = _photo_like_scene()
    images, labels = [image, image], [label, label]
    probabilities = [_blurred_scores(label, 8), _blurred_scores(label, 16)]
    # Around the defaults (σα 121, σβ 5); the full DEFAULT_CRF_GRID on this data picks
    # σα 80, σβ 5, w1 4: 0.8476 pooled mIoU vs 0.8469 for CRF_VOC, 0.7281 without CRF.
    grid = {"bilateral_sxy": (80.0, 121.0), "bilateral_srgb": (5.0, 10.0)}
    result = search_crf_parameters(images, probabilities, labels, grid=grid)

    def pooled_miou(**kwargs):
        confusion = sum(confusion_matrix(y, dense_crf(x, p, **kwargs).argmax(-1), NUM_CLASSES)
                        for x, p, y in zip(images, probabilities, labels))
        return scores_from_confusion(confusion)["mean_iou"]

    assert [(row["bilateral_sxy"], row["bilateral_srgb"]) for row in result.table] == [
        (80.0, 5.0), (80.0, 10.0), (121.0, 5.0), (121.0, 10.0)]  # grid order
    scores = [row["mean_iou"] for row in result.table]
    assert result.best_mean_iou == max(scores)
    assert result.best == {key: value for key, value in
                           result.table[scores.index(max(scores))].items() if key != "mean_iou"}
    assert result.best["bilateral_compat"] == CRF_VOC["bilateral_compat"]  # from `base`
    defaults = result.table[2]["mean_iou"]
    assert result.best_mean_iou >= defaults > result.baseline_mean_iou + 0.05
    # The table's figure is what dense_crf gives (deterministic, pooled over the images).
    assert pooled_miou(**result.best) == result.best_mean_iou
    assert result.baseline_mean_iou == scores_from_confusion(sum(
        confusion_matrix(y, p.argmax(-1), NUM_CLASSES)
        for p, y in zip(probabilities, labels)))["mean_iou"]


def test_search_bad_inputs():
    image, label = _photo_like_scene(height=24, width=32)
    probs = _blurred_scores(label, 8)
    ok = ([image], [probs], [label])
    cases = [
        ((ok[0], ok[1], ok[2], {}), r"`grid` must be a non-empty mapping"),
        ((*ok, {"bilateral_weight": (1.0,)}), r"`grid` keys must be dense_crf arguments"),
        ((*ok, {"bilateral_srgb": ()}), r"`grid\['bilateral_srgb'\]` must hold at least one"),
        ((*ok, {"bilateral_srgb": (5.0, 0.0)}), r"`bilateral_srgb` must be a number > 0"),
        ((*ok, {"num_iterations": (10, 0)}), r"`num_iterations` must be an integer ≥ 1"),
        (([image], [probs], [np.full_like(label, 255)], None), r"`labels` hold no pixel"),
        (([image, image], [probs], [label], None), r"same number of images, received 2, 1"),
        (([], [], [], None), r"`images` must hold at least one image"),
        (([image], [probs[:20]], [label], None), r"`probabilities\[0\]` has height and width"),
        (([image], [probs], [label[:, :30]], None), r"`labels\[0\]` must be H×W"),
        (([image[..., :2]], [probs], [label], None), r"`images\[0\]` must be a uint8"),
        ((image, probs, 3, None), r"`labels` must be a sequence"),
    ]
    for (images, probabilities, labels, grid), match in cases:
        kwargs = {} if grid is None else {"grid": grid}
        with pytest.raises(ValueError, match=match):
            search_crf_parameters(images, probabilities, labels, **kwargs)
    with pytest.raises(ValueError, match=r"`probabilities\[0\]` must have num_classes=4"):
        search_crf_parameters(*ok, num_classes=4)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"bilateral_sxy": 0.0}, ValueError, r"`bilateral_sxy` must be a number > 0"),
        ({"bilateral_srgb": -5.0}, ValueError, r"`bilateral_srgb` must be a number > 0"),
        ({"gaussian_compat": -1.0}, ValueError, r"`gaussian_compat` must be a number ≥ 0"),
        ({"bilateral_compat": "4"}, TypeError, r"`bilateral_compat` must be a number ≥ 0"),
        ({"num_iterations": 0}, ValueError, r"`num_iterations` must be an integer ≥ 1"),
    ],
)
def test_crf_bad_parameters(kwargs, error, match):
    image, probs, _ = _scene()
    with pytest.raises(error, match=match):
        dense_crf(image, probs, **kwargs)


def test_read_only_inputs_as_tf_data_yields_them():
    pytest.importorskip("pydensecrf", reason="needs the optional `crf` extra")
    image, label = _photo_like_scene()
    probs = _blurred_scores(label, 8)
    expected = dense_crf(image, probs)
    image, probs = image.copy(), probs.copy()
    image.flags.writeable = probs.flags.writeable = False
    np.testing.assert_array_equal(dense_crf(image, probs), expected)


_BINDINGS_CHECK = """
import numpy as np
import tensorflow  # loaded first, as in any keras_lk process
from keras_lk.evaluation import dense_crf
image = np.random.RandomState(0).randint(0, 256, (8, 8, 3)).astype(np.uint8)
dense_crf(image, np.full((8, 8, 2), 0.5, np.float32), num_iterations=1)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's LD_DEBUG")
def test_pydensecrf_binds_no_symbol_to_tensorflow(tmp_path):
    # Loaded after TensorFlow, pydensecrf bound six Eigen internals to TensorFlow's
    # exported copies; `dense_crf` loads it with RTLD_DEEPBIND so it keeps its own.
    pytest.importorskip("pydensecrf", reason="needs the optional `crf` extra")
    log = tmp_path / "ld"
    env = dict(os.environ, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=str(log))
    subprocess.run([sys.executable, "-c", _BINDINGS_CHECK], env=env, check=True,
                   capture_output=True, timeout=300)
    lines = [line for path in tmp_path.glob("ld.*") for line in path.read_text().splitlines()
             if "binding file" in line and "pydensecrf" in line.split("binding file")[1]
             .split(" to ")[0]]
    assert any("densecrf" in line for line in lines)  # the log does show its bindings
    to_tensorflow = [line for line in lines if "tensorflow" in line.split(" to ")[1]]
    assert not to_tensorflow, to_tensorflow[:3]
