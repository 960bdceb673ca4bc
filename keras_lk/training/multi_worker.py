"""Makes Keras 3 `Model.fit` train under `MultiWorkerMirroredStrategy`.

Keras 3 (checked with 3.15) breaks `fit()` under `MultiWorkerMirroredStrategy` in two
places of `keras/src/backend/tensorflow/trainer.py` (tensorflow/tensorflow#72388):

1. `_maybe_symbolic_build` takes the first distributed batch and reduces the nested
   `(x, y)` of `PerReplica` values eagerly with `strategy.reduce("MEAN", ...)`; the
   collective reduce raises "Attempt to convert a value (PerReplica ...)".
2. The train function reduces the per-replica logs with
   `strategy.reduce("MEAN", v, axis=0)`, which fails on scalar logs such as the loss
   ("Invalid reduction dimension 0 for input with 0 dimensions").

`prepare_multi_worker_fit` mends both for one model, keeping everything else of `fit`
(callbacks, history, progress bar, `BackupAndRestore`): it builds the model's optimizer,
loss and metric state from the batch spec (what `_maybe_symbolic_build` would have
done), turns that per-fit build off for this model, and installs a train function that
runs `model.train_step` on every replica and averages the logs over all replicas
(`axis=None`). One call of the train function is one step (`steps_per_execution=1`).

`agree_on_backup` makes the workers of a resumed run start from one backed-up epoch.
"""

from __future__ import annotations

import warnings

from keras_lk.training.callbacks import backup_epoch, roll_back_backup


def _is_multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _gather(strategy, values) -> list[tuple[int, ...]]:
    """`values` of every replica of every worker (a collective: all workers must call)."""
    import tensorflow as tf

    @tf.function
    def gather():
        context = tf.distribute.get_replica_context()
        return context.all_gather(tf.constant([values], tf.int64), axis=0)

    gathered = strategy.experimental_local_results(strategy.run(gather))[0]
    return [tuple(int(v) for v in row) for row in gathered.numpy()]


def agree_on_backup(strategy, backup_dir) -> int:
    """The epoch every worker resumes from; rolls this worker's backup back if needed.

    Each worker restores its own backup, and workers resuming from different epochs
    would train different weights with one all-reduced gradient, out of sync for good.
    A run killed while the workers were writing their backups leaves some of them one
    epoch ahead: those roll back to their previous backup (`double_checkpoint`), so all
    resume from the same epoch. Any other disagreement (a lost backup folder, say) is an
    error on every worker. Without multi-worker, just the epoch of the backup.

    Raises:
        ValueError: naming the workers' epochs, if no common epoch can be restored.
    """
    epoch = backup_epoch(backup_dir)
    if not _is_multi_worker(strategy):
        return epoch
    # (latest, previous) backed-up epochs of every replica; all decide alike from them.
    backups = _gather(strategy, (epoch, backup_epoch(backup_dir, previous=True)))
    target = min(latest for latest, _ in backups)
    if any(latest != target and (latest, previous) != (target + 1, target)
           for latest, previous in backups):
        raise ValueError(
            f"The workers' backups are at different epochs "
            f"{sorted({latest for latest, _ in backups})} and cannot be rolled back to one: "
            "resuming would put them out of sync. Restore the missing backups, or delete "
            "every worker's `backup` folder to start again."
        )
    if epoch != target:
        roll_back_backup(backup_dir)
        warnings.warn(
            f"This worker's backup ({backup_dir}) was at epoch {epoch}, another's at "
            f"{target} (killed while backing up): rolled back to its previous backup.",
            stacklevel=2,
        )
    return target


def prepare_multi_worker_fit(model, strategy, batch_spec):
    """Prepares a compiled `model` so that `model.fit` trains under `strategy`.

    Does nothing unless `strategy` is a `tf.distribute.MultiWorkerMirroredStrategy`.
    Call it again after every `model.compile` (which drops the train function).
    `model.evaluate` and `model.predict` are not mended: evaluate with one worker.

    Args:
        model: a compiled Keras model built in `strategy.scope()`.
        strategy: the strategy the model was built under.
        batch_spec: the structure of one `(x, y)` training batch, as `tf.TensorSpec`s
            (`dataset.element_spec`) or local tensors: only shapes and dtypes are used.

    Raises:
        ValueError: if `model` is not compiled, or was compiled with
            `steps_per_execution` other than 1.
    """
    if not _is_multi_worker(strategy):
        return
    import tensorflow as tf

    if not getattr(model, "compiled", False):
        raise ValueError("`model` must be compiled before `prepare_multi_worker_fit`.")
    if model.steps_per_execution != 1:
        raise ValueError(
            "Multi-worker training supports `steps_per_execution=1` only, received "
            f"{model.steps_per_execution!r}."
        )
    with strategy.scope():
        model._symbolic_build(data_batch=batch_spec)
    # The build is done; fit() must not redo it from a distributed batch (cause 1).
    model._maybe_symbolic_build = lambda *args, **kwargs: None

    def mean_over_replicas(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.reduce("MEAN", value, axis=None)
        return value

    step = model.train_step
    if model.jit_compile:
        step = tf.function(step, jit_compile=True, reduce_retracing=True)

    @tf.function(reduce_retracing=True)
    def train_function(iterator):
        logs = strategy.run(step, args=(next(iterator),))
        return tf.nest.map_structure(mean_over_replicas, logs)  # cause 2

    model.train_function = train_function
