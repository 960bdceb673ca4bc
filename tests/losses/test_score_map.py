"""Losses read on the score map (FCRN's K counts pixels of the 1/8 map)."""

import keras
import numpy as np
import pytest

from keras_lk.losses import OHEMLoss, SegmentationCrossEntropy, make_loss
from keras_lk.losses.score_map import to_score_map

STRIDE = 8


def _blocks(array, stride=STRIDE):
    """Each score-map pixel repeated over its stride × stride cell (axes 1 and 2)."""
    return np.repeat(np.repeat(array, stride, axis=1), stride, axis=2)


def _score_map_case(seed=0, batch=2, cells=4, classes=3):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, cells, cells, classes)).astype("float32")
    labels = rng.integers(0, classes, size=(batch, cells, cells)).astype("int32")
    return labels, logits


def _read_back(score, stride=STRIDE):
    """What `to_score_map` reads from `score` upsampled bilinearly by an even `stride`:
    along each axis the average of the two pixels beside a cell's centre, at ±1/(2·stride)
    of a score pixel, which is v + (v[+1] − 2v + v[−1]) / (4·stride) with the edges
    clamped."""
    for axis in (1, 2):
        padded = np.pad(score, [(1, 1) if a == axis else (0, 0) for a in range(4)], "edge")
        before, after = (np.take(padded, range(i, i + score.shape[axis]), axis=axis)
                         for i in (0, 2))
        score = score + (after - 2 * score + before) / (4 * stride)
    return score


def test_a_score_map_upsampled_bilinearly_is_read_back_at_the_cell_centres():
    _, score = _score_map_case(cells=6)
    upsampled = keras.layers.UpSampling2D(STRIDE, interpolation="bilinear")(score)
    _, logits = to_score_map(np.zeros((2, 48, 48), "int32"), upsampled, STRIDE)
    np.testing.assert_allclose(np.asarray(logits), _read_back(score), atol=1e-5)
    # Where the score map is linear (inside, away from the clamped edges) exactly.
    ramp = np.arange(6, dtype="float32")
    linear = np.broadcast_to(ramp[None, :, None, None] * 0.5 - ramp[None, None, :, None] * 0.25,
                             (1, 6, 6, 2))
    upsampled = keras.layers.UpSampling2D(STRIDE, interpolation="bilinear")(linear)
    _, logits = to_score_map(np.zeros((1, 48, 48), "int32"), upsampled, STRIDE)
    np.testing.assert_allclose(np.asarray(logits)[:, 1:-1, 1:-1], linear[:, 1:-1, 1:-1],
                               atol=1e-5)


def test_labels_are_the_centre_pixel_of_each_cell():
    labels = np.arange(2 * 16 * 16).reshape(2, 16, 16)
    sub, _ = to_score_map(labels, np.zeros((2, 16, 16, 3), "float32"), STRIDE)
    np.testing.assert_array_equal(sub, labels[:, 4::8, 4::8])
    sub, _ = to_score_map(labels[..., None], np.zeros((2, 16, 16, 3), "float32"), STRIDE)
    assert sub.shape == (2, 2, 2, 1)


@pytest.mark.parametrize("loss_at_stride, loss_on_map", [
    (SegmentationCrossEntropy(stride=STRIDE), SegmentationCrossEntropy()),
    (OHEMLoss(mode="fcrn", threshold=0.0, min_kept=5, stride=STRIDE),
     OHEMLoss(mode="fcrn", threshold=0.0, min_kept=5)),
    (OHEMLoss(mode="gald", threshold=0.7, min_kept=3, stride=STRIDE),
     OHEMLoss(mode="gald", threshold=0.7, min_kept=3)),
], ids=["cross_entropy", "ohem_fcrn", "ohem_gald"])
def test_a_loss_at_the_stride_is_the_loss_of_the_score_map(loss_at_stride, loss_on_map):
    labels, logits = _score_map_case()
    labels[0, 0, 0] = 255  # an ignored score-map pixel stays ignored
    expected = float(loss_on_map(labels, logits))
    actual = float(loss_at_stride(_blocks(labels), _blocks(logits)))
    assert actual == pytest.approx(expected, rel=1e-5)
    assert actual != pytest.approx(float(loss_on_map(_blocks(labels), _blocks(logits) * 0)))


def test_bootstrapping_keeps_k_score_map_pixels_per_image():
    labels, logits = _score_map_case(cells=6)
    loss = OHEMLoss(mode="fcrn", threshold=0.0, min_kept=7, stride=STRIDE)
    kept = np.asarray(loss.kept_pixels(_blocks(labels), _blocks(logits)))
    assert kept.shape == (2, 6, 6)
    np.testing.assert_array_equal(kept.sum(axis=(1, 2)), [7, 7])


def test_stride_is_checked_and_kept_in_the_config():
    with pytest.raises(ValueError, match="stride"):
        SegmentationCrossEntropy(stride=0)
    with pytest.raises(ValueError, match="stride"):
        OHEMLoss(stride=True)
    with pytest.raises(ValueError, match="height is a static multiple of 8"):
        SegmentationCrossEntropy(stride=STRIDE)(np.zeros((1, 12, 16)),
                                                np.zeros((1, 12, 16, 2), "float32"))
    for loss in (make_loss("cross_entropy", stride=4), make_loss("ohem", stride=4)):
        assert type(loss).from_config(loss.get_config()).stride == 4
