"""ImageNet pretraining (GCN Table 6) through the TFDS imagenet2012 builder, on tiny
archives of the official layout; the saved backbone starts a segmentation run."""

import json
import os
import sys

import numpy as np
import pytest

from keras_lk.training import TrainConfig, train
from keras_lk.training.pretrain import PretrainConfig, load_imagenet, pretrain

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "data"))
import archives


def test_pretrained_backbone_starts_a_segmentation_run(tmp_path):
    archives.write_imagenet(tmp_path / "manual")
    config = PretrainConfig(output_dir=str(tmp_path / "imagenet"), backbone="resnet10_narrow",
                            data_dir=str(tmp_path / "data"), manual_dir=str(tmp_path / "manual"),
                            image_size=32, eval_resize=36, batch_size=2, steps=2,
                            steps_per_epoch=1, step_size=1, precision="float32",
                            tensorboard=False, verbose=0)
    metrics = pretrain(config)
    assert metrics["num_images"] == 2 and 0 <= metrics["top5_error"] <= metrics["top1_error"]
    saved = json.loads((tmp_path / "imagenet" / "metrics.json").read_text())
    assert saved["backbone_weights"] == str(tmp_path / "imagenet" / "backbone.weights.h5")
    labels = [int(e["label"]) for e in load_imagenet(
        "train", config.data_dir).as_numpy_iterator()]
    assert sorted(labels) == [0, 0, 1, 1]  # the first two synsets of the 1000

    import keras

    classifier = keras.saving.load_model(str(tmp_path / "imagenet" / "classifier.keras"))
    result = train(TrainConfig(
        output_dir=str(tmp_path / "seg"), backbone="resnet10_narrow",
        backbone_weights=saved["backbone_weights"], model_options={"k": 3}, image_size=32,
        crop_size=32, num_train_images=2, batch_size=2, steps=1, steps_per_epoch=1,
        learning_rate=1e-12, momentum=0.0, l2=0.0, tensorboard=False, verbose=0))
    pretrained = {w.path: w.numpy() for w in classifier.weights}
    kernel = "conv1_conv/kernel"
    (segmentation,) = [w for w in result.model.weights if w.path == kernel]
    np.testing.assert_allclose(segmentation.numpy(), pretrained[kernel], atol=1e-6)


def test_missing_imagenet_archives_are_named(tmp_path):
    config = PretrainConfig(data_dir=str(tmp_path / "data"), manual_dir=str(tmp_path))
    with pytest.raises(ValueError, match="lacks ILSVRC2012_img_train.tar, ILSVRC2012_img_val"):
        load_imagenet("train", config.data_dir, config.manual_dir)
    with pytest.raises(ValueError, match="`eval_resize` \\(200\\) must be ≥ `image_size`"):
        PretrainConfig(data_dir="d", eval_resize=200)
    with pytest.raises(ValueError, match="`data_dir` is required"):
        PretrainConfig()
