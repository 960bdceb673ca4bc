"""Moved to `keras_lk.layers.spatial`; this path is kept for old imports."""

from keras_lk._moved import warn_moved_module
from keras_lk.layers.spatial import *

warn_moved_module(__name__, "keras_lk.layers.spatial")
