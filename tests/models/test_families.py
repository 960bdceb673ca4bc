"""Every family as a functional-model class: config, saving, precision, one train step,
SyncBN reaching every BatchNorm, and the registries behind the training engine."""

import json

import keras
import numpy as np
import pytest

from keras_lk import data, models
from keras_lk.backbones import BACKBONES
from keras_lk.models import gcn_seg
from keras_lk.testing import batch_norms, run_model_test
from keras_lk.training import TrainConfig
from keras_lk.training.trainer import build_model

SMALL = "resnet10_narrow"
FAMILIES = {
    "gcn": (models.GCNSeg, {"num_classes": 3, "k": 5, "backbone": SMALL}),
    "gald": (models.GALDNet, {"num_classes": 3, "backbone": SMALL, "head_channels": 16,
                              "ga": "psp", "output_stride": 16}),
    "fcrn": (models.FCRN, {"num_classes": 3, "backbone": SMALL, "kernel_size": 3,
                           "dilation": 2, "dropout": True, "num_dropout_blocks": 1}),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_passes_the_model_test(family):
    model_cls, kwargs = FAMILIES[family]
    model = run_model_test(model_cls, {**kwargs, "class_names": ["a", "b", "c"],
                                       "palette": [[0, 0, 0], [255, 0, 0], [0, 255, 0]]})
    assert model.class_names == ["a", "b", "c"] and model.normalization == "caffe"


def test_reloaded_model_keeps_its_class_and_settings(tmp_path):
    model = models.GALDNet(5, backbone=SMALL, ga="nonlocal", arrangement="ldga",
                           head_channels=8, normalization="torch", aux_loss_weight=0.3)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored, models.GALDNet)
    assert (restored.num_classes, restored.ga, restored.arrangement, restored.normalization,
            restored.output_loss_weights()) == (5, "nonlocal", "ldga", "torch",
                                                {"logits": 1.0, "aux_logits": 0.3})


GALD_VARIANTS = [{"ga": ga, "ld": True} for ga in ("cgnl", "nonlocal", "psp", "aspp")]


@pytest.mark.parametrize("family, extra", [
    ("gcn", {}), ("fcrn", {}), *[("gald", v) for v in GALD_VARIANTS],
    ("gald", {"ga": "psp", "arrangement": "parallel"}),
])
@pytest.mark.parametrize("use_sync_bn", [True, False])
def test_use_sync_bn_reaches_every_batch_norm(family, extra, use_sync_bn):
    model_cls, kwargs = FAMILIES[family]
    model = model_cls(**{**kwargs, **extra}, use_sync_bn=use_sync_bn)
    norms = batch_norms(model)
    # Backbone BNs plus, for GALD, the head's and the GA module's own ones.
    inside_layers = [bn.path for bn in norms if "/" in bn.path]
    assert norms and all(bn.synchronized == use_sync_bn for bn in norms), [
        bn.path for bn in norms if bn.synchronized != use_sync_bn]
    if family == "gald" and extra["ga"] != "cgnl":  # CGNL normalizes with GroupNorm
        assert inside_layers, "the GA module's BatchNorms were not found"


def test_local_distribution_batch_norms_follow_norm():
    from keras_lk.layers import LocalDistribution

    layer = LocalDistribution(batch_norm=True, relu=True, norm="sync_batch_norm")
    layer.build((1, 16, 16, 4))
    assert layer.norms and all(bn.synchronized for bn in layer.norms)


def test_build_model_takes_facts_from_the_dataset_registry():
    config = TrainConfig(model="fcrn", backbone=SMALL, model_options={"dilation": 3})
    model = build_model(config)
    scenes = data.DATASETS["scenes"]
    assert isinstance(model, models.FCRN) and model.dilation == 3
    assert model.num_classes == scenes.num_classes == 6
    assert model.class_names == list(scenes.class_names)
    assert model.ignore_label == scenes.ignore_label
    assert model.normalization == BACKBONES[SMALL].normalization
    # A different number of classes drops the dataset's names rather than mismatching.
    other = build_model(TrainConfig(backbone=SMALL, num_classes=3, model_options={"k": 3}))
    assert other.num_classes == 3 and other.class_names is None


