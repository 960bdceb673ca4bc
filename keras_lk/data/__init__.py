"""keras_lk.data: built-in scenes, input pipelines, validation and TFDS builders."""

from keras_lk.data.scenes import (
    DEFAULT_SPLIT_SIZES,
    SHAPES,
    SceneConfig,
    boundary_region,
    generate_scene,
    large_object_scenes,
    large_object_scenes_numpy,
)
from keras_lk.data.visualization import colorize_mask, plot_segmentation, voc_palette

__all__ = [
    "DEFAULT_SPLIT_SIZES",
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
