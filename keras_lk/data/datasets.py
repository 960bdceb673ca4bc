"""Loading the TFDS builders of keras_lk from a `manual_dir` of official archives."""

from __future__ import annotations

import os

SUBSET_MARKER = "keras_lk_subset.txt"


def load_dataset(
    name: str, split: str, data_dir: str, manual_dir: str | None = None, shuffle_files: bool = False,
    allow_subset: bool | None = None,
):
    """Prepares (once) and loads a keras_lk dataset as a `tf.data.Dataset` of examples.

    Args:
        name: a TFDS dataset of `keras_lk.data.DATASETS` (``needs_data_dir``).
        split: e.g. `"train_aug"`, `"val"`, `"train_extra"`.
        data_dir: where TFDS writes and reads the prepared dataset.
        manual_dir: directory holding the official archives; needed the first time.
        shuffle_files: shuffle the TFRecord shards (training).
        allow_subset: prepare from archives holding fewer examples than the official
            ones, and load a dataset prepared so (None: as `subset_allowed` says; the
            default refuses both, so a subset never passes for the official dataset).

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
    from keras_lk.data.builders import _archives

    allowed = _archives.subset_is_allowed() if allow_subset is None else allow_subset
    if not builder.is_prepared():
        download_config = (None if manual_dir is None
                           else tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
        subsets = []
        token = _archives._SUBSETS.set(subsets)
        try:
            with _archives.subset_allowed(allowed):
                builder.download_and_prepare(download_config=download_config)
        finally:
            _archives._SUBSETS.reset(token)
        if subsets:
            with open(os.path.join(builder.data_dir, SUBSET_MARKER), "w") as f:
                f.write("\n".join(subsets) + "\n")
    marker = os.path.join(builder.data_dir, SUBSET_MARKER)
    if os.path.exists(marker) and not allowed:
        with open(marker) as f:
            what = "; ".join(f.read().split("\n")).strip("; ")
        raise ValueError(f"dataset {name!r} in {data_dir!r} was prepared from a subset of the "
                         f"official archives ({what}); pass --allow-subset "
                         "(allow_subset=True) to use it.")
    return tfds.load(name, split=split, data_dir=str(data_dir), shuffle_files=shuffle_files,
                     download=False)
