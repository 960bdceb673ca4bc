"""`load_model`: a saved keras_lk segmentation model, with one-line errors."""

from __future__ import annotations

import os

import keras

from keras_lk.models.segmentation_model import SegmentationModel
from keras_lk.utils.errors import first_line


def load_model(path):
    """Loads a `.keras` file saved from a keras_lk segmentation model (GCNSeg, GALDNet,
    FCRN), with ``safe_mode=True``.

    Args:
        path: the `.keras` file.

    Returns:
        The `keras_lk.models.SegmentationModel`, with its classes, palette and input
        normalization.

    Raises:
        ValueError: in one line, naming `path`: it is a directory or missing, it does not
            load (corrupt, not a `.keras` file), or it holds another kind of model.

    Example:
    >>> model = keras_lk.models.load_model("runs/default/model.keras")
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"model path {path!r} is a directory; expected a .keras file "
                         "(e.g. RUN_DIR/model.keras).")
    if not os.path.isfile(path):
        raise ValueError(f"model path {path!r} does not exist.")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001  (zip, h5, config errors all mean "corrupt")
        raise ValueError(f"cannot load model {path!r} (corrupt or not a .keras file): "
                         f"{first_line(error)}") from None
    if not isinstance(model, SegmentationModel):
        raise ValueError(  # noqa: TRY004  (one-line ValueErrors, as the CLI reports them)
            f"model {path!r} is a {type(model).__name__}, not a keras_lk segmentation model "
            "(GCNSeg, GALDNet, FCRN, SegNeXt): it does not say its classes and input normalization."
        )
    return model
