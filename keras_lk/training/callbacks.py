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

**Trusting a backup.** After each backup, `BackupIntegrity` records the SHA-256 of the
backup's files and the run's configuration fingerprint in `integrity.json` (written
atomically; the record of the previous backup is kept beside Keras's `.bkp` copies).
Before a resume, `verify_backup` accepts the latest backup only if its files match a
record, falls back to the previous backup if they do not (a deleted, truncated or
bit-flipped file), and refuses a resume
whose configuration differs from the backed-up run's, naming the fields. A kill between
Keras's write and the record leaves a latest backup one epoch newer than its record:
it is accepted if every array of it reads back (truncation is caught, a bit flip in
that one unrecorded file would not be).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import shutil
import time
import warnings

import keras

from keras_lk.utils.hashing import file_sha256


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


def save_model_atomically(model, path):
    """`model.save(path)` through a temporary file and a rename: a kill leaves the old
    file (or none), never a partial one."""
    temporary = f"{path}.tmp.keras"
    model.save(temporary)
    os.replace(temporary, path)


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
        save_model_atomically(self.model, os.path.join(self.directory, f"step_{step:06d}.keras"))
        if self.max_to_keep:
            saved = sorted(f for f in os.listdir(self.directory)
                           if f.startswith("step_") and not f.endswith(".tmp.keras"))
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


INTEGRITY = "integrity.json"
TRAINING_LOG = "training_log.csv"


def trim_training_log(output_dir, epochs):
    """Keeps the header and the rows of the first `epochs` epochs of the training log."""
    path = os.path.join(str(output_dir), TRAINING_LOG)
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = f.readlines()
    kept = lines[:1] + [line for line in lines[1:]
                        if line.split(",", 1)[0].isdigit() and int(line.split(",", 1)[0]) < epochs]
    if kept != lines:
        write_text_atomically(path, "".join(kept))


def logged_training_seconds(output_dir, epochs, steps_per_epoch) -> float:
    """The training seconds of the first `epochs` epochs by the training log (each row's
    mean `step_time` × `steps_per_epoch`): what a resumed run trained before it stopped.
    Epochs without a row (a log deleted or written without `StepTimer`) count 0."""
    path = os.path.join(str(output_dir), TRAINING_LOG)
    if not epochs or not os.path.exists(path):
        return 0.0
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    seconds = 0.0
    for row in rows:
        epoch, step_time = row.get("epoch") or "", row.get("step_time") or ""
        if epoch.isdigit() and int(epoch) < epochs:
            try:
                value = float(step_time)
            except ValueError:
                continue  # "NA" or empty: that epoch's time is unknown
            if math.isfinite(value):
                seconds += value * steps_per_epoch
    return seconds


def _sha256(path):
    return file_sha256(path) if os.path.exists(path) else None


def _file_hashes(backup_dir, suffix=""):
    return {name: _sha256(os.path.join(backup_dir, name + suffix))
            for name in (BACKUP_WEIGHTS, BACKUP_METADATA)}


def _read_record(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_text_atomically(path, text):
    """Writes `text` to `path` through a synced temporary file and a rename."""
    temporary = f"{path}.tmp"
    with open(temporary, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


class BackupIntegrity(keras.callbacks.Callback):
    """Records the checksums and configuration of each backup (after `BackupAndRestore`).

    Args:
        backup_dir: the `BackupAndRestore` directory.
        fingerprint: `TrainConfig.fingerprint()` of the run.
    """

    def __init__(self, backup_dir, fingerprint):
        super().__init__()
        self.backup_dir = str(backup_dir)
        self.fingerprint = fingerprint

    def on_epoch_end(self, epoch, logs=None):
        path = os.path.join(self.backup_dir, INTEGRITY)
        # Keras has just copied the previous backup to its `.bkp` files: record them as
        # they are (also after a multi-worker roll-back replaced the latest files).
        if os.path.exists(os.path.join(self.backup_dir, BACKUP_METADATA + PREVIOUS)):
            previous = {"epoch": backup_epoch(self.backup_dir, previous=True),
                        "fingerprint": self.fingerprint,
                        "sha256": _file_hashes(self.backup_dir, PREVIOUS)}
            write_text_atomically(path + PREVIOUS, json.dumps(previous, indent=1))
        record = {"epoch": backup_epoch(self.backup_dir), "fingerprint": self.fingerprint,
                  "sha256": _file_hashes(self.backup_dir)}
        write_text_atomically(path, json.dumps(record, indent=1))


def _weights_readable(path):
    """Whether every array of an .h5 weights file reads back (a truncated file does not)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            arrays = []
            f.visititems(lambda name, item: arrays.append(item[()])
                         if isinstance(item, h5py.Dataset) else None)
        return True
    except (OSError, ValueError, KeyError):
        return False


def _unrecorded_latest(backup_dir, records):
    """The latest backup when a kill came between Keras's write and its record: one epoch
    after the newest record, and readable (a bit flip in it cannot be detected)."""
    try:
        epoch = backup_epoch(backup_dir)
    except ValueError:
        return None
    newest = max(records, key=lambda r: r.get("epoch", -1))
    weights = os.path.join(backup_dir, BACKUP_WEIGHTS)
    if epoch == newest.get("epoch", -2) + 1 and _weights_readable(weights):
        return "", {**newest, "epoch": epoch}
    return None


def verify_backup(backup_dir, fingerprint, training_fields=None, previous_fields=None,
                  allow_config_change=False):
    """Checks the backup a run would resume from; returns its epoch (0: start afresh).

    Args:
        backup_dir: the run's backup directory.
        fingerprint: `TrainConfig.fingerprint()` of the run being started.
        training_fields, previous_fields: `TrainConfig.training_fields()` of this run and
            of the backed-up run (its config.json), to name what changed.
        allow_config_change: resume although the configuration differs.

    Raises:
        ValueError: the backup is damaged and no intact previous backup exists, or the
            configuration changed (without `allow_config_change`).
    """
    backup_dir = str(backup_dir)
    names = (BACKUP_WEIGHTS, BACKUP_METADATA)
    present = [os.path.exists(os.path.join(backup_dir, n + s)) for n in names
               for s in ("", PREVIOUS)]
    if not any(present):
        return 0
    records = [r for r in (_read_record(os.path.join(backup_dir, INTEGRITY + s))
                           for s in ("", PREVIOUS)) if r]
    if not records:
        warnings.warn(f"The backup in {backup_dir} has no checksums (written by an older "
                      "keras_lk); resuming from it unverified.", stacklevel=2)
        return backup_epoch(backup_dir)
    def recorded(suffix):
        hashes = _file_hashes(backup_dir, suffix)
        match = [r for r in records if r.get("sha256") == hashes and None not in hashes.values()]
        return (suffix, match[0]) if match else None

    chosen = recorded("") or _unrecorded_latest(backup_dir, records) or recorded(PREVIOUS)
    if chosen is None:
        raise ValueError(
            f"The backup in {backup_dir} is damaged (a file is missing or does not match its "
            "checksum) and there is no intact previous backup; delete that directory to "
            "train from step 0.")
    suffix, record = chosen
    if suffix:
        warnings.warn(f"The latest backup in {backup_dir} is damaged (missing or checksum "
                      f"mismatch); resuming from the previous one, epoch {record['epoch']}.",
                      stacklevel=2)
        roll_back_backup(backup_dir)
        write_text_atomically(os.path.join(backup_dir, INTEGRITY), json.dumps(record, indent=1))
    if record.get("fingerprint") != fingerprint and not allow_config_change:
        changed = sorted(key for key in set(training_fields or {}) | set(previous_fields or {})
                         if (training_fields or {}).get(key) != (previous_fields or {}).get(key))
        detail = ", ".join(f"{key}: {(previous_fields or {}).get(key)!r} → "
                           f"{(training_fields or {}).get(key)!r}" for key in changed)
        raise ValueError(
            f"This run's configuration differs from the backed-up run's in {backup_dir}"
            f"{' (' + detail + ')' if detail else ''}; rerun with the same settings to "
            "resume, use another --output-dir, or pass --resume-with-changed-config.")
    return int(record["epoch"])


def make_callbacks(output_dir, checkpoint_every=0, tensorboard=True, csv=True,
                   backup=True, fingerprint=None):
    """The standard callbacks of `keras_lk.training.train`, in the order they must run.

    The backup is not deleted at the end of `fit`: `train` removes it only after the
    final model is saved (a kill during that save resumes from the backup)."""
    output_dir = str(output_dir)
    callbacks = [DivergenceGuard(), StepTimer()]
    if csv:
        # Before the backup: an epoch that is backed up is logged (`trim_training_log`
        # drops the rows of epochs a resumed run trains again).
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(output_dir, TRAINING_LOG),
                                                   append=True))
    if backup:
        backup_dir = os.path.join(output_dir, "backup")
        callbacks.append(
            keras.callbacks.BackupAndRestore(backup_dir, save_freq="epoch",
                                             double_checkpoint=True, delete_checkpoint=False)
        )
        callbacks.append(BackupIntegrity(backup_dir, fingerprint))
    if checkpoint_every:
        callbacks.append(StepCheckpoint(os.path.join(output_dir, "checkpoints"),
                                        checkpoint_every))
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        warnings.warn("TensorBoard is not installed: no TensorBoard logs "
                      "(`pip install tensorboard`).", stacklevel=2)
    elif tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(output_dir, "logs"),
                                                     update_freq="epoch"))
    return callbacks
