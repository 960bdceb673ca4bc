# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Your own data: a folder of images and label PNGs, end to end
#
# keras_lk trains on a plain folder (`keras_lk/data/folder.py`, README "Your own data"):
#
# ```
# my_data/
#   images/   a.png  b.jpg ...        # or JPEGImages/ (the VOC layout)
#   labels/   a.png  b.png ...        # class indices, palette or grey PNGs, 255 = ignore
#   dataset.json                      # {"classes": [...], "palette": [[r, g, b], ...]}
#   splits/   train.txt  val.txt      # optional: one stem per line
# ```
#
# This notebook writes such a folder into a temporary directory (from the built-in scenes,
# so it needs no download), then trains on it with `TrainConfig(dataset="folder")`,
# evaluates, refines with a dense CRF (optional extra `pydensecrf2`), and exports to ONNX
# and runs the file with onnxruntime (optional extra `export`).

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

IMAGE_SIZE = 32 if SMOKE else 128         # the size the pretrained backbone saw
NUM_IMAGES = 10 if SMOKE else 400         # written to the folder; a fifth is val
TRAIN_STEPS = 2 if SMOKE else 600         # about 2 minutes on 2 cores
STEPS_PER_EPOCH = 2 if SMOKE else 100
BATCH_SIZE = 2 if SMOKE else 16

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: I001

import json
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from keras_lk.data import (
    SceneConfig,
    add_class_legend,
    colorize,
    folder_dataset,
    full_palette,
    large_object_scenes_numpy,
)

# %% [markdown]
# ## 1. Write the folder
#
# Images as RGB PNGs, labels as palette (`"P"`) PNGs whose pixel values are the class
# indices, a `dataset.json` with the class names and colours, and split lists. Your own
# labelling tool's output (labelme's `labelme2voc.py`, CVAT's "Segmentation mask"
# export) has this form already.

# %%
DATA_DIR = tempfile.mkdtemp(prefix="keras_lk_my_data_")
CLASS_NAMES = ["background", "disc", "square", "triangle", "cross", "ring"]
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25],
                    [0, 130, 200], [245, 130, 48]], np.uint8)

images, masks = large_object_scenes_numpy(
    "train", num_images=NUM_IMAGES, config=SceneConfig(image_size=IMAGE_SIZE))
os.makedirs(os.path.join(DATA_DIR, "images"))
os.makedirs(os.path.join(DATA_DIR, "labels"))
os.makedirs(os.path.join(DATA_DIR, "splits"))
IGNORE_COLOUR = (255, 255, 255)  # the 255 "ignore" band (and any id without a class)
stems = [f"photo_{i:03d}" for i in range(NUM_IMAGES)]
for stem, image, mask in zip(stems, images, masks):
    Image.fromarray(image).save(os.path.join(DATA_DIR, "images", f"{stem}.png"))
    label = Image.fromarray(mask[..., 0], mode="P")
    label.putpalette(full_palette(PALETTE, other_color=IGNORE_COLOUR).ravel().tolist())
    label.save(os.path.join(DATA_DIR, "labels", f"{stem}.png"))
