"""keras_lk: large-kernel semantic segmentation building blocks for Keras 3."""

__version__ = "0.1.0"

from keras_lk import layers, losses  # noqa: E402

__all__ = ["layers", "losses", "__version__"]
