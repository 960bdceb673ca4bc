"""keras_lk: large-kernel semantic segmentation building blocks for Keras 3."""

__version__ = "0.1.0"

from keras_lk import layers, losses

__all__ = ["__version__", "layers", "losses"]
