"""Figures of images and label maps: image / label / prediction panels and a legend of
class colours."""

from __future__ import annotations

import numpy as np

from keras_lk._moved import moved_attributes
from keras_lk.data.palettes import colorize, full_palette, voc_palette


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
    panels = [("image", image), ("label", colorize(label))]
    if prediction is not None:
        prediction = np.asarray(prediction)
        if prediction.ndim == 3 and prediction.shape[-1] > 1:
            prediction = prediction.argmax(-1)
        panels.append(("prediction", colorize(prediction)))
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


def add_class_legend(figure, class_names, palette="voc", other_color=None,
                     other_name="ignore (255)", fontsize=8):
    """Adds one legend of class colours under `figure`, as `colorize` draws them.

    Args:
        figure: a matplotlib figure (leave room at its bottom, e.g.
            ``tight_layout(rect=(0, 0.06, 1, 1))``).
        class_names: one name per class, in label order.
        palette, other_color: as in `keras_lk.data.colorize`; with `other_color`, one
            more entry, `other_name`, for every other label (the ignore band).
        fontsize: of the entries.

    Example:
    >>> info = keras_lk.data.DATASETS["scenes"]
    >>> add_class_legend(figure, info.class_names, info.palette, other_color=(255, 255, 255))
    """
    from matplotlib.patches import Patch

    colors = full_palette(palette, other_color) / 255
    handles = [Patch(facecolor=colors[c], edgecolor="grey", label=name)
               for c, name in enumerate(class_names)]
    if other_color is not None:
        handles.append(Patch(facecolor=np.asarray(other_color) / 255, edgecolor="grey",
                             label=other_name))
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=fontsize,
                  frameon=False)


__getattr__ = moved_attributes(__name__)
