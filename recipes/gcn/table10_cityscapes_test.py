"""GCN Table 10: Cityscapes test, GCN + BR against published methods (server only).

The test labels are not public: this recipe writes the server's archive for our row
("Our approach", 76.9): labelId PNGs of the 1,525 test images of
`leftImg8bit_trainvaltest.zip`, predicted by Table 9's final model ("Stage-2-MS-CRF":
four 1024² windows per image, scales 0.5-1.5 + flip, dense CRF). Upload it at
https://www.cityscapes-dataset.com/submit/ (an account and the server's submission
limit apply). The paper's other rows are other papers' figures.

    python recipes/gcn/table9_cityscapes_stages.py                   # train the model first
    python recipes/gcn/table10_cityscapes_test.py --manual-dir DIR   # DIR holds the zip
    python recipes/gcn/table10_cityscapes_test.py --manual-dir DIR --smoke   # CI

Ambiguity: Table 10's 76.9 equals Table 9's Stage-2 val figure and the paper does not
say which protocol the submission used; Table 9's best val row (MS + CRF) is assumed.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments.coverage import load_recipe
from keras_lk.experiments.submit import Submission, main
from keras_lk.papers import gcn


def _table9():
    return load_recipe(os.path.join(os.path.dirname(os.path.abspath(__file__)), "table9_cityscapes_stages.py"))


def _smoke_model():
    from keras_lk.models import GCNSeg

    return GCNSeg(num_classes=19, k=3, boundary_refine=True, backbone="resnet10_narrow")


TABLE9 = _table9()
ROW = next(row for row in TABLE9.TABLE.rows if row.name == "Stage-2-MS-CRF")
SUBMISSION = Submission(
    paper="gcn", table="Table 10", title="Cityscapes test (evaluation server)",
    benchmark="cityscapes", paper_rows=gcn.TABLE_10_MIOU, ours="Our approach",
    evaluation=ROW.evaluation_at(TABLE9.TABLE.scales["full"]),
    default_model=os.path.join("runs", "recipes", "gcn", "table_9", "full", "stage_2",
                               "seed_0", "model.keras"),
    smoke_model=_smoke_model,
)

if __name__ == "__main__":
    sys.exit(main(SUBMISSION, description=__doc__))
