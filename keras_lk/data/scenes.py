"""Built-in procedural scenes where only a large receptive field can classify a pixel.

GCN ("Large Kernel Matters", Peng et al., CVPR 2017, https://arxiv.org/abs/1703.02719)
argues that a pixel deep inside a large object is classified well only by a model whose
valid receptive field covers the object. These scenes make that argument observable in
CPU minutes, with no file to download:

- every foreground class is a *shape* (disc, square, triangle, cross, ring, star,
  crescent); interiors of all classes are drawn from one texture/colour distribution,
  so the class of an interior pixel is decidable only from the object's outline;
- object radii are uniform in `radius_range` (a fraction of the image size), from
  small objects to objects nearly as large as the image;
- backgrounds are textured (low-frequency blobs and grain) but unlike the striped
  object texture, so finding objects is local while naming them is global (GCN's
  localisation vs classification); objects occlude one another (larger objects are
  drawn first);
- as in PASCAL VOC, a band of `ignore_label` (255) marks the object boundaries;
- optionally (`SceneConfig.small_objects_per_image`), small objects drawn on top of the
  large ones, and classes restricted to large or small objects or made rare
  (`large_classes`, `small_classes`, `class_frequencies`): the variants registered as
  ``scenes_small_objects`` (GALD: global aggregation over-smooths small objects inside
  large regions) and ``scenes_rare_classes`` (FCRN: bootstrapping helps rare, small
  classes among common large ones). With the defaults, no small object is drawn and
  the scenes are exactly those of earlier versions.

Image `i` of split `s` is generated from `numpy.random.SeedSequence([seed, s, i])`, so a
scene depends only on `(seed, split, index)` and the configuration: train, val and test
never share a random stream, and a longer split starts with the same images as a
shorter one.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from keras_lk._moved import moved_attributes
from keras_lk.data.dataset_info import DatasetInfo
from keras_lk.data.palettes import voc_colors
from keras_lk.utils.label_maps import label_change_band

SHAPES = ("disc", "square", "triangle", "cross", "ring", "star", "crescent")
"""Shape of class `c` (1-based; 0 is the background) is `SHAPES[c - 1]`."""

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
SMALL_PLACEMENTS = ("anywhere", "on_large")
DEFAULT_SPLIT_SIZES = {"train": 1200, "val": 200, "test": 200}


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """Configuration of the built-in large-object scenes.

    Args:
        image_size: side of the square images, in pixels (≥ 16).
        num_classes: number of classes including the background (class 0); classes
            `1..num_classes-1` are the first shapes of `SHAPES`. 2 to 8.
        radius_range: `(min, max)` object radius as a fraction of `image_size`,
            `0 < min ≤ max ≤ 0.5`. The radius is the shape's circumradius.
        objects_per_image: `(min, max)` number of objects per image, inclusive.
        boundary_width: pixels within this Chebyshev distance of a label change are
            set to `ignore_label`; 0 disables the band.
        ignore_label: value of the boundary band.
        noise_std: standard deviation of the per-pixel Gaussian noise (0..255 scale).
        large_classes: the classes the (large) objects of `objects_per_image` may take,
            distinct integers in `[1, num_classes - 1]`; None: every foreground class.
        small_objects_per_image: `(min, max)` number of small objects per image,
            inclusive, `0 ≤ min ≤ max`; `(0, 0)` (default) draws none. Small objects
            are drawn after (on top of) the large ones, smallest last.
        small_radius_range: `(min, max)` radius of the small objects as a fraction of
            `image_size`, `0 < min ≤ max ≤ 0.5`.
        small_classes: the classes small objects may take, as `large_classes`; None:
            every foreground class. Classes in `small_classes` but not in
            `large_classes` are drawn small only.
        small_placement: where a small object's centre lies: `"anywhere"` (uniform
            over the image, as the large objects) or `"on_large"` (a uniformly drawn
            pixel of a large object, so that small objects sit inside and across the
            outlines of large regions; anywhere when the image has none).
        class_frequencies: relative frequency of each foreground class `1..num_classes-1`
            (one number ≥ 0 per class) when a class is drawn for an object, among the
            classes that object may take (`large_classes` or `small_classes`); None:
            uniform. Every allowed set must have a positive total.
    """

    image_size: int = 128
    num_classes: int = 6
    radius_range: tuple[float, float] = (0.1, 0.45)
    objects_per_image: tuple[int, int] = (1, 3)
    boundary_width: int = 1
    ignore_label: int = 255
    noise_std: float = 8.0
    large_classes: tuple[int, ...] | None = None
    small_objects_per_image: tuple[int, int] = (0, 0)
    small_radius_range: tuple[float, float] = (0.06, 0.1)
    small_classes: tuple[int, ...] | None = None
    small_placement: str = "anywhere"
    class_frequencies: tuple[float, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.image_size, (int, np.integer)) or self.image_size < 16:
            raise ValueError(f"`image_size` must be an integer ≥ 16, received {self.image_size!r}.")
        if not 2 <= self.num_classes <= len(SHAPES) + 1:
            raise ValueError(
                f"`num_classes` must be in [2, {len(SHAPES) + 1}] (background + shapes "
                f"{SHAPES}), received {self.num_classes!r}."
            )
        low, high = self.radius_range
        if not 0 < low <= high <= 0.5:
            raise ValueError(
                "`radius_range` must be (min, max) fractions of the image size with "
                f"0 < min ≤ max ≤ 0.5, received {self.radius_range!r}."
            )
        low, high = self.objects_per_image
        if not 1 <= low <= high:
            raise ValueError(
                "`objects_per_image` must be (min, max) with 1 ≤ min ≤ max, received "
                f"{self.objects_per_image!r}."
            )
        if self.boundary_width < 0:
            raise ValueError(f"`boundary_width` must be ≥ 0, received {self.boundary_width!r}.")
        if not self.num_classes <= self.ignore_label <= 255:
            raise ValueError(
                f"`ignore_label` must be in [num_classes, 255], received {self.ignore_label!r}."
            )
        low, high = self.small_objects_per_image
        if not (_is_int(low) and _is_int(high) and 0 <= low <= high):
            raise ValueError(
                "`small_objects_per_image` must be (min, max) integers with 0 ≤ min ≤ max, "
                f"received {self.small_objects_per_image!r}."
            )
        low, high = self.small_radius_range
        if not 0 < low <= high <= 0.5:
            raise ValueError(
                "`small_radius_range` must be (min, max) fractions of the image size with "
                f"0 < min ≤ max ≤ 0.5, received {self.small_radius_range!r}."
            )
        for field in ("large_classes", "small_classes"):
            value = getattr(self, field)
            if value is None:
                continue
            value = tuple(value)
            if (not value or len(set(value)) != len(value)
                    or not all(_is_int(c) and 1 <= c < self.num_classes for c in value)):
                raise ValueError(
                    f"`{field}` must be None or distinct integers in [1, "
                    f"{self.num_classes - 1}] (the foreground classes), received {value!r}."
                )
            object.__setattr__(self, field, value)
        if self.small_placement not in SMALL_PLACEMENTS:
            raise ValueError(
                f"`small_placement` must be one of {SMALL_PLACEMENTS}, received "
                f"{self.small_placement!r}."
            )
        if self.class_frequencies is not None:
            frequencies = tuple(self.class_frequencies)
            if (len(frequencies) != self.num_classes - 1
                    or not all(isinstance(f, (int, float, np.number)) and f >= 0
                               for f in frequencies)):
                raise ValueError(
                    f"`class_frequencies` must be None or {self.num_classes - 1} numbers ≥ 0 "
                    f"(one per foreground class), received {self.class_frequencies!r}."
                )
            object.__setattr__(self, "class_frequencies", frequencies)
            drawn = [("large_classes", self.large_classes)]
            if self.small_objects_per_image[1] > 0:
                drawn.append(("small_classes", self.small_classes))
            for field, allowed in drawn:
                allowed = allowed or range(1, self.num_classes)
                if not sum(frequencies[c - 1] for c in allowed) > 0:
                    raise ValueError(
                        f"`class_frequencies` {frequencies!r} give the classes of "
                        f"`{field}` ({tuple(allowed)}) a total frequency of 0."
                    )

    @property
    def class_names(self) -> tuple[str, ...]:
        """`("background", "disc", ...)`, one name per class."""
        return ("background",) + SHAPES[: self.num_classes - 1]


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-test of a unit-circumradius shape in its own (rotated) coordinates."""
    rho2 = u * u + v * v
    if shape == "disc":
        return rho2 <= 1.0
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.75
    if shape == "triangle":
        inside = np.ones_like(u, dtype=bool)
        for k in range(3):
            angle = np.pi / 2 + 2 * np.pi * k / 3
            inside &= u * np.cos(angle) + v * np.sin(angle) <= 0.5
        return inside
    if shape == "cross":
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.3) & (av <= 0.95)) | ((av <= 0.3) & (au <= 0.95))
    if shape == "ring":
        return (rho2 <= 1.0) & (rho2 >= 0.55**2)
    if shape == "star":
        phi = np.arctan2(v, u)
        return np.sqrt(rho2) <= 0.6 + 0.4 * np.cos(5 * phi)
    if shape == "crescent":
        return (rho2 <= 1.0) & ((u - 0.55) ** 2 + v * v > 0.8**2)
    raise ValueError(f"Unknown shape {shape!r}; expected one of {SHAPES}.")


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Bilinearly upsampled `cells`×`cells` uniform noise in [-1, 1], shape size×size."""
    grid = rng.uniform(-1.0, 1.0, size=(cells, cells))
    position = np.linspace(0, cells - 1, size)
    lower = np.minimum(position.astype(int), cells - 2)
    weight = position - lower
    interp = np.zeros((size, cells))
    interp[np.arange(size), lower] = 1 - weight
    interp[np.arange(size), lower + 1] = weight
    return interp @ grid @ interp.T


def _texture(rng, xx, yy, colour, size):
    """One sample of the texture distribution shared by every class: colour + stripes."""
    angle = rng.uniform(0, np.pi)
    frequency = rng.uniform(2.0, 10.0) / size
    phase = rng.uniform(0, 2 * np.pi)
    amplitude = rng.uniform(10.0, 40.0)
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction) + 1e-6
    stripes = np.sin(2 * np.pi * frequency * (xx * np.cos(angle) + yy * np.sin(angle)) + phase)
    return colour + amplitude * stripes[..., None] * direction


def _draw_classes(rng, config, allowed, count):
    """`count` classes among `allowed` (None: every foreground class), drawn with
    `config.class_frequencies`; the default (uniform over every class) keeps the random
    stream of earlier versions."""
    if allowed is None and config.class_frequencies is None:
        return rng.integers(1, config.num_classes, size=count)
    allowed = np.arange(1, config.num_classes) if allowed is None else np.asarray(allowed)
    if config.class_frequencies is None:
        return rng.choice(allowed, size=count)
    weights = np.asarray(config.class_frequencies, dtype=float)[allowed - 1]
    return rng.choice(allowed, size=count, p=weights / weights.sum())


def _draw_object(rng, config, xx, yy, centre, radius, shape, contrast_to):
    """Inside-mask and texture of one object; its colour keeps a visible contrast to
    every colour of `contrast_to` (the background, and what lies under its centre)."""
    cx, cy = centre
    theta = rng.uniform(0, 2 * np.pi)
    dx, dy = (xx - cx) / radius, (yy - cy) / radius
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    inside = _shape_mask(shape, u, v)
    # Same colour distribution for every class; keep a visible contrast so that the
    # outline is always observable.
    candidates = rng.uniform(40.0, 215.0, size=(8, 3))
    far = np.ones(len(candidates), dtype=bool)
    for colour in contrast_to:
        far &= np.linalg.norm(candidates - colour, axis=1) >= 60.0
    colour = candidates[np.argmax(far)]
    return inside, colour, _texture(rng, xx, yy, colour, config.image_size)


def generate_scene(config: SceneConfig, seed: int, split: str, index: int):
    """Generates one scene.

    Args:
        config: a `SceneConfig`.
        seed: base seed of the dataset.
        split: `"train"`, `"val"` or `"test"`.
        index: index of the image in its split.

    Returns:
        `(image, mask, objects)`: `image` uint8 H×W×3, `mask` uint8 H×W×1 (class ids and
        `ignore_label`), `objects` a float32 array with one row `(class, radius_px,
        visible_pixels)` per object (the large ones, then the small ones, each largest
        first), `visible_pixels` counted before the boundary band.
    """
    if split not in SPLIT_CODES:
        raise ValueError(f"`split` must be one of {tuple(SPLIT_CODES)}, received {split!r}.")
    rng = np.random.default_rng(np.random.SeedSequence([seed, SPLIT_CODES[split], index]))
    size = config.image_size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    # The background has a texture family of its own (low-frequency blobs and grain, no
    # stripes): object vs background is decidable locally, which class an object is is
    # not (all classes share the striped texture below).
    background_colour = rng.uniform(40.0, 215.0, size=3)
    image = background_colour + 40.0 * _smooth_noise(rng, size, 6)[..., None] * rng.normal(size=3) / 1.7
    image += rng.normal(0.0, 2 * config.noise_std, size=image.shape)
    label = np.zeros((size, size), dtype=np.uint8)
    owner = np.full((size, size), -1, dtype=np.int32)

    num_objects = rng.integers(config.objects_per_image[0], config.objects_per_image[1] + 1)
    classes = _draw_classes(rng, config, config.large_classes, num_objects)
    radii = rng.uniform(*config.radius_range, size=num_objects) * size
    order = np.argsort(-radii, kind="stable")  # large first: small objects occlude them
    classes, radii = classes[order], radii[order]
    colours = []
    for k, (cls, radius) in enumerate(zip(classes, radii)):
        margin = min(radius, size / 2) * 0.5
        centre = rng.uniform(margin, size - margin, size=2)
        inside, colour, texture = _draw_object(rng, config, xx, yy, centre, radius,
                                               SHAPES[cls - 1], [background_colour])
        image[inside] = texture[inside]
        label[inside] = cls
        owner[inside] = k
        colours.append(colour)

    if config.small_objects_per_image[1] > 0:  # (0, 0) keeps the earlier random stream
        low, high = config.small_objects_per_image
        num_small = rng.integers(low, high + 1)
        small_classes = _draw_classes(rng, config, config.small_classes, num_small)
        small_radii = rng.uniform(*config.small_radius_range, size=num_small) * size
        order = np.argsort(-small_radii, kind="stable")
        small_classes, small_radii = small_classes[order], small_radii[order]
        on_large = np.flatnonzero(owner >= 0)  # the large objects' pixels, before any small
        for j, (cls, radius) in enumerate(zip(small_classes, small_radii)):
            if config.small_placement == "on_large" and len(on_large):
                pixel = on_large[rng.integers(len(on_large))]
                centre = np.array([pixel % size, pixel // size], dtype=np.float64)
                contrast_to = [background_colour, colours[owner.flat[pixel]]]  # what is there now
            else:
                margin = radius * 0.5
                centre = rng.uniform(margin, size - margin, size=2)
                contrast_to = [background_colour]
            inside, colour, texture = _draw_object(rng, config, xx, yy, centre, radius,
                                                   SHAPES[cls - 1], contrast_to)
            image[inside] = texture[inside]
            label[inside] = cls
            owner[inside] = num_objects + j
            colours.append(colour)
        classes = np.concatenate([classes, small_classes])
        radii = np.concatenate([radii, small_radii])

    visible = np.bincount(owner[owner >= 0], minlength=len(classes))[:len(classes)]
    image += rng.normal(0.0, config.noise_std, size=image.shape)
    band = label_change_band(label, config.boundary_width)
    label[band] = config.ignore_label
    objects = np.stack([classes, radii, visible], axis=1).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8), label[..., None], objects


def large_object_scenes_numpy(
    split: str = "train",
    num_images: int | None = None,
    seed: int = 0,
    config: SceneConfig | None = None,
    return_objects: bool = False,
):
    """Built-in large-object scenes as NumPy arrays.

    Args:
        split: `"train"`, `"val"` or `"test"`; splits never share a random stream.
        num_images: number of images; defaults to `DEFAULT_SPLIT_SIZES[split]`
            (1,200 / 200 / 200).
        seed: base seed; the same `(seed, split, config)` always gives the same images.
        config: a `SceneConfig` (default: 128×128, background + 5 shapes).
        return_objects: also return the per-object metadata of `generate_scene`.

    Returns:
        `(images, masks)`: uint8 arrays N×H×W×3 and N×H×W×1; with `return_objects`, a
        third element, the list of per-image object arrays. Fresh arrays each call; the
        generated split is kept for the next call with the same arguments in this
        process (`_generated`), as a table's runs ask for the same splits run after run.

    Example:
    >>> images, masks = keras_lk.data.large_object_scenes_numpy("val", num_images=4)
    >>> images.shape, masks.shape
    ((4, 128, 128, 3), (4, 128, 128, 1))
    """
    config = config or SceneConfig()
    if split not in SPLIT_CODES:
        raise ValueError(f"`split` must be one of {tuple(SPLIT_CODES)}, received {split!r}.")
    num_images = DEFAULT_SPLIT_SIZES[split] if num_images is None else num_images
    if num_images < 0:
        raise ValueError(f"`num_images` must be ≥ 0, received {num_images!r}.")
    images, masks, objects = _generated(split, num_images, seed, config)
    if return_objects:
        return images.copy(), masks.copy(), [obj.copy() for obj in objects]
    return images.copy(), masks.copy()


@functools.lru_cache(maxsize=4)
def _generated(split, num_images, seed, config):
    """The split's images, masks and objects (kept: callers get copies)."""
    size = config.image_size
    images = np.empty((num_images, size, size, 3), dtype=np.uint8)
    masks = np.empty((num_images, size, size, 1), dtype=np.uint8)
    objects = []
    for i in range(num_images):
        images[i], masks[i], obj = generate_scene(config, seed, split, i)
        objects.append(obj)
    return images, masks, objects


