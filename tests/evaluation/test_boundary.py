import numpy as np
import pytest

from keras_lk.evaluation import (
    BoundaryInternalAccuracy,
    boundary_internal_accuracy,
    boundary_region,
)


def _two_halves():
    labels = np.zeros((10, 10), np.uint8)
    labels[:, 5:] = 1
    predictions = labels.copy()
    predictions[:, 4] = 1  # Wrong column next to the boundary.
    predictions[:, 0] = 1  # Wrong column far from it.
    return labels, predictions


def test_hand_computed_regions():
    labels, predictions = _two_halves()
    # distance 2: columns 3..6 lie within 2 px of the 4|5 label change.
    result = boundary_internal_accuracy(labels, predictions, distance=2)
    assert result["boundary_pixels"] == 40 and result["internal_pixels"] == 60
    assert result["boundary_accuracy"] == pytest.approx(30 / 40)
    assert result["internal_accuracy"] == pytest.approx(50 / 60)


def test_ignore_pixels_in_neither_region_and_void_is_a_boundary():
    labels, predictions = _two_halves()
    labels[0, 0] = 255  # A void pixel: not counted, and its neighbours become boundary.
    result = boundary_internal_accuracy(labels, predictions, distance=1)
    # distance 1: columns 4, 5 (20 px) plus (0,1), (1,0), (1,1) next to the void pixel.
    assert result["boundary_pixels"] == 23
    assert result["internal_pixels"] == 100 - 1 - 23
    # Boundary: column 4 wrong (10), (1,0) wrong, (0,1) and (1,1) right.
    assert result["boundary_accuracy"] == pytest.approx(12 / 23)
    # Internal: column 0 rows 2..9 wrong (8).
    assert result["internal_accuracy"] == pytest.approx((76 - 8) / 76)


def test_matches_boundary_region_and_gcn_default():
    rng = np.random.RandomState(0)
    labels = np.repeat(np.repeat(rng.randint(0, 3, (4, 5)), 8, 0), 8, 1)
    predictions = np.where(rng.uniform(size=labels.shape) < 0.2, 0, labels)
    boundary, internal = boundary_region(labels, distance=7)
    correct = labels == predictions
    result = boundary_internal_accuracy(labels, predictions)  # distance=7 as GCN.
    assert result["boundary_accuracy"] == pytest.approx(correct[boundary].mean())
    assert result["internal_accuracy"] == pytest.approx(correct[internal].mean())
    assert result["boundary_pixels"] + result["internal_pixels"] == labels.size


def test_streaming_equals_pooled_and_empty_region_is_nan():
    labels, predictions = _two_halves()
    other = np.full((6, 6), 2, np.uint8)
    accumulator = BoundaryInternalAccuracy(distance=2)
    accumulator.update(labels[..., None], predictions)
    accumulator.update(other, other)
    result = accumulator.result()
    assert result["boundary_accuracy"] == pytest.approx(30 / 40)
    assert result["internal_accuracy"] == pytest.approx((50 + 36) / (60 + 36))
    accumulator.reset()
    accumulator.update(other, other)
    assert np.isnan(accumulator.result()["boundary_accuracy"])


def test_bad_input():
    labels, predictions = _two_halves()
    with pytest.raises(ValueError, match="same shape"):
        boundary_internal_accuracy(labels, predictions[:, :9])
    with pytest.raises(ValueError, match="`distance`"):
        boundary_internal_accuracy(labels, predictions, distance=-1)
    with pytest.raises(TypeError, match="`predictions` must hold integer"):
        boundary_internal_accuracy(labels, predictions.astype(np.float32))
