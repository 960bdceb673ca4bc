"""keras_lk.data: built-in scenes, input pipelines, validation and TFDS builders."""

from keras_lk.data.datasets import BUILDER_NAMES, load_dataset
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
from keras_lk.data.scenes import (
    DEFAULT_SPLIT_SIZES,
    SHAPES,
    SceneConfig,
    boundary_region,
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
from keras_lk.data.visualization import colorize_mask, plot_segmentation, voc_palette

__all__ = [
    "BUILDER_NAMES",
    "load_dataset",
    "DEFAULT_SPLIT_SIZES",
    "NORMALIZATIONS",
    "check_element_spec",
    "check_example",
    "distribute_dataset",
    "eval_pipeline",
    "normalize_image",
    "pad_to_size",
    "random_crop",
    "random_scale",
    "train_pipeline",
    "validate_example",
    "validate_mask",
    "SHAPES",
    "SceneConfig",
    "boundary_region",
    "colorize_mask",
    "generate_scene",
    "large_object_scenes",
    "large_object_scenes_numpy",
    "plot_segmentation",
    "voc_palette",
]
