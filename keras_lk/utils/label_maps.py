"""Geometry of label maps shared by the scene generator and the evaluation."""

import numpy as np


def label_change_band(label: np.ndarray, width: int) -> np.ndarray:
    """Pixels within Chebyshev distance `width` of a pixel with a different label."""
    band = np.zeros(label.shape, dtype=bool)
    if width == 0:
        return band
    padded = np.pad(label, width, mode="edge")
    h, w = label.shape
    for dy in range(-width, width + 1):
        for dx in range(-width, width + 1):
            if dy or dx:
                shifted = padded[width + dy : width + dy + h, width + dx : width + dx + w]
                band |= shifted != label
    return band
