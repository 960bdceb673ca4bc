"""`load_dataset`: a registered TFDS dataset of keras_lk by name."""

from __future__ import annotations

from keras_lk.data.registry import DATASETS


def load_dataset(
    name: str, split: str, data_dir: str, manual_dir: str | None = None, shuffle_files: bool = False,
    allow_subset: bool = False,
):
    """Prepares (once) and loads a keras_lk TFDS dataset as a `tf.data.Dataset` of examples.

    Args:
        name: a TFDS dataset of `keras_lk.data.DATASETS` (``needs_data_dir``).
        split: e.g. `"train_aug"`, `"val"`, `"train_extra"`.
        data_dir: where TFDS writes and reads the prepared dataset.
        manual_dir: directory holding the official archives; needed the first time.
        shuffle_files: shuffle the TFRecord shards (training).
        allow_subset: prepare from archives holding fewer examples than the official
            ones, and load a dataset prepared so (refused by default, so a subset never
            passes for the official dataset).

    Returns:
        `tf.data.Dataset` of `{"image", "segmentation_mask", "file_name"}`, ready for
        `keras_lk.data.train_pipeline` / `eval_pipeline`.

    Example:
    >>> ds = keras_lk.data.load_dataset("voc_sbd", "train_aug", data_dir="~/tfds",
    ...                                 manual_dir="~/archives")
    """
    builder_names = tuple(n for n in DATASETS if DATASETS[n].needs_data_dir)
    if name not in builder_names:
        raise ValueError(f"`name` must be one of {builder_names}, received {name!r}.")
    return DATASETS[name].load(split, data_dir=str(data_dir), manual_dir=manual_dir,
                               shuffle_files=shuffle_files, allow_subset=allow_subset)
