"""The CPU scales' fine-tuning fields, which the tutorials reuse."""

import pytest

from keras_lk.experiments.settings import (
    FCRN_SCENES,
    FINE_TUNING_FIELDS,
    GALD_SCENES,
    GCN_SCENES,
    fine_tuning,
)
from keras_lk.training import TrainConfig


@pytest.mark.parametrize("scale", [GCN_SCENES, GALD_SCENES, FCRN_SCENES],
                         ids=["gcn", "gald", "fcrn"])
def test_fine_tuning_takes_how_a_scale_trains_not_what_or_how_long(scale):
    fields = fine_tuning(scale)
    assert fields == {name: scale.train[name] for name in FINE_TUNING_FIELDS
                      if name in scale.train}
    assert fields["backbone_weights"] == "scenes" and fields["optimizer"] == "sgd"
    assert not {"dataset", "steps", "model", "model_options", "batch_size"} & set(fields)
    # Every field is a `TrainConfig` field: a tutorial passes them with its own data.
    TrainConfig(model="gcn", backbone="resnet10_local", dataset="scenes", **fields)


def test_the_gcn_warm_up_reaches_the_tutorials():
    assert fine_tuning(GCN_SCENES)["warmup_steps"] == GCN_SCENES.train["warmup_steps"] > 0
