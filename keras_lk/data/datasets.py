"""Loading the TFDS builders of keras_lk from a `manual_dir` of official archives."""

from __future__ import annotations

import os


def load_dataset(
    name: str, split: str, data_dir: str, manual_dir: str | None = None, shuffle_files: bool = False
):
    """Prepares (once) and loads a keras_lk dataset as a `tf.data.Dataset` of examples.

    Args:
        name: a TFDS dataset of `keras_lk.data.DATASETS` (``needs_data_dir``).
        split: e.g. `"train_aug"`, `"val"`, `"train_extra"`.
        data_dir: where TFDS writes and reads the prepared dataset.
        manual_dir: directory holding the official archives; needed the first time.
        shuffle_files: shuffle the TFRecord shards (training).

    Returns:
        `tf.data.Dataset` of `{"image", "segmentation_mask", "file_name"}`, ready for
        `keras_lk.data.train_pipeline` / `eval_pipeline`.

    Example:
    >>> ds = keras_lk.data.load_dataset("voc_sbd", "train_aug", data_dir="~/tfds",
    ...                                 manual_dir="~/archives")
    """
    import tensorflow_datasets as tfds

    import keras_lk.data.builders  # noqa: F401  (registers the builders)
    from keras_lk.data.registry import DATASETS

    builder_names = tuple(n for n in DATASETS if DATASETS[n].needs_data_dir)
    if name not in builder_names:
        raise ValueError(f"`name` must be one of {builder_names}, received {name!r}.")
    builder = tfds.builder(name, data_dir=str(data_dir))
    if not builder.is_prepared():
        # TFDS would fail later with a bare AssertionError ("does not exist or is empty")
        # after creating an empty dataset folder; say what the directory must hold.
        instructions = " ".join(builder.MANUAL_DOWNLOAD_INSTRUCTIONS.split())
        if manual_dir is None:
            raise ValueError(f"dataset {name!r} is not prepared in --data-dir {data_dir!r}; "
                             f"give --manual-dir with the official archives. {instructions}")
        if not os.path.isdir(manual_dir) or not os.listdir(manual_dir):
            raise ValueError(f"--manual-dir {manual_dir!r} is empty or missing, and dataset "
                             f"{name!r} is not prepared in {data_dir!r}. {instructions}")
    kwargs = {}
    if manual_dir is not None:
        kwargs["download_and_prepare_kwargs"] = {
            "download_config": tfds.download.DownloadConfig(manual_dir=str(manual_dir))
        }
    return tfds.load(
        name, split=split, data_dir=str(data_dir), shuffle_files=shuffle_files, **kwargs
    )
