# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # FCRN: field of view, online bootstrapping, high-resolution simulation
#
# FCRN (Wu, Shen, van den Hengel, 2016) trains very deep residual networks for
# segmentation with three ideas, one section each here:
#
# 1. the classifier's **field of view** (FoV), set by one dilated k×k convolution on
#    res-5 (`keras_lk.models.fcrn.fcrn_field_of_view`, Tables 1-2);
# 2. **online bootstrapping** of hard pixels (`keras_lk.losses.OHEMLoss`, Sec. 3.3): which
#    pixels does the loss keep?
# 3. **high-resolution simulation** (`keras_lk.models.HighResolutionSimulation`, Fig. 1):
#    a stride-s network run on shifted copies of the image gives a stride-s/2 score map.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

IMAGE_SIZE = 32 if SMOKE else 128
TRAIN_STEPS = 2 if SMOKE else 1200         # about 2 minutes on 2 cores
STEPS_PER_EPOCH = 2 if SMOKE else 100
BATCH_SIZE = 2 if SMOKE else 16
NUM_TRAIN_IMAGES = 8 if SMOKE else 1200
NUM_TEST_IMAGES = 4 if SMOKE else 50
MIN_KEPT = 64 if SMOKE else 512            # FCRN Table 4's best K

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: I001

import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from keras_lk.data import DATASETS, add_class_legend, colorize, normalize_image
from keras_lk.models.fcrn import fcrn_field_of_view

WORK_DIR = tempfile.mkdtemp(prefix="keras_lk_fcrn_")
info = DATASETS["scenes_rare_classes"]
CLASS_NAMES = list(info.class_names)
PALETTE = np.array(info.palette, np.uint8)
IGNORE_COLOUR = (255, 255, 255)  # the 255 "ignore" band (and any id without a class)
print(info.description)


# %% [markdown]
# ## 1. Field of view
#
# FoV = output_stride × ((k − 1) × dilation + 1) input pixels. FCRN's Tables 1 and 2 vary
# the resolution (1/8, 1/16), k and the dilation; the table below recomputes their FoV
# column, and the figure shows how the FoV grows, against the 500 px of a VOC image.

# %%
for stride, k, d in ((8, 3, 6), (8, 5, 12), (16, 3, 6), (16, 5, 12), (8, 7, 18)):
    print(f"resolution 1/{stride:<2}  k={k}  dilation={d:<2}  FoV {fcrn_field_of_view(stride, k, d):>4} px")

dilations = np.arange(1, 25)
figure, axis = plt.subplots(figsize=(7, 4))
for stride, style in ((8, "-"), (16, "--")):
    for k in (3, 5, 7):
        axis.plot(dilations, [fcrn_field_of_view(stride, k, d) for d in dilations], style,
                  label=f"1/{stride}, k={k}")
axis.axhline(500, color="grey", linestyle=":", label="VOC image side (500 px)")
axis.set(xlabel="classifier dilation", ylabel="field of view (px)",
         title="FCRN classifier field of view", yscale="log")
