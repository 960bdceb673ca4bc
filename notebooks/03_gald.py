# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # GALD: global aggregation, then local distribution
#
# GALD (Li et al., BMVC 2019) starts from an observation: a global aggregation module
# (GA: non-local, CGNL, PSP pooling, ASPP) hands every position a summary dominated by
# the large patterns of the image, which over-smooths the small ones. Local Distribution
# (LD, `keras_lk.layers.LocalDistribution`, Eq. 1-2) learns one coarse spatial mask per
# channel and redistributes the GA features: F' = M ⊙ F + F with
# M = sigmoid(upsample(W_d F)), W_d a stack of stride-2 depthwise convolutions.
#
# This notebook trains a small `keras_lk.models.GALDNet` (CGNL + LD) on the built-in
# scenes with small objects inside large ones, looks at where its LD masks open
# (M → 1: the GA feature is passed on, doubled) and close (M → 0: only F itself), and then
# puts the GA modules side by side.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

IMAGE_SIZE = 32 if SMOKE else 128
HEAD_CHANNELS = 16 if SMOKE else 64
TRAIN_STEPS = 2 if SMOKE else 400          # about 1-3 minutes on 2 cores
STEPS_PER_EPOCH = 2 if SMOKE else 100
BATCH_SIZE = 2 if SMOKE else 16
NUM_TRAIN_IMAGES = 8 if SMOKE else 1200
NUM_MASK_IMAGES = 4 if SMOKE else 40      # test scenes the per-class mask means use
TIMING_REPEATS = 1 if SMOKE else 3

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: I001

import tempfile
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_lk.data import DATASETS, add_class_legend, colorize, normalize_image

WORK_DIR = tempfile.mkdtemp(prefix="keras_lk_gald_")
info = DATASETS["scenes_small_objects"]
CLASS_NAMES = list(info.class_names)
PALETTE = np.array(info.palette, np.uint8)
IGNORE_COLOUR = (255, 255, 255)  # the 255 "ignore" band (and any id without a class)
print(info.description)


# %% [markdown]
# ## 1. A small GALD-Net, trained
#
# The CPU-scale setting of `recipes/gald/` (`keras_lk.experiments.settings.GALD_SCENES`)
# with fewer steps: `resnet10_local` at output stride 8, CGNL then LD, an auxiliary res-4
# head (loss weight 0.4, which `GALDNet` owns), OHEM as GALD trains, and LD rate 2 (on the
# 16² map of a 128² crop, the paper's rate 8 would leave a 2×2 mask).
#
# As GALD fine-tunes a ResNet pretrained on ImageNet, the backbone starts from weights
# pretrained on a dense pretext task on other scenes (`backbone_weights="scenes"`,
# `keras_lk.experiments.scenes_pretext`); the GALD head is new. SGD fine-tunes the whole
# network with GALD's own settings (those of its public code, weight decay on every
# parameter included), read from `GALD_SCENES` so that this tutorial cannot drift from
# the recipe (the cell prints them).

# %%
from keras_lk.experiments.settings import GALD_SCENES, fine_tuning
from keras_lk.training import TrainConfig, train

recipe = fine_tuning(GALD_SCENES)
print("from GALD_SCENES:", recipe)

config = TrainConfig(
    output_dir=os.path.join(WORK_DIR, "gald"), model="gald",
    model_options={"ga": "cgnl", "ld": True, "arrangement": "gald",
                   "ld_downsample_rate": 2, "output_stride": 8, "aux_head": True,
                   "head_channels": HEAD_CHANNELS},
    backbone="resnet10_local", dataset="scenes_small_objects", image_size=IMAGE_SIZE,
    num_train_images=NUM_TRAIN_IMAGES, crop_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
    steps=TRAIN_STEPS, steps_per_epoch=STEPS_PER_EPOCH, loss="ohem", ohem_mode="gald",
    ohem_threshold=0.7, ohem_min_kept=round(100_000 * (IMAGE_SIZE / 769) ** 2),
    tensorboard=False, verbose=2, **recipe)
start = time.perf_counter()
model = train(config).model
print(f"trained {TRAIN_STEPS} steps in {time.perf_counter() - start:.0f} s; outputs "
      f"{model.output_names}, loss weights {model.output_loss_weights()}")

# %% [markdown]
# ## 2. The LD mask on a scene
#
# The layer named `"ld"` is called once in the graph, so its input F is a tensor of the
# functional model: a sub-model from the image to F gives F, and the layer's own
# `mask(F)` gives M, the map it multiplies F by (F' = M ⊙ F + F).

# %%
examples = list(info.load("test", num_images=NUM_MASK_IMAGES, image_size=IMAGE_SIZE)
                .as_numpy_iterator())
images = np.stack([e["image"] for e in examples])
labels = np.stack([e["segmentation_mask"][..., 0] for e in examples])

ld_layer = model.get_layer("ld")
to_ld_input = keras.Model(model.input, ld_layer.input)
features = to_ld_input(np.asarray(normalize_image(images.astype("float32"),
                                                  model.normalization)), training=False)
masks = np.asarray(ld_layer.mask(features, training=False))
print("F:", features.shape, "| mask range", masks.min().round(3), "to", masks.max().round(3))

# %%
scene = 0
mean_mask = masks[scene].mean(axis=-1)
spread = masks[scene].reshape(-1, masks.shape[-1]).std(axis=0)
channels = np.argsort(spread)[::-1][:3]                    # the channels that vary most
extent = (-0.5, IMAGE_SIZE - 0.5, IMAGE_SIZE - 0.5, -0.5)  # mask cells on image pixels

