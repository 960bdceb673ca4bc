"""Where a run's weights start from, beyond the backbone's: another run's whole model
(GCN's staged training: stage 2 starts from stage 1, stage 3 from stage 2), and
BatchNorm statistics frozen at the pretrained backbone's (FCRN Sec. 3.2; GCN's batch of
one image)."""

from __future__ import annotations

import os
import re

from keras_lk.training.optimizers import BACKBONE_PATTERN
from keras_lk.utils.sublayers import all_layers


def model_file(path: str) -> str:
    """The `.keras` file of `path`: the file itself, or a run directory's `model.keras`."""
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
    elif not path.endswith(".keras"):
        raise ValueError(f"`init_from` must be a .keras file or a run directory holding "
                         f"model.keras, received {path!r}.")
    if not os.path.isfile(path):
        raise ValueError(f"`init_from` {path!r} does not exist (train that run first, or "
                         "give the path of its model.keras).")
    return path


def initialize_from(model, path: str) -> int:
    """Copies every weight of `model` from the saved model at `path`, matched by variable
    path (``conv4_block6_2_conv/kernel``); returns how many were copied.

    Every weight of `model` must exist in the source with the same shape: a model of
    another head, number of classes or backbone is refused with the weights that do not
    match, rather than half-initialised. The source's optimizer state is not copied (a
    new stage starts its own schedule, as GCN's stages do).
    """
    import keras

    path = model_file(path)
    source = keras.saving.load_model(path, compile=False, safe_mode=True)
    weights = {variable.path: variable for variable in source.weights}
    missing, mismatched = [], []
    for variable in model.weights:
        other = weights.get(variable.path)
        if other is None:
            missing.append(variable.path)
        elif tuple(other.shape) != tuple(variable.shape):
            mismatched.append(f"{variable.path} {tuple(other.shape)} → {tuple(variable.shape)}")
    if missing or mismatched:
        problems = ([f"missing: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else "")]
                    if missing else []) + (
            [f"other shapes: {', '.join(mismatched[:5])}" + (" ..." if len(mismatched) > 5
                                                             else "")] if mismatched else [])
        raise ValueError(f"`init_from` {path!r} is not a model of this configuration "
                         f"({'; '.join(problems)}).")
    for variable in model.weights:
        variable.assign(weights[variable.path])
    return len(model.weights)


def freeze_backbone_batch_norm(model) -> int:
    """Sets every BatchNorm layer of the backbone to inference mode with fixed
    statistics and scale (``trainable = False``); returns how many. Heads keep theirs.
    Call before compiling."""
    import keras

    pattern = re.compile(BACKBONE_PATTERN)
    frozen = 0
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization) and pattern.match(layer.name):
            layer.trainable = False
            frozen += 1
    return frozen
