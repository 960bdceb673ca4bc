"""Test helpers shared by keras_lk's tests and by users extending keras_lk."""

from keras_lk.testing.layer_test import run_layer_test

__all__ = ["run_layer_test"]