def large_object_scenes(
    split: str = "train",
    num_images: int | None = None,
    seed: int = 0,
    config: SceneConfig | None = None,
):
    """Built-in large-object scenes as a `tf.data.Dataset` of examples.

    The examples have the same keys as the TFDS builders of `keras_lk.data`, so the
    pipelines of `keras_lk.data.pipeline` accept both.

    Args:
        split: `"train"`, `"val"` or `"test"`.
        num_images: number of images; defaults to `DEFAULT_SPLIT_SIZES[split]`.
        seed: base seed.
        config: a `SceneConfig`.

    Returns:
        A `tf.data.Dataset` of dicts `{"image": uint8 H×W×3, "segmentation_mask":
        uint8 H×W×1, "file_name": string}`; the arrays are generated eagerly and held
        in memory (1,200 images of 128² take 79 MB).

    Example:
    >>> ds = keras_lk.data.large_object_scenes("train", num_images=8)
    >>> sorted(next(iter(ds)).keys())
    ['file_name', 'image', 'segmentation_mask']
    """
    import tensorflow as tf

    images, masks = large_object_scenes_numpy(split, num_images, seed, config)
    names = [f"scene_{split}_seed{seed}_{i:06d}" for i in range(len(images))]
    return tf.data.Dataset.from_tensor_slices(
        {"image": images, "segmentation_mask": masks, "file_name": names}
    )


