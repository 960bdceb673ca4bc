"""Training callbacks: divergence guard, step checkpoints, step timer, resumable backup.

`make_callbacks` assembles, in order: the divergence guard (first, so a NaN step is
never backed up), the step timer, `keras.callbacks.BackupAndRestore`, step
checkpoints, TensorBoard and the CSV log; Keras adds its progress bar (loss, mIoU,
time per step).

**Resuming a killed run.** Keras 3 `BackupAndRestore` writes weights *and optimizer
state* (momenta, the step counter) but, when it restores a mid-epoch backup, it
restarts that epoch from its first batch with the weights already advanced, so the
batches seen before the backup would be applied twice. We therefore back up at epoch
ends only and make an epoch short (`TrainConfig.steps_per_epoch` steps): a killed run
resumes at the last epoch boundary, the trainer skips the input pipeline to that global
step, and the seeded pipeline replays the lost steps exactly. At most
`steps_per_epoch − 1` steps are recomputed; with `deterministic=True` the final weights
are bitwise those of an uninterrupted run.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import time
import warnings

import keras


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or Inf."""


class _GlobalStepCallback(keras.callbacks.Callback):
    """Knows the global step: batches trained since step 0, across resumed runs.

    Not `optimizer.iterations`: under `mixed_float16` the loss-scale optimizer does not
    count the steps it skips on overflowing gradients. Epochs have `params["steps"]`
    batches each (`fit(steps_per_epoch=...)`), and a resumed run starts at an epoch.
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def global_step(self, batch):
        """The global step after batch `batch` (0-based in the epoch); None if unknown."""
        steps = self.params.get("steps")
        return None if steps is None else self._epoch * steps + batch + 1


class DivergenceGuard(_GlobalStepCallback):
    """Stops training with `TrainingDivergedError` as soon as the loss is NaN or Inf.

    Unlike `keras.callbacks.TerminateOnNaN`, it raises, naming the step and the likely
    fixes, so scripts and the CLI fail loudly; placed before `BackupAndRestore` it keeps
    the diverged weights out of the backup.
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if not math.isfinite(loss):
            step = self.global_step(batch)
            where = f"step {step} " if step is not None else ""
            raise TrainingDivergedError(
                f"training diverged: loss is {loss} at {where}(epoch {self._epoch}, batch "
                f"{batch}); lower the learning rate, add warm-up, or use precision='float32'."
            )


class StepTimer(keras.callbacks.Callback):
    """Adds `step_time` (seconds per step, mean over the epoch) to the epoch logs."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._steps:
            logs["step_time"] = (time.perf_counter() - self._start) / self._steps


class StepCheckpoint(_GlobalStepCallback):
    """Saves the full model as `directory/step_NNNNNN.keras` every `every` global steps.

    Args:
        directory: where to write.
        every: period in global steps (batches trained, counted across resumes; needs
            `fit(steps_per_epoch=...)`).
        max_to_keep: keep only the newest checkpoints (None: all).
    """

    def __init__(self, directory, every, max_to_keep=None):
        super().__init__()
        if every < 1:
            raise ValueError(f"`every` must be ≥ 1, received {every!r}.")
        self.directory = str(directory)
        self.every = int(every)
        self.max_to_keep = max_to_keep

    def on_train_begin(self, logs=None):
        if self.params.get("steps") is None:
            raise ValueError("`StepCheckpoint` needs `fit(steps_per_epoch=...)` to count "
                             "global steps.")

    def on_train_batch_end(self, batch, logs=None):
        step = self.global_step(batch)
        if step % self.every:
            return
        os.makedirs(self.directory, exist_ok=True)
        self.model.save(os.path.join(self.directory, f"step_{step:06d}.keras"))
        if self.max_to_keep:
            saved = sorted(f for f in os.listdir(self.directory) if f.startswith("step_"))
            for name in saved[: -self.max_to_keep]:
                os.remove(os.path.join(self.directory, name))


BACKUP_WEIGHTS = "latest.weights.h5"  # the file names of keras.callbacks.BackupAndRestore
BACKUP_METADATA = "training_metadata.json"
PREVIOUS = ".bkp"  # its `double_checkpoint` copy of the backup before the latest


def backup_epoch(backup_dir, previous=False) -> int:
    """The epoch a `BackupAndRestore` in `backup_dir` will resume from (0 if none).

    With `previous=True`, the epoch of the backup before that one (its
    `double_checkpoint` copy; 0 if none).
    """
    path = os.path.join(str(backup_dir), BACKUP_METADATA + (PREVIOUS if previous else ""))
    if not os.path.exists(path):
        return 0
    try:
        with open(path) as f:
            return int(json.load(f)["epoch"])
    except (ValueError, KeyError, OSError) as error:
        raise ValueError(f"Corrupt backup metadata {path}: {error}.") from None


def roll_back_backup(backup_dir):
    """Makes the previous backup in `backup_dir` the latest (no backup if there is none)."""
    has_previous = os.path.exists(os.path.join(str(backup_dir), BACKUP_METADATA + PREVIOUS))
    for name in (BACKUP_WEIGHTS, BACKUP_METADATA):
        latest = os.path.join(str(backup_dir), name)
        if has_previous:
            shutil.copyfile(latest + PREVIOUS, latest)
        elif os.path.exists(latest):
            os.remove(latest)


def make_callbacks(output_dir, checkpoint_every=0, tensorboard=True, csv=True,
                   backup=True):
    """The standard callbacks of `keras_lk.training.train`, in the order they must run."""
    output_dir = str(output_dir)
    callbacks = [DivergenceGuard(), StepTimer()]
    if backup:
        callbacks.append(
            keras.callbacks.BackupAndRestore(os.path.join(output_dir, "backup"),
                                             save_freq="epoch", double_checkpoint=True)
        )
    if checkpoint_every:
        callbacks.append(StepCheckpoint(os.path.join(output_dir, "checkpoints"),
                                        checkpoint_every))
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        warnings.warn("TensorBoard is not installed: no TensorBoard logs "
                      "(`pip install tensorboard`).", stacklevel=2)
    elif tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(output_dir, "logs"),
                                                     update_freq="epoch"))
    if csv:
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(output_dir, "training_log.csv"),
                                                   append=True))
    return callbacks
