"""Prediction export: palette label PNGs (VOC / Cityscapes colours) and overlays.

`save_label_png` writes an indexed ("P" mode) PNG: pixel values stay the class ids (the
format of VOC's SegmentationClass PNGs and of evaluation servers), the palette only
decides how viewers show them.
"""

from __future__ import annotations

import numpy as np

from keras_lk.data.visualization import CITYSCAPES_COLORS, voc_palette


def cityscapes_colors(num_colors=19):
    """Official Cityscapes colours indexed by trainId.

    Args:
        num_colors: 19 for the evaluated classes; 256 gives a full palette where every
            other index (e.g. 255, void) is black, as in Cityscapes' colour images.

    Returns:
        uint8 array `num_colors`×3; entry 0 (road) is (128, 64, 128).
    """
    if num_colors not in (19, 256):
        raise ValueError(f"`num_colors` must be 19 or 256, received {num_colors!r}.")
    colors = np.zeros((num_colors, 3), np.uint8)
    colors[:19] = CITYSCAPES_COLORS
    return colors


def _palette(palette):
    """A 256×3 uint8 palette from "voc", "cityscapes" or an array of ≤ 256 colours."""
    if isinstance(palette, str):
        if palette == "voc":
            return voc_palette()
        if palette == "cityscapes":
            return cityscapes_colors(256)
        raise ValueError(f"`palette` must be 'voc', 'cityscapes' or an array, received "
                         f"{palette!r}.")
    colors = np.asarray(palette)
    if colors.ndim != 2 or colors.shape[1] != 3 or not 1 <= len(colors) <= 256:
        raise ValueError(f"`palette` must be an array of at most 256 RGB colours (K×3), "
                         f"received shape {colors.shape}.")
    full = np.zeros((256, 3), np.uint8)
    full[: len(colors)] = np.clip(colors, 0, 255)
    return full


def _label_map(labels):
    labels = np.asarray(labels)
    if labels.ndim == 3 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.ndim != 2:
        raise ValueError(f"`labels` must be H×W or H×W×1 class ids, received shape "
                         f"{labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"`labels` must hold integer class ids, received dtype {labels.dtype}; "
                        "take the argmax of score maps first.")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f"`labels` values must be in [0, 255], received "
                         f"[{labels.min()}, {labels.max()}].")
    return labels.astype(np.uint8)


def colorize(labels, palette="voc"):
    """Class ids H×W[×1] → RGB uint8 H×W×3 with the `"voc"` / `"cityscapes"` palette."""
    return _palette(palette)[_label_map(labels)]


def save_label_png(path, labels, palette="voc"):
    """Writes class ids as an indexed PNG with a colour palette.

    Args:
        path: output file path (or a binary file object).
        labels: integer class ids H×W or H×W×1 in [0, 255] (255 = void).
        palette: `"voc"` (PASCAL VOC colour map), `"cityscapes"` (trainId colours,
            void black) or a K×3 array of colours.

    Example:
    >>> keras_lk.evaluation.save_label_png("2007_000033.png", probs.argmax(-1))
    >>> np.array(PIL.Image.open("2007_000033.png"))  # the class ids again
    """
    from PIL import Image

    picture = Image.fromarray(_label_map(labels))  # "L"; putpalette makes it "P".
    picture.putpalette(_palette(palette).reshape(-1).tolist())
    picture.save(path, format="PNG")


def overlay(image, labels, alpha=0.5, palette="voc", ignore_label=255):
    """Blends label colours over an image.

    Args:
        image: RGB image H×W×3, uint8 or float in [0, 1].
        labels: integer class ids H×W or H×W×1.
        alpha: opacity of the label colours in [0, 1].
        palette: `"voc"`, `"cityscapes"` or a K×3 array.
        ignore_label: pixels with this label keep the image colour (None: colour all).

    Returns:
        uint8 H×W×3 `(1 - alpha) * image + alpha * colour`.

    Example:
    >>> PIL.Image.fromarray(keras_lk.evaluation.overlay(image, labels)).save("overlay.png")
    """
    image = np.asarray(image)
    labels = _label_map(labels)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"`image` must be RGB H×W×3, received shape {image.shape}.")
    if image.shape[:2] != labels.shape:
        raise ValueError(f"`image` ({image.shape[:2]}) and `labels` ({labels.shape}) must have "
                         "the same height and width.")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must be in [0, 1], received {alpha}.")
    if np.issubdtype(image.dtype, np.floating):
        image = image * 255.0
    image = image.astype(np.float32)
    colors = _palette(palette)[labels].astype(np.float32)
    blended = (1.0 - alpha) * image + alpha * colors
    if ignore_label is not None:
        blended = np.where((labels == ignore_label)[..., None], image, blended)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
