"""Class colours: the PASCAL VOC, Cityscapes and ADE20K palettes, and label maps in colour.

The one home of the colours every other module uses: the datasets' registry entries
(`voc_colors`, `CITYSCAPES_COLORS`, `ADE20K_COLORS`), the figures of
`keras_lk.data.visualization`, the palette PNGs of `keras_lk.evaluation.save_label_png`
and `keras_lk.Segmenter`.
"""

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
# The ADE20K SceneParsing colours of the 150 classes, indexed by the reduced label
# (class k of objectInfo150 is label k - 1): the colour map of the MIT benchmark's
# toolkits, as mmsegmentation's `ADE20KDataset` lists it.
ADE20K_COLORS = (
    (120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3), (120, 120, 80),
    (140, 140, 140), (204, 5, 255), (230, 230, 230), (4, 250, 7), (224, 5, 255), (235, 255, 7),
    (150, 5, 61), (120, 120, 70), (8, 255, 51), (255, 6, 82), (143, 255, 140), (204, 255, 4),
    (255, 51, 7), (204, 70, 3), (0, 102, 200), (61, 230, 250), (255, 6, 51), (11, 102, 255),
    (255, 7, 71), (255, 9, 224), (9, 7, 230), (220, 220, 220), (255, 9, 92), (112, 9, 255),
    (8, 255, 214), (7, 255, 224), (255, 184, 6), (10, 255, 71), (255, 41, 10), (7, 255, 255),
    (224, 255, 8), (102, 8, 255), (255, 61, 6), (255, 194, 7), (255, 122, 8), (0, 255, 20),
    (255, 8, 41), (255, 5, 153), (6, 51, 255), (235, 12, 255), (160, 150, 20), (0, 163, 255),
    (140, 140, 140), (250, 10, 15), (20, 255, 0), (31, 255, 0), (255, 31, 0), (255, 224, 0),
    (153, 255, 0), (0, 0, 255), (255, 71, 0), (0, 235, 255), (0, 173, 255), (31, 0, 255),
    (11, 200, 200), (255, 82, 0), (0, 255, 245), (0, 61, 255), (0, 255, 112), (0, 255, 133),
    (255, 0, 0), (255, 163, 0), (255, 102, 0), (194, 255, 0), (0, 143, 255), (51, 255, 0),
    (0, 82, 255), (0, 255, 41), (0, 255, 173), (10, 0, 255), (173, 255, 0), (0, 255, 153),
    (255, 92, 0), (255, 0, 255), (255, 0, 245), (255, 0, 102), (255, 173, 0), (255, 0, 20),
    (255, 184, 184), (0, 31, 255), (0, 255, 61), (0, 71, 255), (255, 0, 204), (0, 255, 194),
    (0, 255, 82), (0, 10, 255), (0, 112, 255), (51, 0, 255), (0, 194, 255), (0, 122, 255),
    (0, 255, 163), (255, 153, 0), (0, 255, 10), (255, 112, 0), (143, 255, 0), (82, 0, 255),
    (163, 255, 0), (255, 235, 0), (8, 184, 170), (133, 0, 255), (0, 255, 92), (184, 0, 255),
    (255, 0, 31), (0, 184, 255), (0, 214, 255), (255, 0, 112), (92, 255, 0), (0, 224, 255),
    (112, 224, 255), (70, 184, 160), (163, 0, 255), (153, 0, 255), (71, 255, 0), (255, 0, 163),
    (255, 204, 0), (255, 0, 143), (0, 255, 235), (133, 255, 0), (255, 0, 235), (245, 0, 255),
    (255, 0, 122), (255, 245, 0), (10, 190, 212), (214, 255, 0), (0, 204, 255), (20, 0, 255),
    (255, 255, 0), (0, 153, 255), (0, 41, 255), (0, 255, 204), (41, 0, 255), (41, 255, 0),
    (173, 0, 255), (0, 245, 255), (71, 0, 255), (122, 0, 255), (0, 255, 184), (0, 92, 255),
    (184, 255, 0), (0, 133, 255), (255, 214, 0), (25, 194, 194), (102, 255, 0), (92, 0, 255),
)  # fmt: skip
PALETTES = ("voc", "cityscapes")


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


def voc_colors(num_classes):
    """The PASCAL VOC colours of the first `num_classes` labels, as RGB tuples (the
    palette of a registry entry)."""
    return tuple(tuple(int(v) for v in color) for color in voc_palette(num_classes))


def cityscapes_colors(num_colors=19):
    """Official Cityscapes colours indexed by trainId.

    Args:
        num_colors: 19 for the evaluated classes; 256 gives a full palette where every
            other index (e.g. 255, void) is black, as in Cityscapes' colour images.

    Returns:
        uint8 array `num_colors`×3; entry 0 (road) is (128, 64, 128).
    """
    if num_colors not in (19, 256):
        raise ValueError(f"`num_colors` must be 19 or 256, received {num_colors!r}.")
    colors = np.zeros((num_colors, 3), np.uint8)
    colors[:19] = CITYSCAPES_COLORS
    return colors


def full_palette(palette="voc", other_color=None):
    """A 256×3 uint8 palette: one colour for every 8-bit label.

    Args:
        palette: `"voc"`, `"cityscapes"`, or an array of at most 256 RGB colours (a
            dataset's or model's `palette`).
        other_color: the colour of every label beyond the given colours (e.g. white for
            the 255 "ignore" band); None: those of the named palette, black after an
            array.
    """
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise ValueError(f"`palette` must be 'voc', 'cityscapes' or an array, received "
                             f"{palette!r}.")
        full = voc_palette() if palette == "voc" else cityscapes_colors(256)
        given = 256 if palette == "voc" else len(CITYSCAPES_COLORS)
    else:
        colors = np.asarray(palette)
        if colors.ndim != 2 or colors.shape[1] != 3 or not 1 <= len(colors) <= 256:
            raise ValueError(f"`palette` must be an array of at most 256 RGB colours (K×3), "
                             f"received shape {colors.shape}.")
        full = np.zeros((256, 3), np.uint8)
        full[: len(colors)] = np.clip(colors, 0, 255)
        given = len(colors)
    if other_color is not None:
        full[given:] = other_color
    return full


def label_map(labels, name="labels"):
    """`labels` (H×W or H×W×1 integer class ids in [0, 255]) as a uint8 H×W array; a
    clear error for any other input."""
    labels = np.asarray(labels)
    if labels.ndim == 3 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.ndim != 2:
        raise ValueError(f"`{name}` must be H×W or H×W×1 class ids, received shape "
                         f"{labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"`{name}` must hold integer class ids, received dtype "
                        f"{labels.dtype}; take the argmax of score maps first.")
    if labels.size and (labels.min() < 0 or labels.max() > 255):
        raise ValueError(f"`{name}` values must be in [0, 255], received "
                         f"[{labels.min()}, {labels.max()}].")
    return labels.astype(np.uint8)


def colorize(labels, palette="voc", other_color=None):
    """Class ids H×W[×1] → RGB uint8 H×W×3.

    Args:
        labels: integer class ids in [0, 255].
        palette, other_color: see `full_palette` (e.g. a dataset's palette with white
            for its ignore label).

    Example:
    >>> info = keras_lk.data.DATASETS["scenes"]
    >>> rgb = keras_lk.data.colorize(mask, info.palette, other_color=(255, 255, 255))
    """
    return full_palette(palette, other_color)[label_map(labels)]
