"""Moved to `keras_lk.losses.cross_entropy`; this path is kept for old imports."""

from keras_lk._moved import warn_moved_module
from keras_lk.losses.cross_entropy import *

warn_moved_module(__name__, "keras_lk.losses.cross_entropy")