num_val = max(2, NUM_IMAGES // 5)
with open(os.path.join(DATA_DIR, "splits", "train.txt"), "w") as f:
    f.write("\n".join(stems[num_val:]) + "\n")
with open(os.path.join(DATA_DIR, "splits", "val.txt"), "w") as f:
    f.write("\n".join(stems[:num_val]) + "\n")
with open(os.path.join(DATA_DIR, "dataset.json"), "w") as f:
    json.dump({"classes": CLASS_NAMES, "palette": PALETTE.tolist()}, f)
print(DATA_DIR, "holds", sorted(os.listdir(DATA_DIR)), f"({NUM_IMAGES} pairs)")


# %% [markdown]
# `keras_lk.data.folder_dataset(data_dir, split)` reads it as the TFDS builders' examples.
# Every pair is checked before anything trains: a label value outside the classes, a size
# mismatch, an RGB colour label, an image without its label are each one error line
# naming the file. For instance, a label with a class 9 in a 6-class dataset:

# %%
train_examples = list(folder_dataset(DATA_DIR, "train").as_numpy_iterator())
val_examples = list(folder_dataset(DATA_DIR, "val").as_numpy_iterator())
print(f"train {len(train_examples)}, val {len(val_examples)} examples; first:",
      train_examples[0]["file_name"].decode(), train_examples[0]["image"].shape)

bad_dir = tempfile.mkdtemp(prefix="keras_lk_bad_data_")
for sub in ("images", "labels"):
    os.makedirs(os.path.join(bad_dir, sub))
Image.fromarray(images[0]).save(os.path.join(bad_dir, "images", "bad.png"))
Image.fromarray(np.full((IMAGE_SIZE, IMAGE_SIZE), 9, np.uint8), mode="L").save(
    os.path.join(bad_dir, "labels", "bad.png"))
with open(os.path.join(bad_dir, "dataset.json"), "w") as f:
    json.dump({"classes": CLASS_NAMES, "val_fraction": 0.0}, f)
try:
    folder_dataset(bad_dir, "train")
except ValueError as error:
    print("refused:", error)

# %%
figure, axes = plt.subplots(2, 3, figsize=(10, 7.8))
for column, example in enumerate(train_examples[:3]):
    axes[0, column].imshow(example["image"])
    axes[0, column].set_title(example["file_name"].decode())
    axes[1, column].imshow(colorize(example["segmentation_mask"][..., 0], PALETTE,
                                    other_color=IGNORE_COLOUR))
    axes[1, column].set_title("its label PNG")
for axis in axes[-1]:  # one label per column and per row: every panel has the same pixels
    axis.set_xlabel("column (px)")
for axis in axes[:, 0]:
    axis.set_ylabel("row (px)")
figure.suptitle("The folder as keras_lk reads it (colours from dataset.json)")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
figure.tight_layout(rect=(0, 0.06, 1, 1), h_pad=2.0)
plt.show()

# %% [markdown]
# Before training, count the classes. In these images, as in most segmentation data
# (road and sky against traffic signs), the background covers most labelled pixels, and
# each object class a small share:

# %%
train_labels = np.stack([e["segmentation_mask"][..., 0] for e in train_examples])
labelled = train_labels[train_labels != 255]  # 255: the ignore label of dataset.json
shares = np.bincount(labelled, minlength=len(CLASS_NAMES)) / labelled.size
print("share of the labelled train pixels:",
      ", ".join(f"{name} {100 * share:.1f}%" for name, share in zip(CLASS_NAMES, shares)))

# %% [markdown]
# A model that has not yet learned the shapes is therefore right on most pixels when it
# predicts background everywhere: cross-entropy pulls it there first, and pixel accuracy
# flatters it. Read the mean IoU, where every class counts the same, and the per-class
# IoU of the small classes.
#
# ## 2. Train and evaluate
#
# `dataset="folder"` with `data_dir=` is all the engine needs: the classes, palette and
# ignore label come from the folder and travel with the saved model. On the command line
# this is `keras-lk train --dataset folder --data-dir DATA_DIR ...`.
#
# A few hundred images are too few to learn the shapes from random weights in a few
# hundred steps. As the papers start from a backbone pretrained on ImageNet, this one
# starts from weights pretrained on a dense pretext task on other scenes
# (`backbone_weights="scenes"`, `keras_lk.experiments.scenes_pretext`), which suit images
# like these; for photographs, start from ImageNet weights as the papers do (e.g.
# `backbone="resnet50", backbone_weights="imagenet"`). SGD fine-tunes the whole network,
# the new layers at a higher learning rate: the settings of the CPU-scale GCN recipe, read
# from `keras_lk.experiments.settings.GCN_SCENES` (the cell prints them).

# %%
from keras_lk.evaluation import evaluate_segmentation
from keras_lk.experiments.settings import GCN_SCENES, fine_tuning
from keras_lk.training import TrainConfig, train

recipe = fine_tuning(GCN_SCENES)
print("from GCN_SCENES:", recipe)

config = TrainConfig(
    output_dir=os.path.join(DATA_DIR, "run"), model="gcn",
    model_options={"k": 15, "boundary_refine": False}, backbone="resnet10_local",
    dataset="folder", data_dir=DATA_DIR, crop_size=IMAGE_SIZE, batch_size=BATCH_SIZE,
    steps=TRAIN_STEPS, steps_per_epoch=STEPS_PER_EPOCH, tensorboard=False, verbose=2,
    **recipe)
result = train(config)
model = result.model
print("model classes:", model.class_names)

scores = evaluate_segmentation(model, folder_dataset(DATA_DIR, "val"))
print(f"val ({scores['num_images']} images): mIoU {100 * scores['miou']:.1f}, pixel "
      f"accuracy {100 * scores['pixel_accuracy']:.1f}, boundary accuracy "
      f"{100 * scores['boundary_accuracy']:.1f}, internal accuracy "
      f"{100 * scores['internal_accuracy']:.1f}")
print("per-class IoU:", ", ".join(
    f"{name} {'n/a' if iou is None else f'{100 * iou:.1f}'}"
    for name, iou in zip(model.class_names, scores["per_class_iou"])))

# %% [markdown]
# ## 3. Dense CRF (optional)
#
# `keras_lk.evaluation.dense_crf(image, probabilities)` is DeepLab's fully connected CRF
# with its VOC parameters (`CRF_VOC`); it needs the optional package `pydensecrf2`
# (`pip install keras_lk[crf]`). Without it this section says so and moves on. The VOC
# parameters were chosen on 500 px photos; for other data choose them on validation
# images with `keras_lk.evaluation.search_crf_parameters`.

# %%
from keras_lk.evaluation import CRF_VOC, dense_crf

segmenter = keras_lk.Segmenter(model)
# Copies: tf.data hands out read-only arrays, and the CRF's extension needs writable ones.
val_images = [np.array(e["image"]) for e in val_examples[:2]]
val_labels = [e["segmentation_mask"][..., 0] for e in val_examples[:2]]
results = segmenter(val_images, probabilities=True)
try:
    refined = [dense_crf(image, r.probabilities).argmax(-1)
               for image, r in zip(val_images, results)]
    crf_scores = evaluate_segmentation(model, folder_dataset(DATA_DIR, "val"), crf=CRF_VOC)
    print(f"val mIoU without CRF {100 * scores['miou']:.1f}, with CRF_VOC "
          f"{100 * crf_scores['miou']:.1f}")
except ImportError as error:
    refined = None
    print("skipped, the CRF is not installed:", error)

# %%
columns = ["image", "label", "prediction"] + (["prediction + CRF"] if refined else [])
figure, axes = plt.subplots(2, len(columns), figsize=(3.4 * len(columns), 8.2),
                            squeeze=False)
for row in range(2):
    panels = [val_images[row], colorize(val_labels[row], PALETTE, other_color=IGNORE_COLOUR),
              colorize(results[row].labels, PALETTE, other_color=IGNORE_COLOUR)]
    if refined:
        panels.append(colorize(refined[row], PALETTE, other_color=IGNORE_COLOUR))
    for axis, title, panel in zip(axes[row], columns, panels):
        axis.imshow(panel)
        axis.set_title(f"val {row}: {title}")
for axis in axes[-1]:  # one label per column and per row: every panel has the same pixels
    axis.set_xlabel("column (px)")
for axis in axes[:, 0]:
    axis.set_ylabel("row (px)")
figure.suptitle("Predictions on the folder's val split")
add_class_legend(figure, CLASS_NAMES, PALETTE, other_color=IGNORE_COLOUR)
figure.tight_layout(rect=(0, 0.06, 1, 1), h_pad=2.0)
plt.show()

# %% [markdown]
# ## 4. Export to ONNX and run it with onnxruntime (optional)
#
# `keras_lk.export.export_model(model, path, format="onnx")` writes the main logits in
# float32, input `images` (normalized as the model says: `keras_lk.data.normalize_image`
# with `model.normalization`), output `logits`, height and width dynamic.
# `keras_lk.export.load_exported(path)` runs the file in its runtime (here onnxruntime).
# Both need the `export` extra (tf2onnx, onnx, onnxruntime).

# %%
from keras_lk.data import normalize_image

onnx_path = os.path.join(DATA_DIR, "model.onnx")
try:
    keras_lk.export.export_model(model, onnx_path, format="onnx")
    run_onnx = keras_lk.export.load_exported(onnx_path)
except ImportError as error:
    print("skipped, the export extra is not installed:", error)
else:
    batch = np.asarray(normalize_image(np.stack(val_images).astype("float32"),
                                       model.normalization))
    onnx_logits = run_onnx(batch[:1])
    keras_logits = np.asarray(model(batch[:1], training=False))
    agreement = np.mean(onnx_logits.argmax(-1) == keras_logits.argmax(-1))
    print(f"{os.path.getsize(onnx_path) / 1e6:.1f} MB; logits {onnx_logits.shape}; max "
          f"|logit difference| {np.abs(onnx_logits - keras_logits).max():.2e}; same argmax "
          f"on {100 * agreement:.2f}% of the pixels")

# %% [markdown]
# `keras-lk export --model-path run/model.keras --format litert ...` writes a LiteRT file
# the same way, and `--quantization int8` quantizes it (README "Export").
