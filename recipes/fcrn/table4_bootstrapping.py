"""FCRN Table 4: online bootstrapping of the K hardest pixels, and dropout.

Rows: the best vanilla FCRN (resolution 1/8, 5×5 classifier, dilation 12) of depth 101
and 152 on PASCAL VOC 2012, and of depth 152 on Cityscapes, trained with plain
cross-entropy ("F/F"), with online bootstrapping keeping the K = 256, 512 or 1024
hardest pixels per crop ("K/F"), and (VOC) with K = 512 plus dropout in the top-most
blocks ("512/T"). The paper's claims: bootstrapping helps at every depth and on both
datasets, K = 512 is the best K, and dropout helps further, enough for depth 152 to
beat depth 101 on VOC (75.90 against 75.45).

    python recipes/fcrn/table4_bootstrapping.py                          # VOC rows
    python recipes/fcrn/table4_bootstrapping.py --dataset cityscapes     # Cityscapes rows
    python recipes/fcrn/table4_bootstrapping.py --scale cpu              # built-in scenes, 5-10 seeds
    python recipes/fcrn/table4_bootstrapping.py --rows "101 512/T" --smoke   # CI

Design: the two datasets need two scales (`FCRN_VOC`, `FCRN_CITYSCAPES`), and a `Table`
holds one full scale, so this script holds two tables, "Table 4 (VOC 2012)" and
"Table 4 (Cityscapes)" (two results files), and `--dataset` picks one; every other
flag is `keras_lk.experiments.main`'s (`--dataset cityscapes --help` lists its rows).
The F/F rows are Tables 1 and 2's configurations: their runs are reused. The CPU scale
(`FCRN_SCENES`) is the VOC table's, as GCN's VOC tables have theirs: rows "local F/F",
"local 256/F", "local 512/F" and "local 1024/F" of `resnet10_local` at 1/8 with Table
1's CPU 5×5 d3 classifier (FoV 104 of a 128² crop) on the scenes with two rare, small
classes among five common large ones (`scenes_rare_classes`); "local F/F" is Table 1's
CPU row "local 1/8 k5 d3 (FoV 104)" (run Table 1 at CPU scale first: it is reused).
Dropout's pair, "local 512/F" and "local 512/T", trains on 200 of the scale's 1,200
training images (`DROPOUT_TRAIN_IMAGES`), declared before any run of this table:
dropout helps a network that over-fits (its claim's precondition), and at 1,200 images
the CPU-scale networks end training with training mIoU below val. Per-class IoU, where
the rare classes ("disc", "square") should gain (FCRN Tables 5-6), is in every run's
results (`per_class_iou`); the claims judge mIoU, which weighs every class equally.

Ambiguities and choices:
- Bootstrapping is `OHEMLoss(mode="fcrn")` with threshold 0: exactly the K hardest
  (lowest true-class probability) valid pixels of each crop, all of them when a crop has
  fewer (Sec. 4.5). FCRN computes its loss on the 1/8 score map (Caffe, labels at the
  score resolution), and so do these scales (`loss_at_score_map`: the logits read back
  on the 1/8 grid, each cell's centre label), so K = 512 is `ohem_min_kept` 512, pixels
  of the score map, as the paper counts them. The paper notes the best K "depends on
  the size of image crops".
- Dropout ("Do."): where and how much is not given; FCRN's `dropout=True` puts
  Dropout(0.5) after each of the three res-5 blocks (`keras_lk.models.fcrn`).
- Rows of depth 101 name no backbone (the scale's), so `--smoke` uses its tiny one;
  depth-152 rows name theirs and build ResNet-152 even in a smoke run.
- CPU scale: K keeps the paper's share of the score map, 512 of the 64² = 4,096 cells
  of a 512² crop at 1/8 (12.5%): 512 × (128 / 512)² = 32 of the 16² cells of a 128²
  crop (256 → 16, 1024 → 64); dropout after the top-most stage's block
  (`resnet10_local` has one per stage).
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import BaselineLearns, Greater, OverfitGap, Row, Table, main
from keras_lk.experiments.settings import FCRN_CITYSCAPES, FCRN_SCENES, FCRN_VOC
from keras_lk.papers import fcrn

STRIDE = 8  # every row: resolution 1/8, kernel 5, dilation 12


def name(depth, k, dropout):
    return f"{depth} {'F' if k is None else k}/{'T' if dropout else 'F'}"


RARE_LEARNT = BaselineLearns(name("local", None, False), classes=(1, 2), min_iou=5.0)


def _row(key, values, scale):
    depth, k, dropout = key
    train = {"model_options": {"output_stride": STRIDE, "kernel_size": 5, "dilation": 12}}
    if dropout:
        train["model_options"]["dropout"] = True
    if k is not None:
        train.update(loss="ohem", ohem_mode="fcrn", ohem_threshold=0.0, ohem_min_kept=k)
    if f"resnet{depth}" != scale.train["backbone"]:
        train["backbone"] = f"resnet{depth}"
    return Row(name(*key), train,
               paper={"miou": values["miou"], "pixel_accuracy": values["pixel_acc"],
                      "mean_class_accuracy": values["mean_acc"]},
               x=k, scales=("full",),
               note="" if k is None else f"K = {k} of the 1/8 score map")


def cpu_min_kept(k, crop=FCRN_SCENES.train["crop_size"]):
    """Bootstrapping's K at CPU scale: the same share of the 1/8 score map of a `crop`²
    crop as K is of a `FCRN_VOC` crop's (512²), in score-map pixels."""
    return round(k * (crop / FCRN_VOC.train["crop_size"]) ** 2)


