# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Why large kernels, and why separable ones
#
# GCN (Peng et al., CVPR 2017) makes two claims that this notebook measures:
#
# 1. **Cost.** A k×k field of view can be had three ways: a trivial k×k convolution
#    (`keras_lk.layers.LargeKernelConv`, GCN Fig. 4C), a stack of (k−1)/2 3×3
#    convolutions (`keras_lk.layers.ConvStack3x3`, Fig. 4D), or the Global Convolutional
#    Network's separable pair (k×1 → 1×k) + (1×k → k×1) (`keras_lk.layers.GlobalConv`,
#    Fig. 2B). GlobalConv's cost grows with k, the others' with k² or with depth.
# 2. **Reach.** The *valid* receptive field of a classifier (the input pixels whose
#    gradient reaches it, GCN Sec. 3.1 and Fig. 3) is much smaller than its theoretical
#    one; a large-kernel head widens it. We train a 1×1-head GCNSeg and a k = 15 one and
#    draw both fields with `keras_lk.evaluation.valid_receptive_field`.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

KERNEL_SIZES = (3, 15) if SMOKE else (3, 7, 11, 15)
FEATURE_SIZE = 8 if SMOKE else 32       # side of the score map the heads run on
IN_CHANNELS = 64 if SMOKE else 512       # channels of the features the heads read
STACK_CHANNELS = 32 if SMOKE else 256    # width m of the 3×3 stack
NUM_CLASSES = 21
TIMING_REPEATS = 1 if SMOKE else 5

IMAGE_SIZE = 32 if SMOKE else 128
TRAIN_STEPS = 2 if SMOKE else 800        # per model: about 70 s (1×1), 100 s (k = 15) on 2 cores
STEPS_PER_EPOCH = 2 if SMOKE else 100
BATCH_SIZE = 2 if SMOKE else 16
NUM_TRAIN_IMAGES = 8 if SMOKE else 1200
NUM_VRF_IMAGES = 2 if SMOKE else 8

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: F401, I001

import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np

from keras_lk.layers import ConvStack3x3, GlobalConv, LargeKernelConv
from keras_lk.utils import count_flops

WORK_DIR = tempfile.mkdtemp(prefix="keras_lk_kernels_")

# %% [markdown]
# ## 1. Parameters, FLOPs and time of the three heads
#
# Each head maps a `FEATURE_SIZE`² map of `IN_CHANNELS` channels to 21 class scores with
# a k×k field of view. `count_params` counts weights and biases; `keras_lk.utils.count_flops`
# runs one forward pass and counts every convolution and matmul (a multiply-add is 2
# FLOPs); the time is the median of a few forward passes on this machine (eager, batch
# 1), so read its ratios, not its absolute values.

# %%
HEADS = {
    "GlobalConv (k×1+1×k)": lambda k: GlobalConv(NUM_CLASSES, kernel_size=k),
    "k×k conv": lambda k: LargeKernelConv(NUM_CLASSES, kernel_size=k),
    "3×3 stack": lambda k: ConvStack3x3(NUM_CLASSES, kernel_size=k,
                                        intermediate_filters=STACK_CHANNELS),
}
features = np.random.default_rng(0).normal(
    size=(1, FEATURE_SIZE, FEATURE_SIZE, IN_CHANNELS)).astype("float32")


def median_seconds(layer, x, repeats):
    layer(x)  # build and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(layer(x))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


measurements = {name: {"params": [], "flops": [], "seconds": []} for name in HEADS}
for name, make in HEADS.items():
    for k in KERNEL_SIZES:
        layer = make(k)
        seconds = median_seconds(layer, features, TIMING_REPEATS)
        measurements[name]["params"].append(layer.count_params())
        measurements[name]["flops"].append(
            count_flops(layer, (FEATURE_SIZE, FEATURE_SIZE, IN_CHANNELS)))
        measurements[name]["seconds"].append(seconds)

print(f"{'head':<22} {'k':>3} {'params':>11} {'GFLOPs':>8} {'ms':>8}")
for name, values in measurements.items():
    for i, k in enumerate(KERNEL_SIZES):
        print(f"{name:<22} {k:>3} {values['params'][i]:>11,} "
              f"{values['flops'][i] / 1e9:>8.3f} {1e3 * values['seconds'][i]:>8.1f}")

# %%
figure, axes = plt.subplots(1, 3, figsize=(14, 4))
for name, values in measurements.items():
    axes[0].plot(KERNEL_SIZES, values["params"], marker="o", label=name)
    axes[1].plot(KERNEL_SIZES, np.asarray(values["flops"]) / 1e9, marker="o", label=name)
    axes[2].plot(KERNEL_SIZES, 1e3 * np.asarray(values["seconds"]), marker="o", label=name)
for axis, (ylabel, title) in zip(axes, (
        ("parameters", "Parameters"), ("GFLOPs per image", "FLOPs (count_flops)"),
        ("forward time (ms, median)", "Measured forward time"))):
    axis.set(xlabel="kernel size k", ylabel=ylabel, title=title, yscale="log",
             xticks=KERNEL_SIZES)
    axis.grid(alpha=0.3)