# === The registered variants: a preset `SceneConfig` each (`image_size` is the loader's) ===
# GALD (Table 1(b), 1(e)): global aggregation is dominated by large patterns and
# over-smooths small ones (GALD Sec. 1, Fig. 1). Large objects of five shapes (triangle,
# cross, ring, star, crescent; radius 0.2-0.45 of the image: 51-115 px across at 128²)
# carry 2-5 small objects per image (radius 0.06-0.1: 15-26 px across, 2-3 cells of a
# stride-8 score map), centred on a large object's pixels, of two classes drawn small
# only (disc, square: compact shapes whose outline survives the boundary band at that
# size). A small object is recognisable from its own outline, and its neighbourhood is
# a large region of another class: the pattern a global aggregate is dominated by.
SMALL_OBJECT_SCENES = SceneConfig(
    num_classes=8, radius_range=(0.2, 0.45), objects_per_image=(1, 3),
    large_classes=(3, 4, 5, 6, 7), small_objects_per_image=(2, 5),
    small_radius_range=(0.06, 0.1), small_classes=(1, 2), small_placement="on_large",
)

# FCRN (Table 4, Tables 5-6): bootstrapping helps the classes that are rare in the
# training data, whose hard pixels are drowned by the easy ones of large regions (FCRN
# Sec. 3.3, 4.5). The large objects of the plain scenes (radius 0.1-0.45: 26-115 px
# across at 128²), of five shapes with frequencies 3:3:2:1:1, and 0-2 small objects per
# image anywhere (radius 0.06-0.1) of two classes drawn small only (disc, square): each
# rare class covers under 1% of the labelled pixels, each common class several %, the
# background about two thirds.
RARE_CLASS_SCENES = SceneConfig(
    num_classes=8, radius_range=(0.1, 0.45), objects_per_image=(1, 3),
    large_classes=(3, 4, 5, 6, 7), class_frequencies=(1, 1, 3, 3, 2, 1, 1),
    small_objects_per_image=(0, 2), small_radius_range=(0.06, 0.1), small_classes=(1, 2),
)


