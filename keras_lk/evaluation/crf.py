"""Fully connected CRF post-processing (the "-CRF" rows of the GCN result tables).

Krähenbühl & Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian Edge
Potentials", NeurIPS 2011 (https://arxiv.org/abs/1210.5644), as used by DeepLab and
GCN: unaries -log(p) from the network's softmax, a Gaussian smoothness kernel and an
appearance (bilateral position + colour) kernel, mean-field inference.

Needs the optional `pydensecrf2` package: `pip install keras_lk[crf]`.
"""

from __future__ import annotations

import numpy as np

_MISSING = (
    "`dense_crf` needs the optional package `pydensecrf2` (a maintained build of "
    "pydensecrf); install it with `pip install keras_lk[crf]` or `pip install pydensecrf2`."
)


def dense_crf(
    image_uint8,
    probs,
    num_iterations=5,
    gaussian_sxy=3.0,
    gaussian_compat=3.0,
    bilateral_sxy=80.0,
    bilateral_srgb=13.0,
    bilateral_compat=10.0,
):
    """Refines softmax scores of one image with a fully connected CRF.

    Args:
        image_uint8: the RGB image, uint8 H×W×3 (not normalised).
        probs: softmax probabilities H×W×C (C ≥ 2), e.g. from `predict_multiscale`.
        num_iterations: mean-field iterations.
        gaussian_sxy: spatial std (pixels) of the smoothness kernel.
        gaussian_compat: weight of the smoothness kernel (Potts compatibility).
        bilateral_sxy: spatial std (pixels) of the appearance kernel.
        bilateral_srgb: colour std of the appearance kernel.
        bilateral_compat: weight of the appearance kernel.

    Returns:
        float32 H×W×C refined marginals (each pixel sums to 1); `argmax(-1)` gives labels.

    Raises:
        ImportError: when `pydensecrf2` is not installed (names the `crf` extra).

    Example:
    >>> probs = keras_lk.evaluation.predict_multiscale(model, normalized[None])[0]
    >>> refined = keras_lk.evaluation.dense_crf(image_uint8, probs).argmax(-1)
    """
    image = np.asarray(image_uint8)
    probs = np.asarray(probs)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"`image_uint8` must be a uint8 H×W×3 RGB image, received dtype {image.dtype} "
            f"and shape {image.shape}."
        )
    if probs.ndim != 3 or probs.shape[-1] < 2 or not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(
            f"`probs` must be float softmax scores H×W×C with C ≥ 2, received dtype "
            f"{probs.dtype} and shape {probs.shape}."
        )
    if probs.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"`probs` ({probs.shape[:2]}) and `image_uint8` ({image.shape[:2]}) must have "
            "the same height and width."
        )
    if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)) or (
        num_iterations < 1
    ):
        raise ValueError(f"`num_iterations` must be an integer ≥ 1, received {num_iterations!r}.")
    try:
        from pydensecrf import densecrf
    except ImportError as error:
        raise ImportError(_MISSING) from error

    height, width, classes = probs.shape
    # Unary energy -log(p), clipped away from log(0); the library wants C×(H·W) float32.
    unary = -np.log(np.clip(probs.astype(np.float32), 1e-8, 1.0))
    unary = np.ascontiguousarray(unary.transpose(2, 0, 1).reshape(classes, -1))
    crf = densecrf.DenseCRF2D(width, height, classes)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseGaussian(sxy=gaussian_sxy, compat=gaussian_compat)
    crf.addPairwiseBilateral(
        sxy=bilateral_sxy, srgb=bilateral_srgb, rgbim=np.ascontiguousarray(image),
        compat=bilateral_compat,
    )
    marginals = np.asarray(crf.inference(int(num_iterations)), dtype=np.float32)
    return marginals.reshape(classes, height, width).transpose(1, 2, 0)
