"""`train(config)`: builds data, model, optimizer and callbacks in the strategy scope, fits.

Order of a run:
1. seed Python/NumPy/TF (`keras.utils.set_random_seed`), optionally op determinism;
2. set the precision policy (before any layer is built);
3. make the strategy; inside its scope build the model (`keras_lk.models.MODELS` with
   the config's `model_options` and the facts of `keras_lk.data.DATASETS`), start it
   from another run's model (`init_from`), freeze the backbone's BatchNorm if asked, and
   compile it with `SegmentationSGD` and the schedule, the loss (the model adds its loss weights
   and the mIoU metric); time GlobalConv's formulations at the run's shapes where this
   machine has not yet (`keras_lk.layers.tune_global_conv`; ``KERAS_LK_TUNE_GLOBAL_CONV=0``
   skips it);
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
import shutil

from keras_lk.layers.global_conv_tuning import tune_global_conv, tuning_enabled
from keras_lk.losses import make_loss
from keras_lk.models.segmentation_model import LOGITS
from keras_lk.training.callbacks import (
    logged_training_seconds,
    make_callbacks,
    save_model_atomically,
    trim_training_log,
    verify_backup,
    write_text_atomically,
)
from keras_lk.training.config import TrainConfig
from keras_lk.training.initialization import freeze_backbone_batch_norm, initialize_from
from keras_lk.training.memory import check_batch_fits
from keras_lk.training.multi_worker import agree_on_backup, prepare_multi_worker_fit
from keras_lk.training.onednn import check_onednn_pointwise_gradients
from keras_lk.training.optimizers import make_optimizer
from keras_lk.training.precision import set_precision
from keras_lk.training.strategy import check_jit_compile, is_chief, make_strategy


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the trained model, Keras history, steps and paths.

    `step` counts the batches trained since step 0 (across resumes); `optimizer_steps`
    the updates applied, fewer under `mixed_float16` when loss scaling skipped steps
    whose gradients overflowed. `resumed_seconds`: the training seconds, by the training
    log, of the `initial_step` steps an earlier call trained (0.0 from step 0), so a
    resumed run's time can be counted whole.
    """

    model: object
    history: dict
    step: int
    initial_step: int
    optimizer_steps: int
    model_path: str | None
    precision: str
    resumed_seconds: float = 0.0


def seed_everything(seed: int, deterministic: bool = False):
    """Seeds Python, NumPy and TensorFlow/Keras; optionally enables op determinism."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # seeds `random`, NumPy and TensorFlow
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def build_model(config: TrainConfig):
    """The `SegmentationModel` of `config`: its family, options, backbone and the
    dataset's classes, class names, palette and ignore label."""
    from keras_lk.data import DATASETS
    from keras_lk.models import MODELS

    if config.backbone_weights_sha256 is not None:
        from keras_lk.backbones import weights_file_sha256

        found = weights_file_sha256(config.backbone, config.backbone_weights)
        if found != config.backbone_weights_sha256:
            raise ValueError(
                f"`backbone_weights` {config.backbone_weights!r} of backbone "
                f"{config.backbone!r} is a file with SHA-256 {found}, not the "
                f"`backbone_weights_sha256` {config.backbone_weights_sha256} this run was "
                "configured with: the weights were replaced since.")
    info = DATASETS[config.dataset].for_data_dir(config.data_dir)
    arguments = info.model_arguments(config.num_classes)
    return MODELS[config.model].build(
        **arguments, **config.model_options, backbone=config.backbone,
        backbone_weights=config.backbone_weights, use_sync_bn=config.use_sync_bn,
    )


def compile_model(model, config: TrainConfig):
    """Compiles `model` with the config's optimizer and loss (OHEM on the main output
    only), read on the model's score map with `loss_at_score_map`; the model adds its loss
    weights (GALD's aux) and the mIoU of its main output (`SegmentationModel.compile`)."""
    stride = 1
    if config.loss_at_score_map:
        stride = getattr(model, "score_stride", None)
        if stride is None:
            raise ValueError(
                f"`loss_at_score_map=True` needs a model whose logits upsample a score map "
                f"(FCRN, GALDNet: `score_stride`); {config.model!r} ({type(model).__name__}) "
                "decodes to the input's resolution.")
    loss = make_loss(config.loss, model.ignore_label, config.ohem_mode,
                     config.ohem_threshold, config.ohem_min_kept, stride=stride)
    outputs = model.output_loss_weights()
    if len(outputs) > 1 and config.loss == "ohem":
        # OHEM mines the main output's hard pixels; auxiliary outputs (GALD's res-4
        # head) take plain cross-entropy, as GALD's training script does.
        loss = {name: loss if name == LOGITS else make_loss("cross_entropy",
                                                            model.ignore_label)
                for name in outputs}
    model.compile(optimizer=make_optimizer(config), loss=loss,
                  jit_compile=config.jit_compile)


