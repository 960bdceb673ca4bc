"""keras_lk.data: built-in scenes, input pipelines, validation and TFDS builders.

Every source yields examples `{"image": uint8 H×W×3, "segmentation_mask": uint8 H×W×1,
"file_name": string}`:

- `large_object_scenes` / `large_object_scenes_numpy`: procedural shape scenes (no files),
  where only a large receptive field classifies interior pixels (the demo's data);
- `load_dataset("voc_sbd" | "cityscapes_train_ids/fine" | "ade20k" | ...)`: the TFDS builders of
  `keras_lk.data.builders`, prepared from the official archives in a `manual_dir`;
- `folder_dataset(data_dir, split)`: your own folder of images and label PNGs
  (`keras_lk.data.folder`; ``--dataset folder --data-dir D`` on the command line);
- `DATASETS`: the registry, name → `DatasetInfo` (classes, ignore label, splits,
  palette, `load(split, ...)`), read by the training engine and the CLI.

`colorize`, `voc_palette`, `cityscapes_colors` (`keras_lk.data.palettes`) colour label
maps; `plot_segmentation` and `add_class_legend` draw them.

`train_pipeline` / `eval_pipeline` turn examples into `(images, masks)` batches;
`distribute_dataset` shards and batches them per replica under a `tf.distribute` strategy.

Example:
>>> import keras_lk.data as kd
>>> train = kd.train_pipeline(kd.large_object_scenes("train"), crop_size=128,
...                           batch_size=16, num_classes=6, scale_range=(0.75, 1.25))
"""

from keras_lk._moved import moved_attributes
from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.datasets import load_dataset
from keras_lk.data.folder import folder_dataset
from keras_lk.data.palettes import cityscapes_colors, colorize, full_palette, voc_palette
from keras_lk.data.pipeline import (
    NORMALIZATIONS,
    distribute_dataset,
    eval_pipeline,
    normalize_image,
    pad_to_size,
    random_crop,
    random_scale,
    train_pipeline,
)
from keras_lk.data.registry import DATASETS
from keras_lk.data.scenes import (
    DEFAULT_SPLIT_SIZES,
    SHAPES,
    SceneConfig,
    generate_scene,
    large_object_scenes,
    large_object_scenes_numpy,
)
from keras_lk.data.validation import (
    check_element_spec,
    check_example,
    validate_example,
    validate_mask,
)
from keras_lk.data.visualization import add_class_legend, plot_segmentation

__all__ = [
    "DATASETS",
    "DEFAULT_SPLIT_SIZES",
    "NORMALIZATIONS",
    "SHAPES",
    "DatasetInfo",
    "SceneConfig",
    "add_class_legend",
    "check_element_spec",
    "check_example",
    "cityscapes_colors",
    "colorize",
    "distribute_dataset",
    "eval_pipeline",
    "folder_dataset",
    "full_palette",
    "generate_scene",
    "large_object_scenes",
    "large_object_scenes_numpy",
    "load_dataset",
    "normalize_image",
    "pad_to_size",
    "plot_segmentation",
    "random_crop",
    "random_scale",
    "train_pipeline",
    "validate_example",
    "validate_mask",
    "voc_palette",
]

__getattr__ = moved_attributes(__name__)
