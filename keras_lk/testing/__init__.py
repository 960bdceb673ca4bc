"""Test helpers shared by keras_lk's tests and by users extending keras_lk."""

from keras_lk.testing.layer_test import run_layer_test
from keras_lk.testing.model_test import (
    all_layers,
    batch_norms,
    randomise_batch_norms,
    run_model_test,
)
from keras_lk.testing.moments import assert_sample_moments, moment_tolerances

__all__ = ["all_layers", "assert_sample_moments", "batch_norms", "moment_tolerances",
           "randomise_batch_norms", "run_layer_test", "run_model_test"]
