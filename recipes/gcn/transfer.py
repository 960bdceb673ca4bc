"""Does the "scenes" backbone transfer? Pretrained vs from scratch at equal steps, on val.

The CPU-scale tables fine-tune `resnet10_local` from the packaged "scenes" weights (a
dense pretext on scenes no table uses, `keras_lk.experiments.scenes_pretext`), as the
papers fine-tune from ImageNet. A weak pretext teaches nothing
(`../shared/notes/claims_and_scenes.md` records one that did not), so the transfer is
measured before any table is built on it: the 1×1 and GCN k = 15 heads of GCN Table 1,
trained with the CPU scale's fine-tuning settings for the same fixed number of steps
from the scenes weights and from a random start, judged on val (the selection split:
this decides the regime, so test is not read).

    python recipes/gcn/transfer.py --scale cpu        # 4 rows × 5 seeds, val only
    python recipes/gcn/transfer.py --scale cpu --smoke

Not a table of the paper: there is no full-scale run.
"""

import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Evaluation, Greater, Row, Table, main
from keras_lk.experiments.settings import GCN_SCENES

STEPS = 800  # fixed, equal for both starts: the comparison is at equal budget
SCALE = dataclasses.replace(
    GCN_SCENES, plateau=None,
    train={**GCN_SCENES.train, "steps": STEPS},
    evaluation=Evaluation(splits=("val",), num_images=GCN_SCENES.evaluation.num_images,
                          boundary_distance=GCN_SCENES.evaluation.boundary_distance),
    description=GCN_SCENES.description.replace("steps by the plateau rule",
                                               f"{STEPS} steps") + "; val only")
HEADS = (("1×1", {"head": "conv1x1", "k": 1}), ("GCN k = 15", {"head": "gcn", "k": 15}))
ROWS = tuple(Row(f"{name}, {start}", {"model_options": options, "backbone_weights": weights},
                 scales=("cpu",))
             for name, options in HEADS
             for start, weights in (("from scratch", None), ("scenes weights", "scenes")))

TABLE = Table(
    paper="gcn", table="Transfer",
    title="The scenes backbone: pretrained vs from scratch at equal steps (val)",
    rows=ROWS, scales={"cpu": SCALE},
    claims=tuple(Greater(f"scenes weights > from scratch ({name})",
                         f"{name}, scenes weights", f"{name}, from scratch")
                 for name, _ in HEADS),
    metrics=("miou",),
    notes=f"Both starts train {STEPS} steps with the same schedule and seeds; the "
          "comparison decides whether the CPU-scale tables fine-tune from the scenes "
          "weights (they do when both claims agree).",
    regime_check=True,
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
