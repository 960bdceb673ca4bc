"""GALD Table 1(c): arrangements of GA (CGNL) and LD.

Rows: the FCN baseline and GALDNet (dilated ResNet-50, CGNL) with the two modules
"Parallel" (the outputs of GA and LD concatenated, Fig. 3 (g)), "LDGA" (LD then GA,
Fig. 3 (f)) and "GALD" (GA then LD, Fig. 3 (e)). The paper's claim: every arrangement
improves the baseline and GALD is the best (79.6 against 78.1 and 77.5): LD needs the
global features to know where the large patterns are.

    python recipes/gald/table1c_arrangements.py            # the paper's run
    python recipes/gald/table1c_arrangements.py --smoke    # CI

Full scale only (`GALD_CITYSCAPES`). "+GALD" is Table 1(b)'s "+CGNL + LD" and the
baseline Table 1(a)'s: their runs are reused when those results exist. Ambiguity: the
paper does not say how "Parallel" merges the two outputs beyond "concatenates"; ours
concatenates them (twice the channels into the fuse conv, `keras_lk.models.gald_net`).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Greater, Row, Table, main
from keras_lk.experiments.settings import GALD_CITYSCAPES
from keras_lk.papers import gald

# Paper row label → GALDNet's `arrangement`.
ARRANGEMENTS = {"+Parallel": "parallel", "+LDGA": "ldga", "+GALD": "gald"}

ROWS = (Row("FCN (Baseline)", {"model_options": {"ga": None, "ld": False}},
            paper={"miou": gald.TABLE_1C_MIOU["FCN (Baseline)"]}, scales=("full",)),) + tuple(
    Row(label, {"model_options": {"ga": "cgnl", "ld": True, "arrangement": arrangement}},
        paper={"miou": gald.TABLE_1C_MIOU[label]}, scales=("full",))
    for label, arrangement in ARRANGEMENTS.items())

TABLE = Table(
    paper="gald", table="Table 1(c)", title="arrangements of GA (CGNL) and LD (ResNet-50)",
    rows=ROWS, scales={"full": GALD_CITYSCAPES},
    claims=tuple(Greater(f"{label} > FCN (Baseline)", label, "FCN (Baseline)")
                 for label in ARRANGEMENTS) + (
        Greater("+GALD > +LDGA", "+GALD", "+LDGA"),
        Greater("+GALD > +Parallel", "+GALD", "+Parallel"),
    ),
    notes="Paper: Cityscapes val, ResNet-50, single-scale crop test.",
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
