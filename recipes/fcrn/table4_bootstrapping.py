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
    python recipes/fcrn/table4_bootstrapping.py --rows "101 512/T" --smoke   # CI

Design: the two datasets need two scales (`FCRN_VOC`, `FCRN_CITYSCAPES`), and a `Table`
holds one full scale, so this script holds two tables, "Table 4 (VOC 2012)" and
"Table 4 (Cityscapes)" (two results files), and `--dataset` picks one; every other
flag is `keras_lk.experiments.main`'s (`--dataset cityscapes --help` lists its rows).
The F/F rows are Tables 1 and 2's configurations: their runs are reused.

Ambiguities and choices:
- Bootstrapping is `OHEMLoss(mode="fcrn")` with threshold 0: exactly the K hardest
  (lowest true-class probability) valid pixels of each crop, all of them when a crop has
  fewer (Sec. 4.5). FCRN computes its loss on the 1/8 score map (Caffe, labels at the
  score resolution; Sec. 4.4's "finer labels"), our engine on logits upsampled to the
  crop: to keep the same *fraction* of each crop's pixels, K is multiplied by the
  stride² (64): K = 512 is `ohem_min_kept` 32,768. The paper notes the best K "depends
  on the size of image crops".
- Dropout ("Do."): where and how much is not given; FCRN's `dropout=True` puts
  Dropout(0.5) after each of the three res-5 blocks (`keras_lk.models.fcrn`).
- Rows of depth 101 name no backbone (the scale's), so `--smoke` uses its tiny one;
  depth-152 rows name theirs and build ResNet-152 even in a smoke run.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Greater, Row, Table, main
from keras_lk.experiments.settings import FCRN_CITYSCAPES, FCRN_VOC
from keras_lk.papers import fcrn

STRIDE = 8  # every row: resolution 1/8, kernel 5, dilation 12


def name(depth, k, dropout):
    return f"{depth} {'F' if k is None else k}/{'T' if dropout else 'F'}"


def _row(key, values, scale):
    depth, k, dropout = key
    train = {"model_options": {"output_stride": STRIDE, "kernel_size": 5, "dilation": 12}}
    if dropout:
        train["model_options"]["dropout"] = True
    if k is not None:
        train.update(loss="ohem", ohem_mode="fcrn", ohem_threshold=0.0,
                     ohem_min_kept=k * STRIDE**2)
    if f"resnet{depth}" != scale.train["backbone"]:
        train["backbone"] = f"resnet{depth}"
    return Row(name(*key), train,
               paper={"miou": values["miou"], "pixel_accuracy": values["pixel_acc"],
                      "mean_class_accuracy": values["mean_acc"]},
               x=k, scales=("full",),
               note="" if k is None else f"K = {k} of the 1/8 map = {k * STRIDE**2} pixels")


def _k_claims(depth):
    return (Greater(f"{depth}: 512/F > F/F", name(depth, 512, False), name(depth, None, False)),
            Greater(f"{depth}: 512/F > 256/F", name(depth, 512, False), name(depth, 256, False)),
            Greater(f"{depth}: 512/F > 1024/F", name(depth, 512, False),
                    name(depth, 1024, False)))


VOC = fcrn.TABLE_4["PASCAL VOC 2012"]
CITYSCAPES = fcrn.TABLE_4["Cityscapes"]
METRICS = ("miou", "pixel_accuracy", "mean_class_accuracy")

TABLES = {
    "voc": Table(
        paper="fcrn", table="Table 4 (VOC 2012)", title="online bootstrapping and dropout (VOC)",
        rows=tuple(_row(key, values, FCRN_VOC) for key, values in VOC.items()),
        scales={"full": FCRN_VOC},
        claims=_k_claims(101) + _k_claims(152) + (
            Greater("101: 512/T > 512/F (dropout)", name(101, 512, True), name(101, 512, False)),
            Greater("152: 512/T > 512/F (dropout)", name(152, 512, True), name(152, 512, False)),
            Greater("with dropout, 152 > 101", name(152, 512, True), name(101, 512, True)),
        ),
        metrics=METRICS,
        notes="Paper: VOC 2012 val, 1/8, 5×5, d12. K is per crop of the 1/8 score map; "
              "ours counts full-resolution pixels (K × 64).",
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
