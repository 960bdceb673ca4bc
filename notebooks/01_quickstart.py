# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Quickstart: train, evaluate, predict, save a GCN
#
# This tutorial trains a GCN segmentation network (Peng et al., "Large Kernel Matters",
# CVPR 2017) on keras_lk's built-in scenes, on a CPU, in a few minutes:
#
# 1. look at the data,
# 2. train `keras_lk.models.GCNSeg(k=15)` through the training engine
#    (`keras_lk.training.TrainConfig` + `keras_lk.training.train`),
# 3. evaluate it as the papers do (`keras_lk.evaluation.evaluate_segmentation`: mean IoU,
#    and GCN Table 5's boundary / internal accuracy),
# 4. predict with `keras_lk.Segmenter`,
# 5. save and reload it with `keras.saving.load_model`.
#
# `SMOKE=True` (set by `python notebooks/run.py --smoke`) shrinks every size so the
# notebook runs in about a minute; the numbers it prints then mean nothing.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

IMAGE_SIZE = 32 if SMOKE else 128      # side of the built-in scenes, pixels
NUM_TRAIN_IMAGES = 8 if SMOKE else 1200
BATCH_SIZE = 2 if SMOKE else 16
STEPS = 4 if SMOKE else 800             # about 2 minutes on 2 CPU cores
STEPS_PER_EPOCH = 2 if SMOKE else 100
NUM_TEST_IMAGES = 4 if SMOKE else 100

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: I001

import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_lk.data import (
    DATASETS,
    SceneConfig,
    add_class_legend,
    colorize,
    large_object_scenes_numpy,
)

WORK_DIR = tempfile.mkdtemp(prefix="keras_lk_quickstart_")
print("keras", keras.__version__, "| keras_lk", keras_lk.__version__, "| work dir", WORK_DIR)

# %% [markdown]
# ## 1. The data: shapes that only a large field of view can name
#
# The built-in scenes (`keras_lk.data.large_object_scenes`) hold 1-3 shapes per image.
# Every shape has the same striped interior, so a pixel in the middle of a large object
# can be named only by a classifier that sees the object's outline: the regime of GCN's
# argument. A thin band of 255 ("ignore", as in PASCAL VOC) marks the boundaries. The
# registry entry `DATASETS["scenes"]` holds the class names and the palette.

# %%
info = DATASETS["scenes"]
CLASS_NAMES = list(info.class_names)
PALETTE = np.array(info.palette, np.uint8)
IGNORE_COLOUR = (255, 255, 255)  # the 255 "ignore" band (and any id without a class)
print("classes:", CLASS_NAMES)


images, masks = large_object_scenes_numpy("train", num_images=4,
                                          config=SceneConfig(image_size=IMAGE_SIZE))
figure, axes = plt.subplots(2, 4, figsize=(11, 6))
for i in range(4):
    axes[0, i].imshow(images[i])
    axes[0, i].set_title(f"train image {i}")
    axes[1, i].imshow(colorize(masks[i], PALETTE, other_color=IGNORE_COLOUR))
    axes[1, i].set_title(f"label {i}")
for axis in axes.flat:
    axis.set_xlabel("column (px)")
    axis.set_ylabel("row (px)")
figure.suptitle("Built-in scenes: images (top) and their labels (bottom)")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
figure.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()

# %% [markdown]
# ## 2. The model
#
# `GCNSeg` is GCN's Fig. 2A: a ResNet, one GlobalConv head of kernel k per stage, and
# deconvolutions back to the input size. `resnet10_local` is a small ResNet for CPU runs
# whose deepest stage sees only 67 px, less than the large objects (up to 115 px at
# 128²), so the k = 15 heads have work to do. Boundary Refinement is off, as in GCN Table
# 5's "GCN" row. The model carries its classes, palette and input normalization. (The
# model built here has random weights; the one trained in section 3 starts its backbone
# from pretrained ones.)

# %%
model = keras_lk.models.GCNSeg(
    num_classes=info.num_classes, k=15, backbone="resnet10_local", boundary_refine=False,
    class_names=CLASS_NAMES, palette=info.palette)
print(f"{model.name}: {model.count_params():,} parameters, normalization "
      f"{model.normalization!r}")
print("logits shape for a 97×131 input:", model(np.zeros((1, 97, 131, 3))).shape)

# %% [markdown]
# ## 3. Training through the engine
#
# `TrainConfig` is every knob of a run, frozen and JSON round-trippable; `train(config)`
# builds the same model from it (family `"gcn"` + `model_options`), the seeded input
# pipeline (random scale, crop and flip), the optimizer and schedule, and backup / resume
# callbacks, then writes `model.keras` into `output_dir`.
#
# As GCN fine-tunes a ResNet pretrained on ImageNet, the backbone starts from weights
# pretrained on a dense pretext task on other scenes (`backbone_weights="scenes"`, packaged
# with keras_lk: `keras_lk.experiments.scenes_pretext`), and SGD fine-tunes the whole
# network. The starting weights and the optimizer are those of the CPU-scale GCN recipe
# (`keras_lk.experiments.settings.GCN_SCENES`), read from it so that this tutorial cannot
# drift from the recipe; the recipe trains for more steps (its plateau rule chooses how
# many on val).

# %%
from keras_lk.experiments.settings import GCN_SCENES, fine_tuning
from keras_lk.training import TrainConfig, train

