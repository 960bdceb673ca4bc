"""`train(config)`: builds data, model, optimizer and callbacks in the strategy scope, fits.

Order of a run:
1. seed Python/NumPy/TF (`keras.utils.set_random_seed`), optionally op determinism;
2. set the precision policy (before any layer is built);
3. make the strategy; inside its scope build the model, `SegmentationSGD` with the
   schedule, the loss (aux-weighted for GALD) and the mIoU metric, and compile;
4. read the backup: a resumed run skips the seeded input pipeline to the backed-up
   global step, so it sees exactly the batches an uninterrupted run would;
5. `model.fit` for `steps / steps_per_epoch` epochs with the callbacks of
   `keras_lk.training.callbacks`; save `model.keras` (loads with `safe_mode=True`).

The global batch goes to `fit` whole; Keras splits it evenly across the replicas
(`strategy.experimental_distribute_dataset`; multi-worker runs auto-shard the examples,
and `prepare_multi_worker_fit` mends Keras 3 `fit` for that strategy).
"""

from __future__ import annotations

import dataclasses
import os

from keras_lk.training.callbacks import make_callbacks
from keras_lk.training.config import TrainConfig
from keras_lk.training.losses import compile_losses, make_loss
from keras_lk.training.multi_worker import agree_on_backup, prepare_multi_worker_fit
from keras_lk.training.optimizers import BACKBONE_PATTERN, SegmentationSGD
from keras_lk.training.precision import set_precision
from keras_lk.training.schedules import PolyDecay, StepDecay
from keras_lk.training.strategy import check_jit_compile, is_chief, make_strategy

DATASET_CLASSES = {
    "scenes": 6,
    "voc_sbd": 21,
    "cityscapes_train_ids/fine": 19,
    "cityscapes_train_ids/coarse": 19,
    "coco_voc": 21,
}
DEFAULT_SPLITS = {
    "scenes": ("train", "val"),
    "voc_sbd": ("train_aug", "val"),
    "cityscapes_train_ids/fine": ("train", "val"),
    "cityscapes_train_ids/coarse": ("train_extra", "val"),
    "coco_voc": ("train", "val"),
}


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the trained model, Keras history, steps and paths.

    `step` counts the batches trained since step 0 (across resumes); `optimizer_steps`
    the updates applied, fewer under `mixed_float16` when loss scaling skipped steps
    whose gradients overflowed.
    """

    model: object
    history: dict
    step: int
    initial_step: int
    optimizer_steps: int
    model_path: str | None
    precision: str


def seed_everything(seed: int, deterministic: bool = False):
    """Seeds Python, NumPy and TensorFlow/Keras; optionally enables op determinism."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # seeds `random`, NumPy and TensorFlow
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def num_classes_of(dataset: str) -> int:
    if dataset not in DATASET_CLASSES:
        raise ValueError(
            f"`dataset` must be one of {tuple(DATASET_CLASSES)}, received {dataset!r}."
        )
    return DATASET_CLASSES[dataset]


def build_model(name, num_classes, backbone="resnet18", k=7, use_sync_bn=False,
                input_shape=(None, None, 3), head="gcn", boundary_refine=True):
    """Builds `"gcn"` (GCNSeg), `"gald"` (GALDNet, with aux head) or `"fcrn"` (FCRN).

    `head` and `boundary_refine` apply to GCNSeg only.
    """
    from keras_lk import models

    if name == "gcn":
        return models.GCNSeg(num_classes=num_classes, k=k, backbone=backbone, head=head,
                             boundary_refine=boundary_refine, use_sync_bn=use_sync_bn,
                             input_shape=input_shape)
    if name == "gald":
        return models.GALDNet(num_classes=num_classes, backbone=backbone,
                              use_sync_bn=use_sync_bn, input_shape=input_shape)
    if name == "fcrn":
        depths = {"resnet18": 18, "resnet50": 50, "resnet101": 101, "resnet152": 152}
        if backbone not in depths:
            raise ValueError(
                f"`backbone` for FCRN must be one of {tuple(depths)}, received {backbone!r}."
            )
        return models.FCRN(num_classes=num_classes, depth=depths[backbone],
                           use_sync_bn=use_sync_bn, input_shape=input_shape)
    raise ValueError(f"`model` must be one of ('gcn', 'gald', 'fcrn'), received {name!r}.")


def raw_dataset(dataset, split, *, data_dir=None, manual_dir=None, num_images=None,
                image_size=64, shuffle_files=False):
    """Examples of `dataset`/`split`: the built-in scenes or a keras_lk TFDS builder."""
    from keras_lk import data

    if dataset == "scenes":
        config = data.SceneConfig(image_size=image_size)
        return data.large_object_scenes(split, num_images=num_images, config=config)
    num_classes_of(dataset)
    if not data_dir:
        raise ValueError(f"`--data-dir` is required for dataset {dataset!r}.")
    if not os.path.isdir(os.path.expanduser(data_dir)) and manual_dir is None:
        raise ValueError(f"`--data-dir` {data_dir!r} does not exist (and no --manual-dir given).")
    if manual_dir is not None and not os.path.isdir(os.path.expanduser(manual_dir)):
        raise ValueError(f"`--manual-dir` {manual_dir!r} does not exist.")
    return data.load_dataset(dataset, split, data_dir=os.path.expanduser(data_dir),
                             manual_dir=manual_dir, shuffle_files=shuffle_files)


