"""Your own dataset: a folder of images and label PNGs (``--dataset folder --data-dir D``).

Layouts (the first that exists is used):

- ``images/`` and ``labels/``;
- the PASCAL VOC layout: ``JPEGImages/`` and ``SegmentationClass/`` (or
  ``SegmentationClassPNG/``, what labelme's ``labelme2voc.py`` writes).

Images are JPEG or PNG; labels are PNGs of class indices, palette (``P``) or grey
(``L``), 255 = ignore. An image and its label share a file stem (``cat_01.jpg`` ↔
``cat_01.png``). Classes come from ``dataset.json`` ::

    {"classes": ["background", "cat", "dog"],      # required
     "palette": [[0, 0, 0], [128, 0, 0], [0, 128, 0]],   # optional
     "ignore_label": 255,                                 # optional
     "val_fraction": 0.2}                                 # optional (default 0.2)

or, without it, from labelme's ``class_names.txt`` (one name per line; a first line
``__ignore__`` is the ignore label, not a class). Splits: ``ImageSets/Segmentation/
<split>.txt`` or ``splits/<split>.txt`` (one stem per line) where they exist, otherwise
a fixed ``val_fraction`` of the stems (chosen by a hash of the stem, so adding images
never moves others between splits) is ``val``, the rest ``train``.

Every pair is checked when the split is loaded, before training starts; every bad case
is a one-line `ValueError` naming the file: unmatched stems, two images
or labels with one stem, label values ≥ the number of classes other than the ignore
label, an image / label size mismatch, unreadable files, and RGB label images (colour
visualisations, not class indices).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os

import numpy as np

from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.palettes import voc_colors

LAYOUTS = (("images", ("labels",)), ("JPEGImages", ("SegmentationClass", "SegmentationClassPNG")))
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SPLIT_DIRS = (os.path.join("ImageSets", "Segmentation"), "splits")
DEFAULT_VAL_FRACTION = 0.2


def _layout(root):
    for image_dir, label_dirs in LAYOUTS:
        for label_dir in label_dirs:
            if os.path.isdir(os.path.join(root, image_dir)) and os.path.isdir(
                    os.path.join(root, label_dir)):
                return os.path.join(root, image_dir), os.path.join(root, label_dir)
    expected = " or ".join(f"{i}/ + {'|'.join(ls)}/" for i, ls in LAYOUTS)
    raise ValueError(f"--data-dir {root!r} holds no dataset folder: expected {expected}.")


def _by_stem(folder, suffixes, kind):
    files = {}
    for name in sorted(os.listdir(folder)):
        stem, suffix = os.path.splitext(name)
        if suffix.lower() not in suffixes or name.startswith("."):
            continue
        if stem in files:
            raise ValueError(f"{kind}s {files[stem]} and {os.path.join(folder, name)} share the "
                             f"stem {stem!r}; keep one.")
        files[stem] = os.path.join(folder, name)
    return files


def read_classes(root) -> dict:
    """``{"classes", "palette", "ignore_label", "val_fraction"}`` of the folder `root`."""
    path = os.path.join(root, "dataset.json")
    if os.path.isfile(path):
        try:
            with open(path) as f:
                spec = json.load(f)
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not valid JSON ({error}).") from error
        classes = spec.get("classes")
        if not isinstance(classes, list) or not classes or not all(
                isinstance(c, str) for c in classes):
            raise ValueError(f"{path}: 'classes' must be a non-empty list of names, received "
                             f"{classes!r}.")
        spec = {"classes": classes, "palette": spec.get("palette"),
                "ignore_label": spec.get("ignore_label", 255),
                "val_fraction": spec.get("val_fraction", DEFAULT_VAL_FRACTION)}
    elif os.path.isfile(os.path.join(root, "class_names.txt")):  # labelme2voc.py
        with open(os.path.join(root, "class_names.txt")) as f:
            names = [line.strip() for line in f if line.strip()]
        spec = {"classes": [n for n in names if n != "__ignore__"], "palette": None,
                "ignore_label": 255, "val_fraction": DEFAULT_VAL_FRACTION}
    else:
        raise ValueError(f"--data-dir {root!r} has neither dataset.json nor class_names.txt "
                         "naming its classes.")
    num_classes, ignore = len(spec["classes"]), spec["ignore_label"]
    if not isinstance(ignore, int) or not num_classes <= ignore <= 255:
        raise ValueError(f"{root}: 'ignore_label' must be an integer in [{num_classes}, 255], "
                         f"received {ignore!r}.")
    palette = spec["palette"]
    if palette is not None and (len(palette) != num_classes or any(
            len(color) != 3 or not all(0 <= int(v) <= 255 for v in color) for color in palette)):
        raise ValueError(f"{root}: 'palette' must hold one [r, g, b] (0..255) per class "
                         f"({num_classes}), received {palette!r}.")
    if not 0 <= spec["val_fraction"] < 1:
        raise ValueError(f"{root}: 'val_fraction' must be in [0, 1), received "
                         f"{spec['val_fraction']!r}.")
    return spec


def pairs(root, split) -> list:
    """``(stem, image path, label path)`` of `split` (``train``, ``val`` or a list file)."""
    image_dir, label_dir = _layout(root)
    images = _by_stem(image_dir, IMAGE_SUFFIXES, "image")
    labels = _by_stem(label_dir, (".png",), "label")
    unmatched = sorted(set(images) ^ set(labels))
    if unmatched:
        stem = unmatched[0]
        missing = "label" if stem in images else "image"
        where = images.get(stem) or labels.get(stem)
        raise ValueError(f"{where} has no {missing} with the stem {stem!r} "
                         f"({len(unmatched)} unmatched stem(s) in {root}).")
    if not images:
        raise ValueError(f"{image_dir} holds no .jpg / .png image.")
    stems = _split_stems(root, split, sorted(images))
    return [(stem, images[stem], labels[stem]) for stem in stems]


def _list_folder(root):
    """The first of `SPLIT_DIRS` that holds split lists, or None."""
    for folder in SPLIT_DIRS:
        path = os.path.join(root, folder)
        if os.path.isdir(path) and any(name.endswith(".txt") for name in os.listdir(path)):
            return path
    return None


def _split_stems(root, split, stems):
    folder = _list_folder(root)
    if folder is not None:  # list files decide every split
        path = os.path.join(folder, f"{split}.txt")
        if not os.path.isfile(path):
            raise ValueError(f"split {split!r} of {root!r} has no list file {path}.")
        with open(path) as f:
            listed = [line.strip() for line in f if line.strip()]
        known = set(stems)
        unknown = [s for s in listed if s not in known]
        if unknown:
            raise ValueError(f"{path} lists {unknown[0]!r}, which has no image and label "
                             f"({len(unknown)} such stem(s)).")
        if not listed:
            raise ValueError(f"{path} lists no image.")
        return listed
    if split not in ("train", "val"):
        raise ValueError(f"split {split!r} of {root!r} does not exist: without list files "
                         f"({' or '.join(os.path.join(d, '<split>.txt') for d in SPLIT_DIRS)}) "
                         "the splits are 'train' and 'val'.")
    fraction = read_classes(root)["val_fraction"]
    chosen = [s for s in stems if (_stem_hash(s) < fraction) == (split == "val")]
    if not chosen:
        raise ValueError(f"split {split!r} of {root!r} is empty ({len(stems)} images, "
                         f"val_fraction {fraction}); add list files or more images.")
    return chosen


def _stem_hash(stem):
    return int(hashlib.sha256(stem.encode()).hexdigest()[:8], 16) / 16 ** 8


def read_label(label_path, num_classes, ignore_label, image_size=None, image_path=None):
    """The label (uint8 H×W) of one pair, checked (mode, values, size against the
    image's ``(height, width)``)."""
    from PIL import Image

    try:
        with Image.open(label_path) as label:
            mode = label.mode
            if mode not in ("P", "L"):
                raise ValueError(
                    f"Label {label_path} is a PIL mode {mode!r} image; labels must be palette "
                    "('P') or grey ('L') PNGs of class indices (an RGB colour picture is not one: "
                    "convert its colours to indices).")
            mask = np.asarray(label, dtype=np.uint8)
    except (OSError, SyntaxError) as error:
        raise ValueError(f"Label {label_path} cannot be read ({error}).") from error
    if image_size is not None and mask.shape != tuple(image_size):
        raise ValueError(f"Label {label_path} is {mask.shape[1]}×{mask.shape[0]}, its image "
                         f"{image_path} {image_size[1]}×{image_size[0]}.")
    bad = np.unique(mask[(mask >= num_classes) & (mask != ignore_label)])
    if bad.size:
        raise ValueError(f"Label {label_path} holds values {bad[:5].tolist()}, outside "
                         f"0..{num_classes - 1} and the ignore label {ignore_label}.")
    return mask


def _image_size(image_path):
    from PIL import Image

    try:
        with Image.open(image_path) as image:
            image.verify()
            return image.size[::-1]
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Image {image_path} cannot be read ({error}).") from error


def check_pairs(selected, num_classes, ignore_label):
    """Checks every pair before training starts (an error inside `tf.data` would surface
    as a TensorFlow traceback): images readable, labels class indices of the image's size."""
    for _, image_path, label_path in selected:
        read_label(label_path, num_classes, ignore_label, _image_size(image_path), image_path)


def read_example(stem, image_path, label_path, num_classes, ignore_label):
    """The image (uint8 H×W×3) and label (uint8 H×W×1) of one pair, checked."""
    from PIL import Image

    try:
        with Image.open(image_path) as image:
            image = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"Image {image_path} cannot be read ({error}).") from error
    mask = read_label(label_path, num_classes, ignore_label, image.shape[:2], image_path)
    return image, mask[..., None]


