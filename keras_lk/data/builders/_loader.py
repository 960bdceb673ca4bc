"""The registry loader of a keras_lk TFDS builder: prepare once from the official
archives in a `manual_dir`, then read the prepared examples."""

from __future__ import annotations

import os

# Written beside a dataset prepared from fewer examples than the official archives hold.
SUBSET_MARKER = "keras_lk_subset.txt"


def tfds_loader(builder_class, config=None):
    """The `DatasetInfo.loader` of `builder_class` (an `ArchiveBuilder`), with `config`.

    The loader prepares the dataset in `data_dir` the first time (from `manual_dir`),
    refuses a dataset prepared from a subset of the official archives unless
    `allow_subset`, and returns the examples of `split` as a `tf.data.Dataset` of
    ``{"image", "segmentation_mask", "file_name"}``.
    """
    name = builder_class.name if config is None else f"{builder_class.name}/{config}"

    def load(split, *, data_dir, manual_dir, num_images, image_size, shuffle_files,
             allow_subset):
        if image_size is not None:
            raise ValueError(
                f"`image_size` applies to the built-in scenes only, received {image_size!r} "
                f"for dataset {name!r}."
            )
        builder = builder_class(data_dir=str(data_dir), config=config,
                                allow_subset=allow_subset)
        if not builder.is_prepared():
            _prepare(builder, name, data_dir, manual_dir)
        marker = os.path.join(builder.data_dir, SUBSET_MARKER)
        if os.path.exists(marker) and not allow_subset:
            with open(marker) as f:
                what = "; ".join(f.read().split("\n")).strip("; ")
            raise ValueError(f"dataset {name!r} in {data_dir!r} was prepared from a subset of "
                             f"the official archives ({what}); pass --allow-subset "
                             "(allow_subset=True) to use it.")
        dataset = builder.as_dataset(split=split, shuffle_files=shuffle_files)
        return dataset if num_images is None else dataset.take(num_images)

    return load


def _prepare(builder, name, data_dir, manual_dir):
    """Prepares `builder`'s dataset from the archives in `manual_dir`, and marks it if
    it was built from a subset of them."""
    import tensorflow_datasets as tfds

    # TFDS would fail later with a bare AssertionError ("does not exist or is empty")
    # after creating an empty dataset folder; say what the directory must hold.
    instructions = " ".join(builder.MANUAL_DOWNLOAD_INSTRUCTIONS.split())
    if manual_dir is None:
        missing = "" if os.path.isdir(data_dir) else " (it does not exist)"
        raise ValueError(f"dataset {name!r} is not prepared in --data-dir {data_dir!r}"
                         f"{missing}; give --manual-dir with the official archives. "
                         f"{instructions}")
    if not os.path.isdir(manual_dir) or not os.listdir(manual_dir):
        raise ValueError(f"--manual-dir {manual_dir!r} is empty or missing, and dataset "
                         f"{name!r} is not prepared in {data_dir!r}. {instructions}")
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    if builder.subsets:
        with open(os.path.join(builder.data_dir, SUBSET_MARKER), "w") as f:
            f.write("\n".join(builder.subsets) + "\n")
