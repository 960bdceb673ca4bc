"""The backbone weights that ship with keras_lk: loaded by name, small, with provenance."""

import dataclasses
import json
import os

import numpy as np
import pytest

import keras_lk
from keras_lk.backbones import (
    BACKBONES,
    PACKAGED_WEIGHTS_DIR,
    get_backbone,
    weights_file_sha256,
)
from keras_lk.experiments.coverage import load_recipe
from keras_lk.training import TrainConfig
from keras_lk.training.trainer import build_model
from keras_lk.utils.hashing import file_sha256

WEIGHTS = os.path.join(PACKAGED_WEIGHTS_DIR, "resnet10_local_scenes.weights.h5")
PROVENANCE = os.path.join(PACKAGED_WEIGHTS_DIR, "resnet10_local_scenes.json")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _weights(model):
    return [np.asarray(w) for w in model.weights]


def test_scenes_weights_load_by_name():
    named = get_backbone("resnet10_local", weights="scenes", input_shape=(None, None, 3))
    by_path = get_backbone("resnet10_local", weights=WEIGHTS, input_shape=(None, None, 3))
    fresh = get_backbone("resnet10_local", weights=None, input_shape=(None, None, 3))
    for a, b, c in zip(_weights(named), _weights(by_path), _weights(fresh)):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(_weights(named), _weights(fresh)))


def test_a_segmentation_model_starts_from_them():
    model = keras_lk.models.GCNSeg(6, backbone="resnet10_local", backbone_weights="scenes",
                                   k=3, input_shape=(64, 64, 3))
    backbone = get_backbone("resnet10_local", weights="scenes", input_shape=(None, None, 3))
    for layer in backbone.layers:
        for a, b in zip(layer.weights, model.get_layer(layer.name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_weights_are_small_and_match_their_provenance():
    assert os.path.getsize(WEIGHTS) <= 2 * 1024 * 1024
    with open(PROVENANCE) as f:
        provenance = json.load(f)
    assert provenance["sha256"] == file_sha256(WEIGHTS)
    assert provenance["command"].startswith("python recipes/scenes_backbone.py")
    assert provenance["commit"] and provenance["versions"]["tensorflow"]
    assert provenance["pretext"]["dataset"] == "scenes_pretext"
    # The pretext was learnt (8 classes: chance is far below this).
    assert provenance["pretext"]["val_miou"] > 0.2


def test_they_are_what_their_recipe_makes():
    """The packaged file came from the recipe's configuration as it stands, at a clean
    commit: rerunning the recipe is how to regenerate them."""
    recipe = load_recipe(os.path.join(ROOT, "recipes", "scenes_backbone.py"))
    with open(PROVENANCE) as f:
        provenance = json.load(f)
    where = ("output_dir", "verbose")
    expected = {k: v for k, v in dataclasses.asdict(recipe.CONFIG).items() if k not in where}
    assert {k: v for k, v in provenance["config"].items() if k not in where} == expected
    assert provenance["steps"] == recipe.CONFIG.steps and provenance["dirty"] is False


def test_a_run_refuses_weights_other_than_those_it_was_configured_with(tmp_path):
    digest = weights_file_sha256("resnet10_local", "scenes")
    assert digest == file_sha256(WEIGHTS)
    fields = {"model": "gcn", "backbone": "resnet10_local", "backbone_weights": "scenes",
              "model_options": {"k": 3, "boundary_refine": False},
              "output_dir": str(tmp_path)}
    # Replaced weights make another configuration: no run or backup of the old is reused.
    assert (TrainConfig(**fields, backbone_weights_sha256=digest).fingerprint()
            != TrainConfig(**fields).fingerprint())
    build_model(TrainConfig(**fields, backbone_weights_sha256=digest))
    with pytest.raises(ValueError, match=r"'scenes'.*SHA-256 [0-9a-f]{64}.*replaced"):
        build_model(TrainConfig(**fields, backbone_weights_sha256="0" * 64))
    with pytest.raises(ValueError, match=r"`backbone_weights_sha256` must be.*None"):
        TrainConfig(model="gcn", backbone_weights_sha256=digest)
    with pytest.raises(ValueError, match=r"`backbone_weights_sha256` must be.*'abc'"):
        TrainConfig(**fields, backbone_weights_sha256="abc")


def test_backbones_without_them_say_which_have_them():
    assert BACKBONES["resnet10_local"].packaged_weights == ("scenes",)
    with pytest.raises(ValueError, match=r"No packaged 'scenes' weights.*resnet10_local"):
        get_backbone("resnet18", weights="scenes")