axes[0].legend()
figure.suptitle(f"Heads on a {FEATURE_SIZE}²×{IN_CHANNELS} map, {NUM_CLASSES} classes "
                f"(3×3 stack width m = {STACK_CHANNELS})")
figure.tight_layout()
plt.show()

# %% [markdown]
# GlobalConv's parameters and FLOPs grow linearly in k (2·k·C·(C_in + C)), the k×k
# convolution's quadratically (k²·C_in·C). The 3×3 stack's grow with its depth (k−1)/2 and
# with m², and its intermediate layers make it the most expensive way to see k×k pixels
# unless m is small. In GCN Table 2 the k×k convolution also *trained worse* as k grew,
# while GlobalConv kept improving: cost is not the only argument.
#
# ## 2. The valid receptive field of a trained classifier
#
# Two GCNSeg networks that differ only in their heads: the 1×1 baseline (`head="conv1x1"`,
# GCN Table 1 "base") and GlobalConv k = 15, both on `resnet10_local` (res-5 sees 67 px)
# and trained with the same data, seed and schedule on 128² scenes.
#
# As GCN fine-tunes a ResNet pretrained on ImageNet, both backbones start from weights
# pretrained on a dense pretext task on other scenes (`backbone_weights="scenes"`,
# `keras_lk.experiments.scenes_pretext`) and SGD fine-tunes them; the heads are new. The
# starting weights and the optimizer are those of the CPU-scale GCN recipe, read from
# `keras_lk.experiments.settings.GCN_SCENES` (the cell prints them); the recipe trains
# for more steps.

# %%
from keras_lk.experiments.settings import GCN_SCENES, fine_tuning
from keras_lk.training import TrainConfig, train

recipe = fine_tuning(GCN_SCENES)
print("from GCN_SCENES:", recipe)


def train_head(name, options):
    config = TrainConfig(
        output_dir=os.path.join(WORK_DIR, name), model="gcn",
        model_options={**options, "boundary_refine": False}, backbone="resnet10_local",
        dataset="scenes", image_size=IMAGE_SIZE, num_train_images=NUM_TRAIN_IMAGES,
        crop_size=IMAGE_SIZE, batch_size=BATCH_SIZE, steps=TRAIN_STEPS,
        steps_per_epoch=STEPS_PER_EPOCH, tensorboard=False, verbose=0, seed=0, **recipe)
    start = time.perf_counter()
    model = train(config).model
    print(f"{name}: trained {TRAIN_STEPS} steps in {time.perf_counter() - start:.0f} s")
    return model


models = {"1×1 head": train_head("conv1x1", {"head": "conv1x1", "k": 1}),
          "GCN k=15": train_head("gcn", {"head": "gcn", "k": 15})}

# %% [markdown]
# `valid_receptive_field(model, images, pixel)` back-propagates the logit of the predicted
# class at one output pixel to the (normalized) input and averages |gradient| over the
# images; `extent` is the side of the smallest square around the pixel that holds 95% of
# the gradient mass. We take the centre pixel of test scenes whose centre lies inside an
# object, and compare with the theoretical field of the whole network
# (`theoretical_receptive_field`), which counts every path, used or not.

# %%
from keras_lk.data import SceneConfig, large_object_scenes_numpy, normalize_image
from keras_lk.evaluation import (
    plot_valid_receptive_field,
    theoretical_receptive_field,
    valid_receptive_field,
)

candidates, candidate_masks = large_object_scenes_numpy(
    "test", num_images=40, config=SceneConfig(image_size=IMAGE_SIZE))
centre = IMAGE_SIZE // 2
inside = [i for i in range(len(candidates)) if 0 < candidate_masks[i, centre, centre, 0] < 255]
chosen = (inside or list(range(len(candidates))))[:NUM_VRF_IMAGES]
images = candidates[chosen]

fields = {}
for name, model in models.items():
    inputs = np.asarray(normalize_image(images.astype("float32"), model.normalization))
    fields[name] = valid_receptive_field(model, inputs, pixel=(centre, centre))
    head_layer = "res5_conv1x1" if name == "1×1 head" else "res5_gcn"
    theory = theoretical_receptive_field(model, head_layer)
    print(f"{name}: valid extent {fields[name].extent} px; theoretical field of its res-5 "
          f"score map {theory.size} px (stride {theory.stride})")

figure, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4.6))
for axis, (name, result) in zip(axes, fields.items()):
    plot_valid_receptive_field(images[0], result, ax=axis,
                               title=f"{name}: 95% of |∂score/∂input| within "
                                     f"{result.extent} px")
figure.suptitle(f"Valid receptive field of the centre pixel, mean over {len(images)} test "
                f"scenes (shown on the first), {IMAGE_SIZE}² input")
figure.tight_layout()
plt.show()

# %% [markdown]
# The 1×1 head's classifier draws on a small neighbourhood of its pixel: the res-5
# features it reads see 67 px in theory and fewer in practice. The k = 15 head reads a
# 15×15 window of res-5 positions (stride 32), so its gradient can spread over much more
# of the object, which is what lets it name a large object from its outline (GCN Fig. 3);
# the extents printed above say how far it does after this short fine-tuning.
# The trained extents depend on the seed and the training length: the CPU-scale recipe
# `recipes/gcn/table1_kernel_size.py --scale cpu` measures the mIoU side over 5-10 seeds.
