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
- as in PASCAL VOC, a band of `ignore_label` (255) marks the object boundaries.

Image `i` of split `s` is generated from `numpy.random.SeedSequence([seed, s, i])`, so a
scene depends only on `(seed, split, index)` and the configuration: train, val and test
never share a random stream, and a longer split starts with the same images as a
shorter one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_lk.data.dataset_info import DatasetInfo, voc_colors

SHAPES = ("disc", "square", "triangle", "cross", "ring", "star", "crescent")
"""Shape of class `c` (1-based; 0 is the background) is `SHAPES[c - 1]`."""

SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
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
    """

    image_size: int = 128
    num_classes: int = 6
    radius_range: tuple[float, float] = (0.1, 0.45)
    objects_per_image: tuple[int, int] = (1, 3)
    boundary_width: int = 1
    ignore_label: int = 255
    noise_std: float = 8.0

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

    @property
    def class_names(self) -> tuple[str, ...]:
        """`("background", "disc", ...)`, one name per class."""
        return ("background",) + SHAPES[: self.num_classes - 1]


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


def _boundary_band(label: np.ndarray, width: int) -> np.ndarray:
    """Pixels within Chebyshev distance `width` of a pixel with a different label."""
    band = np.zeros(label.shape, dtype=bool)
    if width == 0:
        return band
    padded = np.pad(label, width, mode="edge")
    h, w = label.shape
    for dy in range(-width, width + 1):
        for dx in range(-width, width + 1):
            if dy or dx:
                shifted = padded[width + dy : width + dy + h, width + dx : width + dx + w]
                band |= shifted != label
    return band


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
        visible_pixels)` per object, `visible_pixels` counted before the boundary band.
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
    classes = rng.integers(1, config.num_classes, size=num_objects)
    radii = rng.uniform(*config.radius_range, size=num_objects) * size
    order = np.argsort(-radii, kind="stable")  # large first: small objects occlude them
    classes, radii = classes[order], radii[order]
    for k, (cls, radius) in enumerate(zip(classes, radii)):
        margin = min(radius, size / 2) * 0.5
        cx, cy = rng.uniform(margin, size - margin, size=2)
        theta = rng.uniform(0, 2 * np.pi)
        dx, dy = (xx - cx) / radius, (yy - cy) / radius
        u = dx * np.cos(theta) + dy * np.sin(theta)
        v = -dx * np.sin(theta) + dy * np.cos(theta)
        inside = _shape_mask(SHAPES[cls - 1], u, v)
        # Same colour distribution for every class; keep a visible contrast to the
        # background so that the outline is always observable.
        candidates = rng.uniform(40.0, 215.0, size=(8, 3))
        far = np.linalg.norm(candidates - background_colour, axis=1) >= 60.0
        colour = candidates[np.argmax(far)]
        texture = _texture(rng, xx, yy, colour, size)
        image[inside] = texture[inside]
        label[inside] = cls
        owner[inside] = k

    visible = np.bincount(owner[owner >= 0], minlength=num_objects)[:num_objects]
    image += rng.normal(0.0, config.noise_std, size=image.shape)
    band = _boundary_band(label, config.boundary_width)
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
        third element, the list of per-image object arrays.

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
    size = config.image_size
    images = np.empty((num_images, size, size, 3), dtype=np.uint8)
    masks = np.empty((num_images, size, size, 1), dtype=np.uint8)
    objects = []
    for i in range(num_images):
        images[i], masks[i], obj = generate_scene(config, seed, split, i)
        objects.append(obj)
    if return_objects:
        return images, masks, objects
    return images, masks


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


def boundary_region(mask: np.ndarray, distance: int = 7, ignore_label: int = 255):
    """Splits pixels into boundary / internal regions as in GCN Table 5.

    Args:
        mask: integer label array H×W or H×W×1 (or a batch N×H×W[×1]).
        distance: a pixel is "boundary" if a pixel with another label (the void band
            counts as its own label) lies within this Chebyshev distance; GCN uses 7.
        ignore_label: pixels with this value are in neither region.

    Returns:
        `(boundary, internal)`: boolean arrays with the shape of `mask`.
    """
    mask = np.asarray(mask)
    squeeze = mask.shape[-1] == 1 and mask.ndim in (3, 4)
    labels = mask[..., 0] if squeeze else mask
    flat = labels.reshape((-1,) + labels.shape[-2:])
    near = np.stack([_boundary_band(m, distance) for m in flat]).reshape(labels.shape)
    valid = labels != ignore_label
    boundary, internal = near & valid, ~near & valid
    if squeeze:
        boundary, internal = boundary[..., None], internal[..., None]
    return boundary, internal


def _load_scenes(split, *, data_dir, manual_dir, num_images, image_size, shuffle_files):
    del data_dir, manual_dir, shuffle_files  # generated in memory; the pipeline shuffles
    return large_object_scenes(split, num_images=num_images,
                               config=SceneConfig(image_size=image_size or 64))


DATASET = DatasetInfo(
    name="scenes",
    num_classes=SceneConfig().num_classes,
    class_names=SceneConfig().class_names,
    splits=tuple(DEFAULT_SPLIT_SIZES),
    train_split="train",
    eval_split="val",
    loader=_load_scenes,
    ignore_label=SceneConfig().ignore_label,
    palette=voc_colors(SceneConfig().num_classes),
    needs_data_dir=False,
    description="built-in large-object scenes (generated, no files; image_size default 64)",
)

