"""Predicted label maps as files and pictures: palette label PNGs and overlays.

`save_label_png` writes an indexed ("P" mode) PNG: pixel values stay the class ids (the
format of VOC's SegmentationClass PNGs and of evaluation servers), the palette only
decides how viewers show them. The colours are those of `keras_lk.data.palettes`.
"""

from __future__ import annotations

import numpy as np

from keras_lk.data.palettes import full_palette, label_map


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

    picture = Image.fromarray(label_map(labels))  # "L"; putpalette makes it "P".
    picture.putpalette(full_palette(palette).reshape(-1).tolist())
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
    labels = label_map(labels)
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
    colors = full_palette(palette)[labels].astype(np.float32)
    blended = (1.0 - alpha) * image + alpha * colors
    if ignore_label is not None:
        blended = np.where((labels == ignore_label)[..., None], image, blended)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
