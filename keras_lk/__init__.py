"""keras_lk: large-kernel semantic segmentation building blocks for Keras 3."""

__version__ = "0.1.0"

import os as _os

if _os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # TensorFlow's C++ start-up lines would otherwise come before any of ours.
    from keras_lk._startup import import_tensorflow_quietly as _import_tensorflow_quietly

    _import_tensorflow_quietly()

# Importing the subpackages registers every keras_lk object with Keras, so a saved
# keras_lk model loads with `keras.saving.load_model` after a plain `import keras_lk`.
from keras_lk import (
    backbones,
    evaluation,
    export,
    layers,
    losses,
    metrics,
    models,
    training,
)
from keras_lk.inference import Segmentation, Segmenter, predict

__all__ = ["Segmentation", "Segmenter", "__version__", "backbones", "evaluation", "export",
           "layers", "losses", "metrics", "models", "predict", "training"]