def folder_dataset(data_dir, split="train", num_images=None):
    """The examples of a folder dataset as a `tf.data.Dataset` of ``{"image",
    "segmentation_mask", "file_name"}``, like the builders'.

    Args:
        data_dir: the folder (see the module docstring for its layout).
        split: ``"train"``, ``"val"`` or the name of a list file.
        num_images: only the first this many (None: all).

    Example:
    >>> ds = keras_lk.data.folder_dataset("~/my_data", "train")
    """
    import tensorflow as tf

    root = os.path.expanduser(str(data_dir))
    spec = read_classes(root)
    selected = pairs(root, split)[:num_images]
    num_classes, ignore = len(spec["classes"]), spec["ignore_label"]
    check_pairs(selected, num_classes, ignore)

    def generate():
        for stem, image_path, label_path in selected:
            image, mask = read_example(stem, image_path, label_path, num_classes, ignore)
            yield {"image": image, "segmentation_mask": mask,
                   "file_name": os.path.basename(image_path)}

    return tf.data.Dataset.from_generator(generate, output_signature={
        "image": tf.TensorSpec((None, None, 3), tf.uint8),
        "segmentation_mask": tf.TensorSpec((None, None, 1), tf.uint8),
        "file_name": tf.TensorSpec((), tf.string)})