def make_schedule(config: TrainConfig):
    if config.schedule == "poly":
        return PolyDecay(config.learning_rate, config.steps, power=config.poly_power,
                         warmup_steps=config.warmup_steps)
    if config.schedule == "step":
        return StepDecay(config.learning_rate, config.step_size, gamma=config.step_gamma,
                         warmup_steps=config.warmup_steps)
    if config.warmup_steps:
        return StepDecay(config.learning_rate, 2**31 - 1, warmup_steps=config.warmup_steps)
    return config.learning_rate


def make_optimizer(config: TrainConfig):
    if config.optimizer == "adam":
        import keras

        return keras.optimizers.Adam(make_schedule(config))
    multipliers = {}
    if config.head_lr_multiplier != 1.0:
        # Everything that is not a backbone variable is a (new) head.
        multipliers[f"^(?!{BACKBONE_PATTERN[1:]})"] = config.head_lr_multiplier
    return SegmentationSGD(make_schedule(config), momentum=config.momentum, l2=config.l2,
                           lr_multipliers=multipliers)


def compile_model(model, config: TrainConfig, num_classes: int):
    """Compiles `model` with the config's optimizer, loss (aux-weighted) and mIoU metric."""
    import keras

    loss = make_loss(config.loss, config.ignore_label, config.ohem_mode,
                     config.ohem_threshold, config.ohem_min_kept)
    losses, loss_weights, names = compile_losses(model, loss, config.aux_weight)
    miou = keras.metrics.MeanIoU(num_classes, sparse_y_true=True, sparse_y_pred=False,
                                 ignore_class=config.ignore_label, name="miou")
    metrics = {"logits": [miou]} if names else [miou]
    model.compile(optimizer=make_optimizer(config), loss=losses, loss_weights=loss_weights,
                  metrics=metrics, jit_compile=config.jit_compile)
    return names


def train_dataset(config: TrainConfig, num_classes: int, output_names=None, skip_steps=0):
    """The seeded, repeated training pipeline of global batches, skipped by `skip_steps`."""
    from keras_lk import data

    split = config.train_split or DEFAULT_SPLITS[config.dataset][0]
    raw = raw_dataset(config.dataset, split, data_dir=config.data_dir,
                      manual_dir=config.manual_dir, num_images=config.num_train_images,
                      image_size=config.image_size)
    dataset = data.train_pipeline(
        raw, crop_size=config.crop_size, batch_size=config.batch_size,
        num_classes=num_classes, ignore_label=config.ignore_label,
        scale_range=config.scale_range, flip=config.flip,
        normalization=config.normalization, seed=config.seed,
    )
    if output_names:
        dataset = dataset.map(lambda x, y: (x, {name: y for name in output_names}))
    if skip_steps:
        dataset = dataset.skip(skip_steps)
    return dataset


def train(config: TrainConfig, strategy=None) -> TrainResult:
    """Trains a model as `config` says; resumes from `output_dir/backup` if present.

    Args:
        config: a `TrainConfig`.
        strategy: an existing `tf.distribute.Strategy` (default: `make_strategy(config.strategy)`).

    Returns:
        A `TrainResult`.

    Example:
    >>> config = keras_lk.training.TrainConfig(output_dir="/tmp/run", steps=20)
    >>> result = keras_lk.training.train(config)
    """
    import keras

    seed_everything(config.seed, config.deterministic)
    precision = set_precision(config.precision, config.jit_compile)
    if strategy is None:
        strategy = make_strategy(config.strategy, config.num_cpu_devices)
    check_jit_compile(strategy, config.jit_compile)
    chief = is_chief(strategy)
    output_dir = config.output_dir
    if not chief:
        # Non-chief workers write into a private directory (Keras multi-worker practice).
        output_dir = os.path.join(output_dir, f"worker_{strategy.cluster_resolver.task_id}")
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "config.json"), "w") as f:
        f.write(config.to_json())

    num_classes = config.num_classes or num_classes_of(config.dataset)
    with strategy.scope():
        model = build_model(config.model, num_classes, config.backbone, config.k,
                            config.use_sync_bn, head=config.head,
                            boundary_refine=config.boundary_refine)
        output_names = compile_model(model, config, num_classes)

    initial_epoch = agree_on_backup(strategy, os.path.join(output_dir, "backup"))
    initial_step = initial_epoch * config.steps_per_epoch
    if initial_epoch and config.verbose:
        print(f"keras-lk: resuming from the backup at step {initial_step} "
              f"(epoch {initial_epoch}/{config.epochs}).", flush=True)
    dataset = train_dataset(config, num_classes, output_names, skip_steps=initial_step)
    prepare_multi_worker_fit(model, strategy, dataset.element_spec)
    callbacks = make_callbacks(output_dir, config.checkpoint_every, config.tensorboard)
    history = model.fit(dataset, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                        initial_epoch=initial_epoch, callbacks=callbacks,
                        verbose=config.verbose, shuffle=False)  # the pipeline shuffles, seeded
    step = (initial_epoch + len(history.epoch)) * config.steps_per_epoch
    model_path = os.path.join(output_dir, "model.keras")
    model.save(model_path)
    keras.mixed_precision.set_global_policy("float32")
    return TrainResult(model, history.history, step, initial_step,
                       int(model.optimizer.iterations.numpy()), model_path, precision)