# The pretext task of the "scenes" backbone weights (`keras_lk.experiments.scenes_pretext`),
# the CPU-scale stand-in for ImageNet: segmentation of all seven shapes, small to large
# (radius 0.06-0.45: 15-115 px across at 128²), 1-4 objects per image, drawn from the
# random stream of base seed `PRETEXT_SEED`. Every other dataset of this module draws
# from base seed 0, so no pretext image is an image of their train, val or test splits.
PRETEXT_SCENES = SceneConfig(
    num_classes=8, radius_range=(0.06, 0.45), objects_per_image=(1, 4),
)
PRETEXT_SEED = 1


def _scene_loader(preset, default_size, seed=0):
    """The registry loader of the scenes generated with `preset` at `image_size`."""

    def load(split, *, data_dir, manual_dir, num_images, image_size, shuffle_files):
        del data_dir, manual_dir, shuffle_files  # generated in memory; the pipeline shuffles
        config = dataclasses.replace(preset, image_size=image_size or default_size)
        return large_object_scenes(split, num_images=num_images, seed=seed, config=config)

    return load


def _dataset(name, preset, default_size, description, seed=0):
    return DatasetInfo(
        name=name,
        num_classes=preset.num_classes,
        class_names=preset.class_names,
        splits=tuple(DEFAULT_SPLIT_SIZES),
        train_split="train",
        eval_split="val",
        loader=_scene_loader(preset, default_size, seed),
        ignore_label=preset.ignore_label,
        palette=voc_colors(preset.num_classes),
        needs_data_dir=False,
        description=description,
    )


DATASET = _dataset(
    "scenes", SceneConfig(), 64,
    "built-in large-object scenes (generated, no files; image_size default 64)")

SMALL_OBJECTS_DATASET = _dataset(
    "scenes_small_objects", SMALL_OBJECT_SCENES, 128,
    "built-in scenes with 2-5 small objects (classes disc, square) on large shapes "
    "(GALD's small patterns inside large regions; image_size default 128)")

RARE_CLASSES_DATASET = _dataset(
    "scenes_rare_classes", RARE_CLASS_SCENES, 128,
    "built-in scenes with two rare, small classes (disc, square) among common large "
    "shapes (FCRN's bootstrapping regime; image_size default 128)")

PRETEXT_DATASET = _dataset(
    "scenes_pretext", PRETEXT_SCENES, 128,
    "built-in scenes of all seven shapes, 15-115 px across, from a random stream no other "
    "scene dataset uses: the pretext task of the 'scenes' backbone weights (image_size "
    "default 128)", seed=PRETEXT_SEED)


__getattr__ = moved_attributes(__name__)
