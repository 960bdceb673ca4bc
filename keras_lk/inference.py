"""One-call inference: images of any size in, label maps at their original size out.

>>> segmenter = keras_lk.Segmenter("runs/default/model.keras", scales=(0.75, 1, 1.25),
...                                flip=True)
>>> result = segmenter("photo.jpg")             # a path, a NumPy array or a PIL image
>>> result.labels.shape                         # (H, W) of the photo, class indices
>>> result.save("photo.png")                    # a palette PNG in the model's colours
>>> results = segmenter(["a.jpg", "b.png"], probabilities=True)   # a list in, a list out

The model carries its classes, palette and input normalization (`SegmentationModel`), so
a reloaded file predicts and colours without other arguments. Images of one size are
predicted together in batches of `batch_size`; images of other sizes go in their own
batches, so every image is predicted at its own size (no resizing or cropping unless
the protocol asks for scales). The protocol is the evaluation's
(`keras_lk.evaluation.evaluate_segmentation`): scales and flip, sliding window, CRF.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

# PIL modes of 8-bit images; "I;16", "I" and "F" (16-bit, 32-bit, float) would be clipped.
EIGHT_BIT_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB",
                   "HSV")


def read_image(source, name=None):
    """An image as uint8 RGB H×W×3: a file path, a PIL image, or an array (H×W grey,
    H×W×3 RGB, H×W×4 RGBA; uint8, or float/int with values in 0..255). One-line
    `ValueError`s name the input for unreadable, empty, 16-bit or out-of-range images."""
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with Image.open(path) as image:
                return read_image(image, name=path)
        except OSError as error:
            raise ValueError(f"cannot read image {path!r}: {error}") from None
    name = name or "the image"
    if isinstance(source, Image.Image):
        if source.mode not in EIGHT_BIT_MODES:
            raise ValueError(f"image {name!r} has PIL mode {source.mode!r} (16-bit or float "
                             "pixels); expected an 8-bit RGB or greyscale image.")
        pixels = np.asarray(source.convert("RGB"))
    else:
        pixels = np.asarray(source)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=-1)
        if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
            raise ValueError(f"{name} must be H×W, H×W×3 or H×W×4, received shape "
                             f"{pixels.shape}.")
        pixels = pixels[..., :3]
        if pixels.dtype != np.uint8:
            if not (np.issubdtype(pixels.dtype, np.number) and pixels.dtype != bool):
                raise ValueError(f"{name} must hold numbers, received dtype {pixels.dtype}.")
            if pixels.size and (not np.all(np.isfinite(pixels)) or pixels.min() < 0
                                or pixels.max() > 255):
                raise ValueError(f"{name} ({pixels.dtype}) must hold values in 0..255, "
                                 f"received {pixels.min()}..{pixels.max()}.")
            pixels = np.round(pixels).astype(np.uint8)
    if 0 in pixels.shape:
        raise ValueError(f"image {name!r} is empty (size {pixels.shape[1]}×{pixels.shape[0]}).")
    return np.ascontiguousarray(pixels)


@dataclasses.dataclass
class Segmentation:
    """The prediction of one image.

    Attributes:
        labels: uint8 H×W class indices at the image's size.
        probabilities: float32 H×W×C class probabilities, or None.
        class_names, palette: the model's (palette: one RGB per class, or None).
    """

    labels: np.ndarray
    probabilities: np.ndarray | None
    class_names: tuple | None
    palette: np.ndarray | None

    def colorize(self) -> np.ndarray:
        """RGB uint8 H×W×3 in the model's palette (VOC's when it has none)."""
        from keras_lk.data import colorize

        return colorize(self.labels, palette="voc" if self.palette is None else self.palette)

    def save(self, path):
        """A palette PNG: pixel values are the labels, colours the palette."""
        from keras_lk.evaluation import save_label_png

        save_label_png(path, self.labels,
                       palette="voc" if self.palette is None else self.palette)


class Segmenter:
    """Predicts label maps of images of any size with a keras_lk segmentation model.

    Args:
        model: a `keras_lk.models.SegmentationModel`, or the path of its `.keras` file
            (or a run directory holding `model.keras`).
        scales, flip, tile, overlap, crf: the test-time protocol (see
            `keras_lk.evaluation.evaluate_segmentation`); the defaults are one pass.
        batch_size: images of one size predicted together.
    """

    def __init__(self, model, *, scales=(1.0,), flip=False, tile=None, overlap=1 / 3,
                 crf=None, batch_size=4):
        if isinstance(model, (str, os.PathLike)):
            from keras_lk.models import load_model
            from keras_lk.training.initialization import model_file

            path = os.fspath(model)
            model = load_model(model_file(path) if os.path.isdir(path) else path)
        for attribute in ("num_classes", "normalization", "main_logits"):
            if not hasattr(model, attribute):
                raise ValueError("`model` must be a keras_lk segmentation model (GCNSeg, "
                                 f"GALDNet, FCRN) or its .keras file, received {model!r}.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"`batch_size` must be an integer ≥ 1, received {batch_size!r}.")
        self.model = model
        self.protocol = {"scales": tuple(scales), "flip": flip, "tile": tile,
                         "overlap": overlap, "crf": crf}
        self.batch_size = batch_size

    def __call__(self, images, probabilities=False):
        """`Segmentation` of one image, or a list of them for a list of images."""
        single = not isinstance(images, (list, tuple))
        sources = [images] if single else list(images)
        if not sources:
            raise ValueError("`images` is empty.")
        pixels = [read_image(source, name=_name(source, i)) for i, source in enumerate(sources)]
        results = [None] * len(pixels)
        for indices in self._batches(pixels):
            batch = np.stack([pixels[i] for i in indices])
            if probabilities:
                from keras_lk.evaluation.evaluate import predict_probabilities

                scores = predict_probabilities(self.model, batch, **self.protocol)
                labels = np.argmax(scores, axis=-1)
            else:
                from keras_lk.evaluation.evaluate import predict_labels

                scores, labels = None, predict_labels(self.model, batch, **self.protocol)
            for k, i in enumerate(indices):
                results[i] = self._result(labels[k], None if scores is None else scores[k])
        return results[0] if single else results

    def _batches(self, pixels):
        """Indices of images grouped by size, at most `batch_size` per group."""
        groups = {}
        for i, image in enumerate(pixels):
            groups.setdefault(image.shape, []).append(i)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                yield indices[start:start + self.batch_size]

    def _result(self, labels, scores):
        model = self.model
        palette = None if model.palette is None else np.asarray(model.palette, np.uint8)
        names = None if model.class_names is None else tuple(model.class_names)
        return Segmentation(labels.astype(np.uint8),
                            None if scores is None else scores.astype(np.float32), names,
                            palette)


def _name(source, index):
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else f"image {index}"


def predict(model, images, probabilities=False, **protocol):
    """``Segmenter(model, **protocol)(images, probabilities)``."""
    return Segmenter(model, **protocol)(images, probabilities=probabilities)