axis.legend(ncol=2, fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# A CPU-sized FCRN for the built-in scenes: `resnet10_local` at output stride 8 with a
# 3×3 classifier of dilation 4, FoV = 8 × (2 × 4 + 1) = 72 px, drawn over a scene.

# %%
OUTPUT_STRIDE, KERNEL, DILATION = 8, 3, 4
examples = list(info.load("test", num_images=NUM_TEST_IMAGES, image_size=IMAGE_SIZE)
                .as_numpy_iterator())
images = np.stack([e["image"] for e in examples])
labels = np.stack([e["segmentation_mask"][..., 0] for e in examples])

fov = fcrn_field_of_view(OUTPUT_STRIDE, KERNEL, DILATION)
figure, axis = plt.subplots(figsize=(4.5, 4.5))
axis.imshow(images[0])
centre = IMAGE_SIZE / 2
axis.add_patch(Rectangle((centre - fov / 2, centre - fov / 2), fov, fov, fill=False,
                         edgecolor="cyan", linewidth=1.5, label=f"FoV {fov} px"))
axis.plot([centre], [centre], "c+", markersize=12)
axis.set(xlabel="column (px)", ylabel="row (px)", title="Classifier FoV of the centre pixel",
         xlim=(-0.5, IMAGE_SIZE - 0.5), ylim=(IMAGE_SIZE - 0.5, -0.5))
axis.legend(loc="lower right")
figure.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Online bootstrapping: which pixels does OHEM keep?
#
# We first train that FCRN with plain cross-entropy on the scenes with rare,
# small classes (FCRN's regime: the rare classes' hard pixels drown among the easy
# pixels of large regions).
#
# As FCRN fine-tunes ResNets pretrained on ImageNet, the backbone starts from weights
# pretrained on a dense pretext task on other scenes (`backbone_weights="scenes"`,
# `keras_lk.experiments.scenes_pretext`), with its BatchNorm statistics fixed at their
# pretrained values (FCRN Sec. 3.2); the classifier is new. The starting weights and the
# SGD settings are those of the CPU-scale FCRN recipe, read from
# `keras_lk.experiments.settings.FCRN_SCENES` (the cell prints them); the recipe trains
# for more steps.

# %%
from keras_lk.experiments.settings import FCRN_SCENES, fine_tuning
from keras_lk.training import TrainConfig, train

recipe = fine_tuning(FCRN_SCENES)
print("from FCRN_SCENES:", recipe)

config = TrainConfig(
    output_dir=os.path.join(WORK_DIR, "fcrn"), model="fcrn",
    model_options={"output_stride": OUTPUT_STRIDE, "kernel_size": KERNEL,
                   "dilation": DILATION},
    backbone="resnet10_local", dataset="scenes_rare_classes", image_size=IMAGE_SIZE,
    num_train_images=NUM_TRAIN_IMAGES, crop_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
    steps=TRAIN_STEPS, steps_per_epoch=STEPS_PER_EPOCH, tensorboard=False, verbose=2,
    **recipe)
model = train(config).model
print(f"{model.name}: field of view {model.field_of_view} px")

# %% [markdown]
# `OHEMLoss` keeps a valid pixel when its true-class probability p is small:
#
# - `mode="fcrn"`: p < threshold, or p among the `min_kept` smallest of the image
#   (with threshold 0: exactly the K hardest pixels, FCRN Table 4);
# - `mode="gald"`: p ≤ max(threshold, the `min_kept`-th smallest p).
#
# `OHEMLoss.kept_pixels(labels, logits)` returns the pixels the loss averages over; the
# loss is the mean cross-entropy over them, which the cell checks.

# %%
from keras_lk.losses import OHEMLoss

inputs = np.asarray(normalize_image(images[:2].astype("float32"), model.normalization))
logits = np.asarray(model(inputs, training=False), np.float32)
batch_labels = labels[:2].astype(np.int64)
valid = batch_labels != model.ignore_label
log_probs = logits - logits.max(-1, keepdims=True)
log_probs -= np.log(np.exp(log_probs).sum(-1, keepdims=True))
true_log_prob = np.take_along_axis(log_probs, np.where(valid, batch_labels, 0)[..., None],
                                   -1)[..., 0]
prob = np.exp(true_log_prob)

settings = {"FCRN, t=0, K hardest": ("fcrn", 0.0), "GALD, t=0.7": ("gald", 0.7)}
kept = {}
for name, (mode, threshold) in settings.items():
    loss = OHEMLoss(mode=mode, threshold=threshold, min_kept=MIN_KEPT)
    kept[name] = np.asarray(loss.kept_pixels(batch_labels, logits))
    mean_kept = float(-true_log_prob[kept[name]].mean())
    value = float(loss(batch_labels, logits))
    print(f"{name}: keeps {kept[name].sum(axis=(1, 2))} pixels of "
          f"{valid.sum(axis=(1, 2))} valid; loss {value:.5f}, mean cross-entropy of the "
          f"kept pixels {mean_kept:.5f}")
    assert np.isclose(mean_kept, value, rtol=1e-4), (mean_kept, value)

# %%
figure, axes = plt.subplots(2, 5, figsize=(19, 8.4))
figure.subplots_adjust(wspace=0.4)  # room for the colour bars' labels
for row in range(2):
    panels = [("image", images[row], None),
              ("label", colorize(labels[row], PALETTE, other_color=IGNORE_COLOUR), None),
              ("p of the true class", np.where(valid[row], prob[row], np.nan), "magma")]
    panels += [(f"kept: {name}", kept[name][row], "gray") for name in settings]
    for column, (axis, (title, panel, cmap)) in enumerate(zip(axes[row], panels)):
        shown = axis.imshow(panel, cmap=cmap, vmin=0 if cmap else None,
                            vmax=1 if cmap else None)
        axis.set(title=f"test {row}: {title}", xlabel="column (px)")
        if column == 0:
            axis.set_ylabel("row (px)")
        else:  # the same rows: the colour bars sit where these labels went
            axis.tick_params(labelleft=False)
        if cmap == "magma":
            figure.colorbar(shown, ax=axis, fraction=0.046, label="p (white: ignore)")
        elif cmap == "gray":
            figure.colorbar(shown, ax=axis, fraction=0.046, ticks=(0, 1),
                            label="0 dropped, 1 kept")
figure.suptitle(f"Online bootstrapping on the trained FCRN (min_kept = {MIN_KEPT} "
                "per image)")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
plt.show()

# %% [markdown]
# The kept pixels gather on object outlines, on the small (rare) objects and wherever the
# model is still wrong; the large, easy interiors drop out of the loss. FCRN's rule with
# t = 0 keeps exactly K per image; GALD's keeps every pixel under 0.7, so it keeps many
# more early in training and falls towards K as the model improves.
#
# ## 3. High-resolution simulation (FCRN Fig. 1)
#
# A network of output stride s run on the image shifted by multiples of s/2 px gives
# four coarse maps whose interleaving is a map of stride s/2. The wrapper needs the
# coarse network itself (`upsample_logits=False`); its weights are those of the trained
# model (the upsampling layers have none), so `set_weights` copies them.

# %%
from keras_lk.evaluation import confusion_matrix, scores_from_confusion
from keras_lk.models import HighResolutionSimulation

coarse = keras_lk.models.FCRN(
    model.num_classes, backbone="resnet10_local", output_stride=OUTPUT_STRIDE,
    kernel_size=KERNEL, dilation=DILATION, upsample_logits=False)
coarse.set_weights(model.get_weights())
fine = HighResolutionSimulation(coarse, output_stride=OUTPUT_STRIDE, factor=2)

all_inputs = np.asarray(normalize_image(images.astype("float32"), model.normalization))
coarse_logits = np.asarray(coarse.predict(all_inputs, verbose=0))
fine_logits = np.asarray(fine.predict(all_inputs, verbose=0))
print("coarse", coarse_logits.shape, "| simulated", fine_logits.shape)
# The unshifted pass fills every other position of the fine map.
assert np.allclose(fine_logits[:, ::2, ::2], coarse_logits, atol=1e-4)

scores = {}
for name, score_map in (("stride 8", coarse_logits), ("stride 4 (simulated)", fine_logits)):
    full = keras.ops.image.resize(score_map, (IMAGE_SIZE, IMAGE_SIZE), interpolation="bilinear")
    predicted = np.argmax(np.asarray(full), -1)
    matrix = sum(confusion_matrix(l, p, model.num_classes, ignore_label=model.ignore_label)
                 for l, p in zip(labels, predicted))
    scores[name] = (scores_from_confusion(matrix)["mean_iou"], predicted)
    print(f"{name}: test mIoU {100 * scores[name][0]:.1f} ({len(images)} images, bilinear "
          "upsampling to the input)")

# %%
# The probability of the scene's largest object class shows the gain in resolution
# before any argmax.
present = [c for c in np.unique(labels[0]) if 0 < c < model.num_classes]
shown = max(present, key=lambda c: np.sum(labels[0] == c)) if present else 1
figure, axes = plt.subplots(1, 4, figsize=(17, 4.6))
figure.subplots_adjust(wspace=0.45)  # room for the colour bars
panels = [("stride 8 score map", coarse_logits[0], "score-map cells"),
          ("stride 4, simulated", fine_logits[0], "score-map cells"),
          ("stride 4 → input size", np.asarray(keras.ops.image.resize(
              fine_logits[:1], (IMAGE_SIZE, IMAGE_SIZE), interpolation="bilinear"))[0], "px")]
axes[0].imshow(colorize(labels[0], PALETTE, other_color=IGNORE_COLOUR),
               interpolation="nearest")
axes[0].set(title="label", xlabel="column (px)", ylabel="row (px)")
probabilities = [np.asarray(keras.ops.softmax(m, axis=-1))[..., shown] for _, m, _ in panels]
top = max(0.05, max(float(p.max()) for p in probabilities))  # one colour scale for the three
for axis, (title, _, unit), probability in zip(axes[1:], panels, probabilities):
    image = axis.imshow(probability, cmap="magma", vmin=0, vmax=top, interpolation="nearest")
    axis.set(title=f"{title}: p({CLASS_NAMES[shown]})", xlabel=f"column ({unit})")
    figure.colorbar(image, ax=axis, fraction=0.046, label=f"p({CLASS_NAMES[shown]})")
figure.suptitle("High-resolution simulation: the same weights, four shifted passes")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
plt.show()

# %% [markdown]
# The simulated map has twice the resolution for four times the compute, with no new
# weights: FCRN's way to get output stride 8 from a network trained at 16 when memory
# forbids training at 8. Near the bottom and right borders the shifted images are
# zero-filled, so the extra positions there are less reliable.
