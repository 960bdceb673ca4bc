"""`DatasetInfo`: a dataset's facts and how to load it, one per registry entry.

Each dataset's file defines its `DatasetInfo` beside its builder; `keras_lk/data/registry.py`
lists them. The training engine, the CLI and the recipes read the facts from there:
classes, ignore label, default splits, palette.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A dataset: facts and loader.

    Args:
        name: registry name (``"voc_sbd"``, the TFDS name for TFDS builders).
        num_classes: number of classes.
        class_names: one name per class.
        splits: the splits it has.
        train_split: default training split.
        eval_split: default evaluation split.
        ignore_label: label of void pixels.
        palette: RGB colour per class (for masks and plots).
        loader: ``loader(split, *, data_dir, manual_dir, num_images, image_size,
            shuffle_files)`` returning a `tf.data.Dataset` of ``{"image",
            "segmentation_mask", "file_name"}`` examples. The loader of a dataset prepared
            from official archives also takes ``allow_subset`` (see `load`).
        needs_data_dir: whether `load` needs a ``data_dir`` (TFDS datasets).
        description: one line for ``--help``.
        resolver: for a dataset whose classes live with its files (a user's folder):
            ``resolver(data_dir)`` returns the `DatasetInfo` of that directory.
    """

    name: str
    num_classes: int
    class_names: tuple
    splits: tuple
    train_split: str
    eval_split: str
    loader: Callable
    ignore_label: int = 255
    palette: tuple | None = None
    needs_data_dir: bool = True
    description: str = ""
    resolver: Callable | None = None

    def require_data_dir(self, data_dir):
        """Raises a one-line `ValueError` if this dataset needs a `data_dir` and has none."""
        if self.needs_data_dir and not data_dir:
            raise ValueError(f"`data_dir` (--data-dir) is required for dataset {self.name!r}.")

    def for_data_dir(self, data_dir) -> DatasetInfo:
        """The dataset of `data_dir`: itself, or for a folder dataset the classes,
        names and palette read from that folder."""
        if self.resolver is None:
            return self
        self.require_data_dir(data_dir)
        return self.resolver(data_dir)

    def load(self, split=None, *, data_dir=None, manual_dir=None, num_images=None,
             image_size=None, shuffle_files=False, allow_subset=False):
        """The examples of `split` (default: `eval_split`); one-line errors for bad input.

        Args:
            split: one of `splits`.
            data_dir, manual_dir: TFDS directories (`needs_data_dir` datasets).
            num_images: keep only the first this many examples (None: all).
            image_size: side of generated images (the built-in scenes only).
            shuffle_files: shuffle the stored shards (training).
            allow_subset: prepare and use archives that hold fewer examples than the
                official ones (datasets prepared from archives, whose loader takes it;
                refused by default, so a subset never passes for the official dataset).
        """
        split = self.eval_split if split is None else split
        if split not in self.splits:
            raise ValueError(
                f"`split` of dataset {self.name!r} must be one of {self.splits}, "
                f"received {split!r}."
            )
        if num_images is not None and (isinstance(num_images, bool)
                                       or not isinstance(num_images, int) or num_images < 1):
            raise ValueError(f"`num_images` must be an integer >= 1, received {num_images!r}.")
        if self.needs_data_dir:
            self.require_data_dir(data_dir)
            data_dir = os.path.expanduser(data_dir)
            if manual_dir is not None and not os.path.isdir(os.path.expanduser(manual_dir)):
                raise ValueError(f"`--manual-dir` {manual_dir!r} does not exist.")
        options = {"allow_subset": allow_subset} if _takes(self.loader, "allow_subset") else {}
        return self.loader(split, data_dir=data_dir, manual_dir=manual_dir,
                           num_images=num_images, image_size=image_size,
                           shuffle_files=shuffle_files, **options)

    def model_arguments(self, num_classes=None) -> dict:
        """The arguments a model takes from this dataset: classes, names, palette,
        ignore label. With `num_classes` other than the dataset's, names and palette
        are left out (they would not match)."""
        if num_classes is None or num_classes == self.num_classes:
            return {"num_classes": self.num_classes, "class_names": list(self.class_names),
                    "palette": None if self.palette is None else [list(c) for c in self.palette],
                    "ignore_label": self.ignore_label}
        return {"num_classes": num_classes, "ignore_label": self.ignore_label}


def _takes(function, argument):
    """Whether `function` takes the keyword `argument` (by name or as ``**kwargs``)."""
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == argument or p.kind is p.VAR_KEYWORD for p in parameters)