def _load(root, split, *, data_dir, manual_dir, num_images, image_size, shuffle_files):
    del data_dir, manual_dir, shuffle_files  # the pipeline shuffles
    if image_size is not None:
        raise ValueError(f"`image_size` applies to the built-in scenes only, received "
                         f"{image_size!r} for a folder dataset.")
    return folder_dataset(root, split, num_images)


def folder_info(data_dir) -> DatasetInfo:
    """The `DatasetInfo` of the folder `data_dir`: its classes, names, palette, splits."""
    root = os.path.abspath(os.path.expanduser(str(data_dir)))
    if not os.path.isdir(root):
        raise ValueError(f"--data-dir {root!r} does not exist.")
    spec = read_classes(root)
    folder = _list_folder(root)
    splits = ("train", "val") if folder is None else tuple(sorted(
        os.path.splitext(name)[0] for name in os.listdir(folder) if name.endswith(".txt")))
    palette = None if spec["palette"] is None else tuple(tuple(int(v) for v in color)
                                                         for color in spec["palette"])
    if palette is None:
        palette = voc_colors(len(spec["classes"]))
    return DatasetInfo(
        name="folder", num_classes=len(spec["classes"]), class_names=tuple(spec["classes"]),
        splits=splits, train_split="train", eval_split="val",
        loader=functools.partial(_load, root), ignore_label=spec["ignore_label"],
        palette=palette, needs_data_dir=True, description=f"folder dataset {root}")


def _unresolved(*args, **kwargs):
    raise ValueError("dataset 'folder' is read from its --data-dir: use "
                     "DATASETS['folder'].for_data_dir(data_dir) (or keras_lk.data.folder_dataset).")


DATASET = DatasetInfo(
    name="folder", num_classes=1, class_names=("?",), splits=("train", "val"),
    train_split="train", eval_split="val", loader=_unresolved, needs_data_dir=True,
    description="your own folder of images + label PNGs (--data-dir; classes in "
                "dataset.json or class_names.txt)", resolver=folder_info)