figure, axes = plt.subplots(1, 5, figsize=(19, 4.3))
axes[0].imshow(images[scene])
axes[0].set_title("test image")
axes[1].imshow(colorize(labels[scene], PALETTE, other_color=IGNORE_COLOUR))
axes[1].set_title("label")
panels = [("mean M over channels", mean_mask)] + [
    (f"M of channel {c}", masks[scene, ..., c]) for c in channels]
for axis, (title, mask) in zip(axes[2:], panels):
    axis.imshow(images[scene], alpha=0.35)
    shown = axis.imshow(mask, cmap="viridis", vmin=0, vmax=1, alpha=0.8, extent=extent)
    axis.contour(labels[scene] < 255, levels=[0.5], colors="white", linewidths=0.3,
                 extent=extent, origin="upper")
    axis.set_title(title)
figure.colorbar(shown, ax=axes[2:].tolist(), label="mask M (0 closed, 1 open)")
for axis in axes:
    axis.set_xlabel("column (px)")
axes[0].set_ylabel("row (px)")  # the same pixel rows in every panel
figure.suptitle(f"LocalDistribution masks at output stride 8 ({features.shape[1]}² cells), "
                "drawn over the scene")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
plt.show()

# %% [markdown]
# Per class: the mean mask over the test pixels of each class (labels sampled at the
# mask's resolution). GALD's argument predicts lower masks on the small classes (disc,
# square, drawn small only) than on the large shapes and the background, i.e. less of
# the over-smoothed global feature where patterns are small. A short training run may or
# may not show it; the recipe `recipes/gald/table1b_local_distribution.py --scale cpu`
# measures the mIoU side over 5-10 seeds.

# %%
stride = IMAGE_SIZE // features.shape[1]
coarse_labels = labels[:, stride // 2::stride, stride // 2::stride]
per_pixel = masks.mean(axis=-1)
class_means = [np.nanmean(per_pixel[coarse_labels == c]) if np.any(coarse_labels == c)
               else np.nan for c in range(len(CLASS_NAMES))]
figure, axis = plt.subplots(figsize=(8, 3.6))
axis.bar(CLASS_NAMES, class_means, color=PALETTE / 255, edgecolor="black")
axis.set(xlabel="class of the pixel", ylabel="mean LD mask M",
         title=f"Where LD opens, by class ({len(images)} test scenes)")
figure.tight_layout()
plt.show()
seen = [m for m in class_means if not np.isnan(m)]
print(f"class means from {min(seen):.3f} to {max(seen):.3f}: a spread of "
      f"{max(seen) - min(seen):.3f} (GALD's argument needs the small classes lower)")

# %% [markdown]
# ## 3. The GA modules side by side
#
# `GALDNet(ga=...)` takes any GA module of `keras_lk.models.gald_net.GA_MODULES` (GALD
# Table 1(a)): CGNL and non-local attend over all positions (on a 2×-downsampled map, as
# GALD's code), PSP pools at 1, 2, 3 and 6 bins, ASPP adds dilated branches and image
# pooling; `ga=None` is the FCN baseline. All see the whole image in theory. Here is what
# each costs on a `IMAGE_SIZE`² input, with and without LD (untrained models; speed is
# the median of a few eager forward passes here).

# %%
from keras_lk.utils import count_flops

rows = []
for ga in (None, "psp", "aspp", "nonlocal", "cgnl"):
    for ld in (False, True):
        candidate = keras_lk.models.GALDNet(
            len(CLASS_NAMES), backbone="resnet10_local", ga=ga, ld=ld,
            ld_downsample_rate=2, aux_head=False, head_channels=HEAD_CHANNELS)
        x = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), "float32")
        candidate(x)
        times = []
        for _ in range(TIMING_REPEATS):
            start = time.perf_counter()
            np.asarray(candidate(x))
            times.append(time.perf_counter() - start)
        rows.append({"ga": ga or "none (FCN)", "ld": ld, "params": candidate.count_params(),
                     "flops": count_flops(candidate, (IMAGE_SIZE, IMAGE_SIZE, 3)),
                     "ms": 1e3 * float(np.median(times))})
print(f"{'GA':<11} {'LD':<5} {'params':>9} {'GFLOPs':>7} {'ms':>7}")
for row in rows:
    print(f"{row['ga']:<11} {row['ld']!s:<5} {row['params']:>9,} "
          f"{row['flops'] / 1e9:>7.3f} {row['ms']:>7.1f}")

# %%
names = [row["ga"] for row in rows if not row["ld"]]
positions = np.arange(len(names))
figure, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for axis, key, ylabel in ((axes[0], "params", "parameters"),
                          (axes[1], "flops", "GFLOPs per image")):
    for offset, ld in ((-0.2, False), (0.2, True)):
        values = [row[key] / (1e9 if key == "flops" else 1) for row in rows
                  if row["ld"] == ld]
        axis.bar(positions + offset, values, width=0.4, label="with LD" if ld else "GA only")
    axis.set_xticks(positions, names)
    axis.set(xlabel="global aggregation module", ylabel=ylabel,
             title=f"GALD-Net heads, {IMAGE_SIZE}² input, head {HEAD_CHANNELS} channels")
    axis.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# LD costs almost nothing: log2(d) depthwise 3×3 kernels per channel (here one, d = 2).
# The GA modules differ far more, in both cost and what they aggregate; GALD's Table 1(a)
# reports that LD improves each of them on Cityscapes.