def tune_for_training(model, config: TrainConfig, replicas=1):
    """Times GlobalConv's formulations for `model`'s training steps at the config's crop
    and per-replica batch (`keras_lk.layers.tune_global_conv`), as `train` does before
    it trains: only where tuning is on, and not under XLA (the tuner times
    `tf.function`, not XLA)."""
    if tuning_enabled() and not config.jit_compile:
        tune_global_conv(model, (config.crop_size, config.crop_size),
                         config.batch_size // replicas, modes=("train",),
                         verbose=config.verbose > 0)


def train_dataset(config: TrainConfig, model, skip_steps=0):
    """The seeded, repeated training pipeline of global batches for `model` (its classes,
    ignore label, normalization and output structure), skipped by `skip_steps`."""
    from keras_lk import data

    info = data.DATASETS[config.dataset].for_data_dir(config.data_dir)
    raw = info.load(config.train_split or info.train_split, data_dir=config.data_dir,
                    manual_dir=config.manual_dir, num_images=config.num_train_images,
                    image_size=config.image_size, shuffle_files=False,
                    allow_subset=config.allow_subset)
    dataset = data.train_pipeline(
        raw, crop_size=config.crop_size, batch_size=config.batch_size,
        num_classes=model.num_classes, ignore_label=model.ignore_label,
        scale_range=config.scale_range, flip=config.flip,
        normalization=model.normalization, seed=config.seed,
    )
    if len(model.output_loss_weights()) > 1:
        dataset = dataset.map(lambda x, y: (x, model.targets(y)))
    if skip_steps:
        dataset = dataset.skip(skip_steps)
    return dataset


def train(config: TrainConfig, strategy=None, allow_config_change=False) -> TrainResult:
    """Trains a model as `config` says; resumes from `output_dir/backup` if present.

    Args:
        config: a `TrainConfig`.
        strategy: an existing `tf.distribute.Strategy` (default: `make_strategy(config.strategy)`).
        allow_config_change: resume from a backup written under another configuration
            (otherwise an error naming the changed fields).

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
    backup_dir = os.path.join(output_dir, "backup")
    config_path = os.path.join(output_dir, "config.json")

    with strategy.scope():
        model = build_model(config)
        if config.init_from:  # a resumed run's backup then replaces these weights
            initialize_from(model, config.init_from)
        if config.freeze_batch_norm:
            freeze_backbone_batch_norm(model)
        compile_model(model, config)
    check_batch_fits(model, config.crop_size, config.batch_size,
                     strategy.num_replicas_in_sync)
    check_onednn_pointwise_gradients(model)

    previous_fields = None
    if os.path.exists(config_path):
        try:
            with open(config_path) as f:
                previous_fields = TrainConfig.from_json(f.read()).training_fields()
        except (ValueError, TypeError):
            previous_fields = None  # another version's or a damaged file: no field names
    verify_backup(backup_dir, config.fingerprint(), config.training_fields(), previous_fields,
                  allow_config_change)
    # Written once the run is known to start: a run refused above leaves it unchanged.
    write_text_atomically(config_path, config.to_json())
    initial_epoch = agree_on_backup(strategy, backup_dir)
    trim_training_log(output_dir, initial_epoch)
    resumed_seconds = logged_training_seconds(output_dir, initial_epoch, config.steps_per_epoch)
    initial_step = initial_epoch * config.steps_per_epoch
    if initial_epoch and config.verbose:
        print(f"keras-lk: resuming from the backup at step {initial_step} "
              f"(epoch {initial_epoch}/{config.epochs}).", flush=True)
    # Once the run is known to start (a refused resume costs no timing).
    tune_for_training(model, config, replicas=strategy.num_replicas_in_sync)
    dataset = train_dataset(config, model, skip_steps=initial_step)
    prepare_multi_worker_fit(model, strategy, dataset.element_spec)
    callbacks = make_callbacks(output_dir, config.checkpoint_every, config.tensorboard,
                               fingerprint=config.fingerprint())
    history = model.fit(dataset, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                        initial_epoch=initial_epoch, callbacks=callbacks,
                        verbose=config.verbose, shuffle=False)  # the pipeline shuffles, seeded
    step = (initial_epoch + len(history.epoch)) * config.steps_per_epoch
    model_path = os.path.join(output_dir, "model.keras")
    # Atomic, and before the backup goes: a kill during the save leaves the old file (or
    # none) and the backup of the last epoch, from which a rerun finishes at once.
    save_model_atomically(model, model_path)
    shutil.rmtree(backup_dir, ignore_errors=True)
    keras.mixed_precision.set_global_policy("float32")
    return TrainResult(model, history.history, step, initial_step,
                       int(model.optimizer.iterations.numpy()), model_path, precision,
                       resumed_seconds)