def _cpu_row(k, dropout, train_images=None):
    """A CPU row: K (None: plain cross-entropy), dropout, and a smaller training split
    (`train_images`; None: the scale's)."""
    train = {"model_options": {"output_stride": STRIDE, "kernel_size": 5, "dilation": 3}}
    if dropout:
        train["model_options"]["dropout"] = True
    note = "Table 1's CPU 5×5 d3 row (FoV 104 of 128)"
    if k is not None:
        train.update(loss="ohem", ohem_mode="fcrn", ohem_threshold=0.0,
                     ohem_min_kept=cpu_min_kept(k))
        note = f"K = {k} scaled to a 128² crop: the {cpu_min_kept(k)} hardest of 16²"
    suffix = ""
    if train_images is not None:
        train["num_train_images"] = train_images
        suffix = f", {train_images} train"
        note += f"; {train_images} training images"
    values = VOC[101, k, dropout]
    return Row(name("local", k, dropout) + suffix, train,
               paper={"miou": values["miou"], "pixel_accuracy": values["pixel_acc"],
                      "mean_class_accuracy": values["mean_acc"]},
               x=k, scales=("cpu",), note=note + "; paper figure: depth 101's row")


def _k_claims(depth):
    return (Greater(f"{depth}: 512/F > F/F", name(depth, 512, False), name(depth, None, False)),
            Greater(f"{depth}: 512/F > 256/F", name(depth, 512, False), name(depth, 256, False)),
            Greater(f"{depth}: 512/F > 1024/F", name(depth, 512, False),
                    name(depth, 1024, False)))


VOC = fcrn.TABLE_4["PASCAL VOC 2012"]
CITYSCAPES = fcrn.TABLE_4["Cityscapes"]
METRICS = ("miou", "pixel_accuracy", "mean_class_accuracy")
# Dropout's CPU pair trains on a smaller split, so that it can over-fit (see above).
DROPOUT_TRAIN_IMAGES = 200
CPU_ROWS = tuple(_cpu_row(k, False) for k in (None, 256, 512, 1024)) + tuple(
    _cpu_row(512, dropout, DROPOUT_TRAIN_IMAGES) for dropout in (False, True))
DROPOUT_PAIR = tuple(row.name for row in CPU_ROWS[-2:])

TABLES = {
    "voc": Table(
        paper="fcrn", table="Table 4 (VOC 2012)", title="online bootstrapping and dropout (VOC)",
        rows=tuple(_row(key, values, FCRN_VOC) for key, values in VOC.items()) + CPU_ROWS,
        scales={"full": FCRN_VOC, "cpu": FCRN_SCENES},
        claims=_k_claims(101) + _k_claims(152) + (
            Greater("101: 512/T > 512/F (dropout)", name(101, 512, True), name(101, 512, False)),
            Greater("152: 512/T > 512/F (dropout)", name(152, 512, True), name(152, 512, False)),
            Greater("with dropout, 152 > 101", name(152, 512, True), name(101, 512, True)),
            # Declared before any run: bootstrapping's claims need a baseline that learns
            # the rare classes (disc, square: ids 1 and 2) at all, dropout's a network
            # that over-fits (train − val ≥ 5 points), the mechanisms FCRN names.
            Greater("CPU: bootstrapping helps (512/F > F/F)", name("local", 512, False),
                    name("local", None, False), preconditions=(RARE_LEARNT,)),
            Greater("CPU: bootstrapping helps the mean class accuracy (512/F > F/F)",
                    name("local", 512, False), name("local", None, False),
                    "mean_class_accuracy", preconditions=(RARE_LEARNT,)),
            Greater(f"CPU: dropout helps (512/T > 512/F, {DROPOUT_TRAIN_IMAGES} train)",
                    DROPOUT_PAIR[1], DROPOUT_PAIR[0],
                    preconditions=(OverfitGap(DROPOUT_PAIR[0], 5.0),)),
            Greater("CPU: 512/F > 256/F", name("local", 512, False), name("local", 256, False)),
            Greater("CPU: 512/F > 1024/F", name("local", 512, False),
                    name("local", 1024, False)),
        ),
        metrics=METRICS,
        notes="Paper: VOC 2012 val, 1/8, 5×5, d12. K is per crop of the 1/8 score map, "
              "as ours (the loss is read on the score map). CPU scale: scenes with two rare "
              "small classes, resnet10_local 1/8, 5×5 d3 (FoV 104 of 128), K scaled to "
              "the crop (256, 512, 1024 → 16, 32, 64 of the 16² score map); the depth "
              "claims have no CPU rows.",
    ),
    "cityscapes": Table(
        paper="fcrn", table="Table 4 (Cityscapes)",
        title="online bootstrapping (Cityscapes)",
        rows=tuple(_row(key, values, FCRN_CITYSCAPES) for key, values in CITYSCAPES.items()),
        scales={"full": FCRN_CITYSCAPES},
        claims=_k_claims(152),
        metrics=METRICS,
        notes="Paper: Cityscapes val, depth 152, 1/8, 5×5, d12; no dropout row.",
    ),
}


def run(argv=None):
    """`--dataset voc` (default) or `cityscapes`, then the chosen table's command line."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--dataset", choices=tuple(TABLES), default="voc")
    args, rest = parser.parse_known_args(argv)
    return main(TABLES[args.dataset], rest, description=__doc__)


if __name__ == "__main__":
    sys.exit(run())
