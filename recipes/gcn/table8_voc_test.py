"""GCN Table 8: PASCAL VOC 2012 test, GCN + BR against published methods (server only).

The test labels are not public: this recipe writes the server's archive for our row
("Our approach", 82.2): the label maps of the 1,456 test images predicted by Table 7's
final model, "Stage-3-MS-CRF GCN + BR" (multi-scale 0.5-1.5 + flip + dense CRF with
DeepLab's VOC parameters), as `results/VOC2012/Segmentation/comp6_test_cls/*.png`
(comp6: trained with data beyond VOC, here COCO). Upload it at
http://host.robots.ox.ac.uk:8080/ (registration and the server's rules apply). The
paper's other rows are other papers' published figures, printed for comparison.

    python recipes/gcn/table7_voc_stages.py                    # train the model first
    python recipes/gcn/table8_voc_test.py --manual-dir DIR     # DIR holds VOC2012test.tar
    python recipes/gcn/table8_voc_test.py --manual-dir DIR --model runs/.../model.keras
    python recipes/gcn/table8_voc_test.py --manual-dir DIR --smoke   # CI

The paper does not say which test-time protocol its submission used; Table 7's best
val row is assumed.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments.coverage import load_recipe
from keras_lk.experiments.submit import Submission, main
from keras_lk.papers import gcn


def _table7():
    return load_recipe(os.path.join(os.path.dirname(os.path.abspath(__file__)), "table7_voc_stages.py"))


def _smoke_model():
    from keras_lk.models import GCNSeg

    return GCNSeg(num_classes=21, k=3, boundary_refine=True, backbone="resnet10_narrow")


TABLE7 = _table7()
ROW = next(row for row in TABLE7.TABLE.rows if row.name == "Stage-3-MS-CRF GCN + BR")
SUBMISSION = Submission(
    paper="gcn", table="Table 8", title="PASCAL VOC 2012 test (evaluation server)",
    benchmark="voc", paper_rows=gcn.TABLE_8_MIOU, ours="Our approach",
    evaluation=ROW.evaluation_at(TABLE7.TABLE.scales["full"]),
    default_model=os.path.join("runs", "recipes", "gcn", "table_7", "full",
                               "stage_3_gcn___br", "seed_0", "model.keras"),
    smoke_model=_smoke_model,
)

if __name__ == "__main__":
    sys.exit(main(SUBMISSION, description=__doc__))