def test_model_options_are_checked_and_round_trip_through_json():
    config = TrainConfig(model="gald", model_options={"ga": "cgnl", "arrangement": "gald"})
    assert TrainConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["model_options"] == {"arrangement": "gald",
                                                            "ga": "cgnl"}
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['k'\] of model 'gald'"):
        TrainConfig(model="gald", model_options={"k": 3})


@pytest.mark.parametrize("registry, kind", [
    (data.DATASETS, "dataset"), (models.MODELS, "model"), (BACKBONES, "backbone")])
def test_unknown_names_are_one_line_errors(registry, kind):
    with pytest.raises(ValueError, match=f"^`{kind}` must be one of .* received 'nope'.$"):
        registry["nope"]


@pytest.mark.parametrize("builder, kwargs, match", [
    (models.GCNSeg, {"head": "dense"}, "`head` must be one of"),
    (models.GALDNet, {"ga": "transformer"}, "`ga` must be one of"),
    (models.GALDNet, {"arrangement": "series"}, "`arrangement` must be one of"),
    (models.FCRN, {"backbone": "vgg16"}, "`backbone` must be one of"),
    (models.GCNSeg, {"normalization": "imagenet"}, "`normalization` must be one of"),
    (models.GCNSeg, {"num_classes": 2, "class_names": ["a"]}, "`class_names` must have"),
    (models.GCNSeg, {"num_classes": 2, "ignore_label": 1}, "`ignore_label` must be"),
])
def test_unknown_choices_raise_instead_of_falling_through(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**{"backbone": SMALL, **kwargs})


def test_a_new_head_is_one_registration(monkeypatch):
    """A head in `HEADS` is all GCNSeg needs: here a plain 3x3 convolution."""
    monkeypatch.setitem(gcn_seg.HEADS, "conv3x3", lambda c, k, m, name: keras.layers.Conv2D(
        c, 3, padding="same", name=name))
    model = models.GCNSeg(num_classes=3, k=5, backbone=SMALL, head="conv3x3")
    assert model.get_layer("res5_conv3x3").kernel_size == (3, 3)
    assert model(np.zeros((1, 32, 32, 3))).shape == (1, 32, 32, 3)


def test_a_new_dataset_is_one_registration(monkeypatch, tmp_path):
    """A `DatasetInfo` in the registry is all the engine needs: classes, names and the
    loader reach the model and the pipeline."""
    from keras_lk.data import DatasetInfo
    from keras_lk.training import train

    def load(split, *, data_dir, manual_dir, num_images, image_size, shuffle_files):
        scenes = data.large_object_scenes(split, num_images=num_images or 4,
                                          config=data.SceneConfig(image_size=32,
                                                                  num_classes=3))
        return scenes

    info = DatasetInfo(name="three_shapes", num_classes=3,
                       class_names=("background", "disc", "square"),
                       splits=("train", "val"), train_split="train", eval_split="val",
                       loader=load, needs_data_dir=False)
    monkeypatch.setitem(data.DATASETS._entries, info.name, info)
    result = train(TrainConfig(output_dir=str(tmp_path), dataset="three_shapes",
                               backbone=SMALL, model_options={"k": 3}, crop_size=32,
                               batch_size=2, steps=1, steps_per_epoch=1,
                               tensorboard=False, verbose=0))
    assert result.model.num_classes == 3
    assert result.model.class_names == ["background", "disc", "square"]


def test_an_empty_image_is_refused_with_its_shape():
    model = models.GCNSeg(num_classes=3, k=3, backbone="resnet10_local", boundary_refine=False)
    with pytest.raises(ValueError, match=r"H, W ≥ 1 .* received shape \(1, 0, 16, 3\)"):
        model(np.zeros((1, 0, 16, 3), "float32"))
    assert model(np.zeros((1, 8, 8, 3), "float32")).shape == (1, 8, 8, 3)
