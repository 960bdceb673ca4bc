import numpy as np
import pytest

from keras_lk.evaluation import dense_crf


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
