"""Pretraining a small backbone on the built-in scenes: the CPU-scale stand-in for ImageNet.

The papers fine-tune ImageNet-pretrained ResNets. At CPU scale there is no ImageNet, so
the backbone is pretrained on a pretext task the scenes generator makes, disjoint from
every segmentation split (`keras_lk.data.scenes.PRETEXT_SCENES`: all seven shapes, small
to large, from a random stream no other scene dataset draws from), then fine-tuned on
the tables' scenes the way the papers fine-tune from ImageNet.

The pretext is dense: segmentation of the seven shapes by a plain FCN-32s (FCRN with a
1×1 classifier on res-5, output stride 32, ×32 bilinear upsampling), so that res-5 must
name a shape from what it sees, as an ImageNet classifier's res-5 must, while no head of
the tables (GCN's 1×1 or large kernels, GALD's GA/LD, FCRN's dilated classifiers) is
trained with it. A classification pretext ("which shapes are present") taught nothing
in a probe (`../shared/notes/claims_and_scenes.md`).

`pretrain_on_scenes(config)` trains it through `keras_lk.training.train` (so a killed run
resumes), evaluates the pretext on its own val split, and writes
``<output_dir>/<backbone>_scenes.weights.h5`` (the backbone alone, loadable as
``backbone_weights``) and ``<backbone>_scenes.json`` (its provenance: the configuration,
the pretext's val mIoU, the commit, versions and machine, the file's SHA-256).
`recipes/scenes_backbone.py` is the command that made the packaged weights
(``backbone_weights="scenes"``, `keras_lk.backbones.PACKAGED_WEIGHTS_DIR`).
"""

from __future__ import annotations

import dataclasses
import json
import os

from keras_lk.utils.hashing import file_sha256

PRETEXT_DATASET = "scenes_pretext"
# The plain FCN-32s pretext head: a 1×1 classifier on res-5, output stride 32.
PRETEXT_MODEL_OPTIONS = {"output_stride": 32, "kernel_size": 1, "dilation": 1,
                         "dropout": False}


@dataclasses.dataclass(frozen=True)
class ScenesPretextConfig:
    """A pretraining run on the scenes' pretext task.

    Args:
        output_dir: run directory (the training run, then the weights and provenance).
        backbone: a backbone of `keras_lk.backbones.BACKBONES`.
        image_size: side of the pretext scenes (128, as the CPU-scale tables).
        num_train_images: pretext training images (their val split: `num_val_images`).
        num_val_images: pretext val images the provenance reports mIoU on.
        batch_size, steps, steps_per_epoch: the fixed budget.
        optimizer, learning_rate, schedule: of `keras_lk.training.TrainConfig` (Adam
            2e-3 with poly decay trains these small networks from scratch; the papers'
            SGD is for the fine-tuning that follows).
        precision: float32 (bf16 is emulated on CPUs without AVX-512).
        seed: seed of the weights and the data order.
        verbose: as `TrainConfig.verbose`.
    """

    output_dir: str = "runs/scenes_pretext"
    backbone: str = "resnet10_local"
    image_size: int = 128
    num_train_images: int = 6000
    num_val_images: int = 400
    batch_size: int = 32
    steps: int = 2000
    steps_per_epoch: int = 500
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    schedule: str = "poly"
    precision: str = "float32"
    seed: int = 0
    verbose: int = 2

    def train_config(self):
        """The `TrainConfig` of the pretext run."""
        from keras_lk.training import TrainConfig

        return TrainConfig(
            output_dir=os.path.join(self.output_dir, "run"), model="fcrn",
            model_options=dict(PRETEXT_MODEL_OPTIONS), backbone=self.backbone,
            dataset=PRETEXT_DATASET, image_size=self.image_size,
            num_train_images=self.num_train_images, crop_size=self.image_size,
            batch_size=self.batch_size, steps=self.steps,
            steps_per_epoch=self.steps_per_epoch, optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            l2=0.0 if self.optimizer == "adam" else 1e-4, schedule=self.schedule,
            precision=self.precision, seed=self.seed, tensorboard=False,
            verbose=self.verbose)


def export_backbone_weights(model, backbone: str, path: str) -> int:
    """Writes the weights of `model`'s backbone layers (matched by layer name) as the
    ``.weights.h5`` file of a standalone `backbone`; returns how many layers it copied."""
    from keras_lk.backbones import get_backbone

    if not path.endswith(".weights.h5"):
        raise ValueError(f"`path` must end with '.weights.h5', received {path!r}.")
    standalone = get_backbone(backbone, weights=None, input_shape=(None, None, 3))
    copied = 0
    for layer in standalone.layers:
        if not layer.weights:
            continue
        try:
            source = model.get_layer(layer.name)
        except ValueError as error:
            raise ValueError(f"`model` has no layer {layer.name!r} of backbone "
                             f"{backbone!r}: it was not built on that backbone.") from error
        weights = source.get_weights()
        if [w.shape for w in weights] != [tuple(w.shape) for w in layer.weights]:
            raise ValueError(f"`model`'s layer {layer.name!r} has other shapes than backbone "
                             f"{backbone!r}'s: it was not built on that backbone.")
        layer.set_weights(weights)
        copied += 1
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    standalone.save_weights(path)
    return copied


def pretrain_on_scenes(config: ScenesPretextConfig, command: str | None = None) -> dict:
    """Trains the pretext, writes the backbone weights and their provenance; returns the
    provenance (``weights`` is the weights file's path)."""
    from keras_lk.experiments.runner import environment, evaluate_run
    from keras_lk.experiments.table import Evaluation
    from keras_lk.training import train
    from keras_lk.training.callbacks import write_text_atomically

    train_config = config.train_config()
    run_environment = environment()  # the code as it was when the run started
    result = train(train_config)
    metrics = evaluate_run(result.model, train_config,
                           Evaluation(splits=("val",), num_images=config.num_val_images))
    name = f"{config.backbone}_scenes"
    weights = os.path.join(config.output_dir, f"{name}.weights.h5")
    export_backbone_weights(result.model, config.backbone, weights)
    provenance = {
        "weights": os.path.basename(weights),
        "sha256": file_sha256(weights),
        "command": command,
        "pretext": {"dataset": PRETEXT_DATASET, "model": "fcrn",
                    "model_options": PRETEXT_MODEL_OPTIONS,
                    "val_images": config.num_val_images,
                    "val_miou": round(float(metrics["val"]["miou"]), 4),
                    "final_training_miou": (None if not result.history.get("miou") else
                                            round(float(result.history["miou"][-1]), 4))},
        "config": dataclasses.asdict(config),
        "steps": result.step,
        **run_environment,
    }
    write_text_atomically(os.path.join(config.output_dir, f"{name}.json"),
                          json.dumps(provenance, indent=1) + "\n")
    return {**provenance, "weights": weights}
