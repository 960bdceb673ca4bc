"""PASCAL VOC colour palette and an image / label / prediction figure."""

from __future__ import annotations

import numpy as np

# Official Cityscapes colours of the 19 evaluated classes, indexed by trainId
# (cityscapesScripts, helpers/labels.py).
CITYSCAPES_COLORS = (
    (128, 64, 128),  # 0 road
    (244, 35, 232),  # 1 sidewalk
    (70, 70, 70),  # 2 building
    (102, 102, 156),  # 3 wall
    (190, 153, 153),  # 4 fence
    (153, 153, 153),  # 5 pole
    (250, 170, 30),  # 6 traffic light
    (220, 220, 0),  # 7 traffic sign
    (107, 142, 35),  # 8 vegetation
    (152, 251, 152),  # 9 terrain
    (70, 130, 180),  # 10 sky
    (220, 20, 60),  # 11 person
    (255, 0, 0),  # 12 rider
    (0, 0, 142),  # 13 car
    (0, 0, 70),  # 14 truck
    (0, 60, 100),  # 15 bus
    (0, 80, 100),  # 16 train
    (0, 0, 230),  # 17 motorcycle
    (119, 11, 32),  # 18 bicycle
)


def voc_palette(num_colors: int = 256) -> np.ndarray:
    """The PASCAL VOC colour map: entry `i` spreads the bits of `i` over R, G and B.

    Args:
        num_colors: number of palette entries (≤ 256).

    Returns:
        uint8 array `num_colors`×3; entry 0 is black, 15 (person) is (192, 128, 128),
        255 (void) is (224, 224, 192).
    """
    palette = np.zeros((num_colors, 3), dtype=np.uint8)
    for index in range(num_colors):
        value, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        palette[index] = (r, g, b)
    return palette


def colorize_mask(mask: np.ndarray) -> np.ndarray:
    """Maps integer labels (H×W or H×W×1, values 0..255) to VOC colours, H×W×3 uint8."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"`mask` must be H×W or H×W×1, received shape {mask.shape}.")
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError(
            f"`mask` values must be in [0, 255], received [{mask.min()}, {mask.max()}]."
        )
    return voc_palette()[mask.astype(np.int64)]


def plot_segmentation(image, label, prediction=None, path=None, class_names=None, title=None):
    """Shows image, label and (optionally) prediction side by side in VOC colours.

    Args:
        image: H×W×3 array (uint8, or float in [0, 1]).
        label: H×W or H×W×1 integer labels (255 = void, drawn in VOC's cream colour).
        prediction: optional H×W[×1] integer labels, or H×W×C scores (argmax taken).
        path: if given, the figure is written there as PNG (Agg backend).
        class_names: optional names; a legend shows the classes present.
        title: optional figure title.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:
    >>> images, masks = keras_lk.data.large_object_scenes_numpy("val", num_images=1)
    >>> fig = keras_lk.data.plot_segmentation(images[0], masks[0], path="scene.png")
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    image = np.asarray(image)
    panels = [("image", image), ("label", colorize_mask(label))]
    if prediction is not None:
        prediction = np.asarray(prediction)
        if prediction.ndim == 3 and prediction.shape[-1] > 1:
            prediction = prediction.argmax(-1)
        panels.append(("prediction", colorize_mask(prediction)))
    figure = Figure(figsize=(3.2 * len(panels), 3.4))
    axes = figure.subplots(1, len(panels))
    for axis, (name, array) in zip(axes, panels):
        axis.imshow(array)
        axis.set_title(name)
        axis.axis("off")
    if class_names is not None:
        palette = voc_palette()
        present = np.unique(np.asarray(label))
        handles = [
            Patch(
                color=palette[c] / 255.0, label=class_names[c] if c < len(class_names) else "void"
            )
            for c in present
        ]
        figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 8), fontsize=7)
    if title:
        figure.suptitle(title)
    if path is not None:
        figure.savefig(path, format="png", dpi=80)
    return figure
