"""The scenes pretext: disjoint from the segmentation splits, and its weights load."""

import json

import numpy as np
import pytest

from keras_lk import data
from keras_lk.backbones import get_backbone
from keras_lk.data.scenes import PRETEXT_SCENES, PRETEXT_SEED
from keras_lk.experiments.scenes_pretext import (
    ScenesPretextConfig,
    export_backbone_weights,
    pretrain_on_scenes,
)
from keras_lk.utils.hashing import file_sha256


def test_pretext_scenes_are_no_image_of_the_segmentation_splits():
    info = data.DATASETS["scenes_pretext"]
    assert info.num_classes == 8 == PRETEXT_SCENES.num_classes and PRETEXT_SEED != 0
    pretext, _ = data.large_object_scenes_numpy("train", num_images=3, seed=PRETEXT_SEED,
                                                config=PRETEXT_SCENES)
    for name in ("scenes", "scenes_small_objects", "scenes_rare_classes"):
        for split in ("train", "val", "test"):
            examples = data.DATASETS[name].load(split, data_dir=None, manual_dir=None,
                                                num_images=3, image_size=128)
            for example in examples:
                image = np.asarray(example["image"])
                assert not any(np.array_equal(image, other) for other in pretext), (name, split)


@pytest.mark.slow
def test_pretrain_on_scenes_writes_loadable_weights_and_provenance(tmp_path):
    config = ScenesPretextConfig(output_dir=str(tmp_path), image_size=32, num_train_images=4,
                                 num_val_images=2, batch_size=2, steps=2, steps_per_epoch=1,
                                 verbose=0)
    provenance = pretrain_on_scenes(config, command="test")
    weights = provenance["weights"]
    assert weights.endswith("resnet10_local_scenes.weights.h5")
    saved = json.loads((tmp_path / "resnet10_local_scenes.json").read_text())
    assert saved["sha256"] == file_sha256(weights) and saved["steps"] == 2
    assert saved["command"] == "test" and 0 <= saved["pretext"]["val_miou"] <= 1
    backbone = get_backbone("resnet10_local", weights=weights, input_shape=(None, None, 3))
    fresh = get_backbone("resnet10_local", weights=None, input_shape=(None, None, 3))
    assert any(not np.array_equal(np.asarray(a), np.asarray(b))
               for a, b in zip(backbone.weights, fresh.weights))


def test_export_refuses_a_model_of_another_backbone(tmp_path):
    import keras

    inputs = keras.Input((8, 8, 3))
    other = keras.Model(inputs, keras.layers.Conv2D(2, 1, name="head")(inputs))
    with pytest.raises(ValueError, match="has no layer"):
        export_backbone_weights(other, "resnet10_local", str(tmp_path / "x.weights.h5"))
    narrow = get_backbone("resnet10_narrow", weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="other shapes"):
        export_backbone_weights(narrow, "resnet10_local", str(tmp_path / "x.weights.h5"))
    with pytest.raises(ValueError, match="must end with '.weights.h5'"):
        export_backbone_weights(other, "resnet10_local", str(tmp_path / "x.h5"))
