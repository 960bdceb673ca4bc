"""Fully connected CRF post-processing (the "-CRF" rows of the GCN result tables).

Krähenbühl & Koltun, "Efficient Inference in Fully Connected CRFs with Gaussian Edge
Potentials", NeurIPS 2011 (https://arxiv.org/abs/1210.5644), as used by DeepLab and
GCN: unaries -log(p) from the network's softmax, a Gaussian smoothness kernel and an
appearance (bilateral position + colour) kernel, mean-field inference.

- `dense_crf`: one image; its defaults are `CRF_VOC`, DeepLab's PASCAL VOC 2012
  parameters;
- `search_crf_parameters`: a grid search of the CRF parameters on validation images,
  scored by mean IoU, the way DeepLab chose its parameters.

There is no Cityscapes set: we know of no published one (GCN's Table 9
"Stage-2-MS-CRF" row and DeepLab v2's Cityscapes CRF result do not state their
parameters), and VOC's were chosen for ~500 px photos, not 1024×2048 street scenes. Run
`search_crf_parameters` on some Cityscapes val images instead of reusing `CRF_VOC`.

Needs the optional `pydensecrf2` package: `pip install keras_lk[crf]`.

Reference:
    Chen et al., "Semantic Image Segmentation with Deep Convolutional Nets and Fully
    Connected CRFs", ICLR 2015 (https://arxiv.org/abs/1412.7062), and "DeepLab: Semantic
    Image Segmentation with Deep Convolutional Nets, Atrous Convolution, and Fully
    Connected CRFs", TPAMI 2017 (https://arxiv.org/abs/1606.00915).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import types

import numpy as np

from keras_lk.evaluation.confusion import confusion_matrix, scores_from_confusion

_MISSING = (
    "`dense_crf` needs the optional package `pydensecrf2` (a maintained build of "
    "pydensecrf); install it with `pip install keras_lk[crf]` or `pip install pydensecrf2`."
)

# DeepLab's PASCAL VOC 2012 parameters (Chen et al. 2015, 2017): smoothness kernel
# w2 = 3, σγ = 3; appearance kernel w1 = 4, σα = 121, σβ = 5; 10 mean-field iterations.
# Read-only; `dict(CRF_VOC)` gives a plain (JSON-serializable) copy.
CRF_VOC = types.MappingProxyType({
    "num_iterations": 10,
    "gaussian_sxy": 3.0,
    "gaussian_compat": 3.0,
    "bilateral_sxy": 121.0,
    "bilateral_srgb": 5.0,
    "bilateral_compat": 4.0,
})

# The appearance-kernel grid `search_crf_parameters` tries by default: 27 settings around
# `CRF_VOC` (DeepLab kept the smoothness kernel at w2 = σγ = 3 and searched w1, σα, σβ).
DEFAULT_CRF_GRID = types.MappingProxyType({
    "bilateral_compat": (3.0, 4.0, 5.0),
    "bilateral_sxy": (50.0, 80.0, 121.0),
    "bilateral_srgb": (3.0, 5.0, 10.0),
})

_CRF_ARGUMENTS = tuple(CRF_VOC)


def _check_parameters(num_iterations, **parameters):
    """Kernel widths (`*_sxy`, `*_srgb`) must be > 0, weights (`*_compat`) ≥ 0 (0: off)."""
    if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)) or (
        num_iterations < 1
    ):
        raise ValueError(f"`num_iterations` must be an integer ≥ 1, received {num_iterations!r}.")
    for name, value in parameters.items():
        bound = "≥ 0" if name.endswith("compat") else "> 0"
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"`{name}` must be a number {bound}, received {value!r}.")
        if not np.isfinite(value) or value < 0 or (value == 0 and bound == "> 0"):
            raise ValueError(f"`{name}` must be a number {bound}, received {value!r}.")


def _check_image(image, name="image_uint8"):
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"`{name}` must be a uint8 H×W×3 RGB image, received dtype {image.dtype} "
            f"and shape {image.shape}."
        )
    return image


def _check_probs(probs, name="probs"):
    probs = np.asarray(probs)
    if probs.ndim != 3 or probs.shape[-1] < 2 or not np.issubdtype(probs.dtype, np.floating):
        raise ValueError(
            f"`{name}` must be float softmax scores H×W×C with C ≥ 2, received dtype "
            f"{probs.dtype} and shape {probs.shape}."
        )
    return probs


def dense_crf(
    image_uint8,
    probs,
    num_iterations=CRF_VOC["num_iterations"],
    gaussian_sxy=CRF_VOC["gaussian_sxy"],
    gaussian_compat=CRF_VOC["gaussian_compat"],
    bilateral_sxy=CRF_VOC["bilateral_sxy"],
    bilateral_srgb=CRF_VOC["bilateral_srgb"],
    bilateral_compat=CRF_VOC["bilateral_compat"],
):
    """Refines softmax scores of one image with a fully connected CRF.

    The defaults are `CRF_VOC`, DeepLab's VOC 2012 parameters (10 iterations; smoothness
    kernel weight 3, σ 3 px; appearance kernel weight 4, σ 121 px and 5 colour levels).
    They were chosen on VOC images at VOC resolution (~500 px); for another dataset or
    resolution choose them with `search_crf_parameters`. (Earlier keras_lk defaults were
    pydensecrf's example values, 5 iterations and an appearance kernel of weight 10,
    σ 80 px and 13 levels; they over-smoothed real photos: pass them explicitly to
    reproduce old numbers.)

    Args:
        image_uint8: the RGB image, uint8 H×W×3 (not normalised).
        probs: softmax probabilities H×W×C (C ≥ 2), e.g. from `predict_multiscale`.
        num_iterations: mean-field iterations (DeepLab: 10).
        gaussian_sxy: spatial std (pixels) of the smoothness kernel (DeepLab σγ).
        gaussian_compat: weight of the smoothness kernel, Potts compatibility (w2).
        bilateral_sxy: spatial std (pixels) of the appearance kernel (σα).
        bilateral_srgb: colour std of the appearance kernel, in 0..255 levels (σβ).
        bilateral_compat: weight of the appearance kernel (w1).

    Returns:
        float32 H×W×C refined marginals (each pixel sums to 1); `argmax(-1)` gives labels.

    Raises:
        ValueError / TypeError: on a bad image, bad scores, mismatched sizes or a
            width ≤ 0 or weight < 0.
        ImportError: when `pydensecrf2` is not installed (names the `crf` extra).

    Example:
    >>> probs = keras_lk.evaluation.predict_multiscale(model, normalized[None])[0]
    >>> refined = keras_lk.evaluation.dense_crf(image_uint8, probs).argmax(-1)

    Reference:
        Krähenbühl & Koltun, NeurIPS 2011; Chen et al. (DeepLab), ICLR 2015 and
        TPAMI 2017 (the parameters).
    """
    image = _check_image(image_uint8)
    probs = _check_probs(probs)
    if probs.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"`probs` ({probs.shape[:2]}) and `image_uint8` ({image.shape[:2]}) must have "
            "the same height and width."
        )
    _check_parameters(
        num_iterations, gaussian_sxy=gaussian_sxy, gaussian_compat=gaussian_compat,
        bilateral_sxy=bilateral_sxy, bilateral_srgb=bilateral_srgb,
        bilateral_compat=bilateral_compat,
    )
    densecrf = _import_densecrf()

    height, width, classes = probs.shape
    # Unary energy -log(p), clipped away from log(0); the library wants C×(H·W) float32.
    unary = -np.log(np.clip(probs.astype(np.float32), 1e-8, 1.0))
    unary = np.ascontiguousarray(unary.transpose(2, 0, 1).reshape(classes, -1))
    crf = densecrf.DenseCRF2D(width, height, classes)
    crf.setUnaryEnergy(unary)
    crf.addPairwiseGaussian(sxy=float(gaussian_sxy), compat=float(gaussian_compat))
    crf.addPairwiseBilateral(
        # A writable C-ordered copy: the library's buffer refuses read-only arrays, which
        # is what `tf.data`'s `as_numpy_iterator()` yields.
        sxy=float(bilateral_sxy), srgb=float(bilateral_srgb), rgbim=np.array(image, order="C"),
        compat=float(bilateral_compat),
    )
    marginals = np.asarray(crf.inference(int(num_iterations)), dtype=np.float32)
    return marginals.reshape(classes, height, width).transpose(1, 2, 0)


def _import_densecrf():
    """`pydensecrf.densecrf`, loaded so that it calls its own Eigen.

    TensorFlow's libtensorflow_framework.so.2 is loaded with global symbols and exports
    Eigen internals (the matrix-product blocking heuristic, the cache-size queries). A
    pydensecrf loaded after it binds six of them (glibc's ``LD_DEBUG=bindings``) to
    TensorFlow's copies instead of the Eigen it was compiled with; two builds of one
    template library mixed in one process can disagree on their data layouts. Loading
    its extensions with RTLD_DEEPBIND makes them resolve their own symbols first. An
    import of pydensecrf that happened before this one (by the user) keeps its bindings.
    """
    if "pydensecrf.densecrf" not in sys.modules and hasattr(os, "RTLD_DEEPBIND"):
        flags = sys.getdlopenflags()
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            return _import_densecrf_module()
        finally:
            sys.setdlopenflags(flags)
    return _import_densecrf_module()


def _import_densecrf_module():
    try:
        from pydensecrf import densecrf
    except ImportError as error:
        raise ImportError(_MISSING) from error
    return densecrf


@dataclasses.dataclass(frozen=True)
class CRFSearchResult:
    """What `search_crf_parameters` found.

    Attributes:
        best: dict of `dense_crf` keyword arguments with the highest mean IoU (the
            first such setting in grid order on a tie).
        best_mean_iou: its mean IoU over the images.
        baseline_mean_iou: mean IoU of `argmax(probabilities)`, without the CRF.
        table: one dict per setting, in grid order: its `dense_crf` arguments plus
            `"mean_iou"`.
    """

    best: dict
    best_mean_iou: float
    baseline_mean_iou: float
    table: tuple


def _per_image(values, name):
    """`values` as a list of per-image arrays (an N×... array or a list of arrays)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or (
        isinstance(values, np.ndarray) and values.ndim == 0
    ):
        raise ValueError(f"`{name}` must be a sequence of per-image arrays, received "
                         f"{type(values).__name__}.")
    return list(values)


def _check_grid(grid):
    if not hasattr(grid, "items") or not grid:
        raise ValueError(
            "`grid` must be a non-empty mapping of dense_crf argument names to sequences of "
            f"values, received {grid!r}."
        )
    checked = {}
    for name, values in grid.items():
        if name not in _CRF_ARGUMENTS:
            raise ValueError(
                f"`grid` keys must be dense_crf arguments {_CRF_ARGUMENTS}, received {name!r}."
            )
        values = (values,) if isinstance(values, (int, float, np.number)) else tuple(values)
        if not values:
            raise ValueError(f"`grid[{name!r}]` must hold at least one value, received ().")
        for value in values:  # before any CRF runs, not after minutes of search
            if name == "num_iterations":
                _check_parameters(value)
            else:
                _check_parameters(1, **{name: value})
        checked[name] = values
    return checked


def search_crf_parameters(images, probabilities, labels, grid=DEFAULT_CRF_GRID, num_classes=None,
                          ignore_label=255, base=CRF_VOC):
    """Chooses `dense_crf` parameters by mean IoU on validation images (DeepLab's way).

    DeepLab kept the smoothness kernel fixed (w2 = σγ = 3), ran 10 mean-field
    iterations, and cross-validated the appearance kernel (w1, σα, σβ) on 100 VOC val
    images, coarse to fine. This runs one such grid: every combination of `grid`'s
    values (the other arguments from `base`), the confusion matrix pooled over all
    images, the setting with the highest mean IoU. Deterministic: settings are tried in
    the order of `grid` (`itertools.product`), a tie keeps the earlier one. Cost: one
    CRF per image and setting, on one CPU core (~0.2 s for a 256×192 image, 5 classes,
    10 iterations). Refine by calling it again with a finer grid around `best`.

    Args:
        images: uint8 H×W×3 RGB images (an N×H×W×3 array or a list; sizes may differ).
        probabilities: softmax scores, one H×W×C per image (C = `num_classes`).
        labels: integer label maps, one H×W per image, `ignore_label` for void.
        grid: mapping from `dense_crf` argument names to the values to try;
            `DEFAULT_CRF_GRID` (27 appearance-kernel settings around `CRF_VOC`).
        num_classes: number of classes; None takes C of `probabilities`.
        ignore_label: label excluded from the scores (None: count every pixel).
        base: values of the arguments `grid` does not vary (default `CRF_VOC`).

    Returns:
        `CRFSearchResult` with `best` (dense_crf keyword arguments), `best_mean_iou`,
        `baseline_mean_iou` (no CRF) and `table` (every setting with its mean IoU).

    Raises:
        ValueError: on an empty or unknown `grid`, no images, different image counts,
            or an image, score map and label map of different sizes (the message names
            the argument and the image index).
        ImportError: when `pydensecrf2` is not installed.

    Example:
    >>> result = keras_lk.evaluation.search_crf_parameters(images, probs, labels)
    >>> result.best, result.best_mean_iou - result.baseline_mean_iou
    >>> refined = keras_lk.evaluation.dense_crf(image, p, **result.best)
    """
    grid = _check_grid(grid)
    if not hasattr(base, "keys") or set(base) != set(_CRF_ARGUMENTS):
        raise ValueError(f"`base` must give every dense_crf argument {_CRF_ARGUMENTS}, "
                         f"received {base!r}.")
    _check_parameters(**base)
    lists = {"images": _per_image(images, "images"),
             "probabilities": _per_image(probabilities, "probabilities"),
             "labels": _per_image(labels, "labels")}
    counts = {name: len(value) for name, value in lists.items()}
    if len(set(counts.values())) != 1:
        raise ValueError("`images`, `probabilities` and `labels` must hold the same number of "
                         f"images, received {counts['images']}, {counts['probabilities']} and "
                         f"{counts['labels']}.")
    if counts["images"] == 0:
        raise ValueError("`images` must hold at least one image, received none.")
    images = [_check_image(image, f"images[{i}]") for i, image in enumerate(lists["images"])]
    probabilities = [_check_probs(p, f"probabilities[{i}]")
                     for i, p in enumerate(lists["probabilities"])]
    labels = [np.asarray(label) for label in lists["labels"]]
    if num_classes is None:
        num_classes = int(probabilities[0].shape[-1])
    for i, (image, p, label) in enumerate(zip(images, probabilities, labels)):
        if p.shape[:2] != image.shape[:2]:
            raise ValueError(f"`probabilities[{i}]` has height and width {p.shape[:2]}, but "
                             f"`images[{i}]` has {image.shape[:2]}.")
        if label.shape != image.shape[:2]:
            raise ValueError(f"`labels[{i}]` must be H×W = {image.shape[:2]} like `images[{i}]`, "
                             f"received shape {label.shape}.")
        if p.shape[-1] != num_classes:
            raise ValueError(f"`probabilities[{i}]` must have num_classes={num_classes} "
                             f"channels, received shape {p.shape}.")

    def mean_iou(predictions):
        confusion = sum(confusion_matrix(label, prediction, num_classes, ignore_label)
                        for label, prediction in zip(labels, predictions))
        return scores_from_confusion(confusion)["mean_iou"]

    baseline = mean_iou([p.argmax(-1) for p in probabilities])
    if np.isnan(baseline):
        raise ValueError(f"`labels` hold no pixel other than ignore_label={ignore_label}.")
    names = tuple(grid)
    table, best, best_score = [], None, -np.inf
    for values in itertools.product(*(grid[name] for name in names)):
        setting = {**base, **dict(zip(names, values))}
        score = mean_iou([dense_crf(image, p, **setting).argmax(-1)
                          for image, p in zip(images, probabilities)])
        table.append({**setting, "mean_iou": score})
        if score > best_score:  # strict: a tie keeps the earlier setting
            best, best_score = setting, score
    return CRFSearchResult(best=best, best_mean_iou=float(best_score),
                           baseline_mean_iou=float(baseline), table=tuple(table))
