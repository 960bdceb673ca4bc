"""GALD Table 1(e): how LD downsamples the features to estimate its mask.

Rows: the FCN baseline, FCN + CGNL, and CGNL + LD whose mask is estimated from the GA
features downsampled by 8 with a depth-wise strided convolution (the paper's LD),
bilinear interpolation, or average pooling (GALDNet's `ld_downsample`). The paper's
claim: only the learnable depth-wise convolution helps (+1.4 over CGNL); bilinear
(−0.6) and average pooling (−1.7) even hurt: the per-channel filters matter.

    python recipes/gald/table1e_ld_downsampling.py               # the paper's run
    python recipes/gald/table1e_ld_downsampling.py --scale cpu   # built-in scenes, 5-10 seeds
    python recipes/gald/table1e_ld_downsampling.py --smoke       # CI

Full scale: `GALD_CITYSCAPES`. "FCN + CGNL" is Table 1(a)'s "+CGNL" and the
depth-wise row Table 1(b)'s "+CGNL + LD" (runs reused). CPU scale (`GALD_SCENES`): the
same data and rows as Table 1(b)'s CPU rows (`scenes_small_objects`, the same seeds;
run Table 1(b) first and only the bilinear and average rows train here), with every
downsampler at rate 2 instead of 8 (a stride-2 depth-wise 3×3 convolution, a 2×
bilinear resize, 2×2 average pooling: on the 16² feature map of a 128² crop, rate 8
leaves a 2×2 mask; see `GALD_SCENES`). Ambiguity: the paper's Eq. (1)
is a purely linear W_d, while GALD's public code follows each depth-wise convolution
with BatchNorm and ReLU (so its mask lies in [0.5, 1)); GALDNet follows the equation
(`LocalDistribution`'s defaults; its `batch_norm`/`relu` options are not GALDNet
options). The bilinear and average downsamplers have no weights either way.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Greater, Row, Table, main
from keras_lk.experiments.settings import GALD_CITYSCAPES, GALD_SCENES
from keras_lk.papers import gald

# Paper row label → GALDNet's `ld_downsample`.
DOWNSAMPLERS = {"+CGNL+LD(depth-wise convolution)": "depthwise",
                "+CGNL+LD(bilinear interpolation)": "bilinear",
                "+CGNL+LD(average pooling)": "average"}
DEPTHWISE = "+CGNL+LD(depth-wise convolution)"

ROWS = (
    Row("FCN (Baseline)", {"model_options": {"ga": None, "ld": False}},
        paper={"miou": gald.TABLE_1E_MIOU["FCN (Baseline)"]}),
    Row("FCN + CGNL", {"model_options": {"ga": "cgnl", "ld": False}},
        paper={"miou": gald.TABLE_1E_MIOU["FCN + CGNL"]}),
) + tuple(
    Row(label, {"model_options": {"ga": "cgnl", "ld": True, "ld_downsample": downsample}},
        paper={"miou": gald.TABLE_1E_MIOU[label]})
    for label, downsample in DOWNSAMPLERS.items())

TABLE = Table(
    paper="gald", table="Table 1(e)", title="LD mask downsampling (ratio 8, ResNet-50)",
    rows=ROWS, scales={"full": GALD_CITYSCAPES, "cpu": GALD_SCENES},
    claims=(
        Greater("depth-wise LD > FCN + CGNL", DEPTHWISE, "FCN + CGNL"),
        Greater("depth-wise > bilinear", DEPTHWISE, "+CGNL+LD(bilinear interpolation)"),
        Greater("depth-wise > average pooling", DEPTHWISE, "+CGNL+LD(average pooling)"),
        Greater("FCN + CGNL > average-pooling LD", "FCN + CGNL", "+CGNL+LD(average pooling)"),
    ),
    notes="Paper: Cityscapes val, ResNet-50, single-scale crop test, downsampling ratio 8. "
          "CPU scale: scenes with small objects inside large ones, resnet10_local, "
          "downsampling ratio 2 for every row.",
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
