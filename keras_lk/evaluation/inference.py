"""Moved to `keras_lk.evaluation.tta`; this path is kept for old imports."""

from keras_lk._moved import warn_moved_module
from keras_lk.evaluation.tta import *

warn_moved_module(__name__, "keras_lk.evaluation.tta")