recipe = fine_tuning(GCN_SCENES)
print("from GCN_SCENES:", recipe)

config = TrainConfig(
    output_dir=os.path.join(WORK_DIR, "gcn_k15"),
    model="gcn", model_options={"k": 15, "boundary_refine": False},
    backbone="resnet10_local", dataset="scenes", image_size=IMAGE_SIZE,
    num_train_images=NUM_TRAIN_IMAGES, crop_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
    steps=STEPS, steps_per_epoch=STEPS_PER_EPOCH, tensorboard=False, verbose=2, seed=0,
    **recipe)
result = train(config)
print(f"trained {result.step} steps; model written to {result.model_path}")

# %%
history = result.history
epochs = np.arange(1, len(history["loss"]) + 1) * STEPS_PER_EPOCH
figure, (loss_axis, miou_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
loss_axis.plot(epochs, history["loss"], marker="o")
loss_axis.set(xlabel="training step", ylabel="cross-entropy", title="Training loss")
miou_axis.plot(epochs, np.asarray(history["miou"]) * 100, marker="o")
miou_axis.set(xlabel="training step", ylabel="mIoU (%)", title="Training mIoU (per epoch)")
figure.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Evaluation
#
# `evaluate_segmentation` accumulates one confusion matrix over the whole split (the VOC
# protocol, not a mean of per-image scores) and measures pixel accuracy separately on the
# *boundary* region and the *internal* region, as GCN Table 5 does; the boundary band is
# the recipe's (GCN's 7 px at VOC's ~500 px, scaled to 2 px at 128²). The examples come
# from the registry's loader, the same one training used.

# %%
from keras_lk.evaluation import evaluate_segmentation

test_examples = info.load("test", num_images=NUM_TEST_IMAGES, image_size=IMAGE_SIZE)
scores = evaluate_segmentation(result.model, test_examples,
                               boundary_distance=GCN_SCENES.evaluation.boundary_distance)
print(f"test split, {scores['num_images']} images: mIoU {100 * scores['miou']:.1f}, "
      f"pixel accuracy {100 * scores['pixel_accuracy']:.1f}, boundary accuracy "
      f"{100 * scores['boundary_accuracy']:.1f}, internal accuracy "
      f"{100 * scores['internal_accuracy']:.1f}")

ious = [np.nan if v is None else 100 * v for v in scores["per_class_iou"]]
figure, axis = plt.subplots(figsize=(7, 3.5))
axis.bar(CLASS_NAMES, ious, color=PALETTE / 255, edgecolor="black")
axis.axhline(100 * scores["miou"], color="grey", linestyle="--", label="mean IoU")
axis.set(xlabel="class", ylabel="IoU on test (%)", title="Per-class IoU of GCN k=15",
         ylim=(0, 100))
axis.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Prediction with `Segmenter`
#
# `keras_lk.Segmenter` takes a model or the path of its `.keras` file, and images of any
# size (paths, arrays, PIL images); it returns label maps at each image's own size, in
# the model's palette. `scales=` and `flip=True` add multi-scale and flip testing.

# %%
segmenter = keras_lk.Segmenter(result.model_path)
test_images, test_masks = large_object_scenes_numpy(
    "test", num_images=3, config=SceneConfig(image_size=IMAGE_SIZE))
predictions = segmenter(list(test_images))

figure, axes = plt.subplots(3, 3, figsize=(9, 9.5))
for row, (image, mask, prediction) in enumerate(zip(test_images, test_masks, predictions)):
    panels = (("image", image),
              ("label", colorize(mask, PALETTE, other_color=IGNORE_COLOUR)),
              ("prediction", colorize(prediction.labels, PALETTE, other_color=IGNORE_COLOUR)))
    for axis, (name, panel) in zip(axes[row], panels):
        axis.imshow(panel)
        axis.set_title(f"test {row}: {name}")
        axis.set_xlabel("column (px)")
        axis.set_ylabel("row (px)")
figure.suptitle("GCN k=15 on test scenes")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
figure.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %% [markdown]
# ## 6. Save and reload
#
# A `.keras` file holds the architecture, the weights and the segmentation facts (class
# names, palette, normalization); a plain `import keras_lk` registers every keras_lk
# class, so `keras.saving.load_model` needs no `custom_objects`, and `safe_mode=True`
# (the default) is enough. The reloaded model is a `GCNSeg` again and predicts the same.

# %%
path = os.path.join(WORK_DIR, "my_gcn.keras")
result.model.save(path)
reloaded = keras.saving.load_model(path)
print(type(reloaded).__name__, "| k =", reloaded.get_config()["k"], "| classes:",
      reloaded.class_names)
same = keras_lk.Segmenter(reloaded)(list(test_images))
assert all(np.array_equal(a.labels, b.labels) for a, b in zip(predictions, same))
print("reloaded model: identical predictions on", len(same), "test images")

# %% [markdown]
# ## Next
#
# - `02_why_large_kernels.py`: why a large kernel, and why a *separable* one (GlobalConv).
# - `05_your_own_data.py`: the same steps on a folder of your own images.
# - `07_large_kernel_kit.py`: the heads after GCN (SegNeXt's MSCA, RepLKNet's and
#   UniRepLKNet's re-parameterised kernels) in GCNSeg's place.
# - `make demo` trains this model beside the 1×1 baseline and compares them with the
#   seed spread of the CPU-scale recipe.
