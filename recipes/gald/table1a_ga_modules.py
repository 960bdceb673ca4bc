"""GALD Table 1(a): the FCN baseline against FCN + one Global Aggregation (GA) module.

Rows: GALDNet on a dilated ResNet-50 (output stride 8) without LD, whose head has no GA
module ("FCN (Baseline)") or one of ASPP, Non-local, PSP pyramid pooling and CGNL
(GALD Fig. 3 (a)-(d) without LD). The paper's claim: every GA module improves the FCN
(73.7 → 76.2-78.2 mIoU on Cityscapes val), CGNL the most.

    python recipes/gald/table1a_ga_modules.py            # the paper's run (Cityscapes)
    python recipes/gald/table1a_ga_modules.py --smoke    # CI: a few steps, same path

Full scale only (`GALD_CITYSCAPES` in `keras_lk/experiments/settings.py`: the paper's
Sec. 4.2 setting; weight decay, random scale and the OHEM thresholds, not in the paper,
are GALD's public script's). Evaluation: val, single scale, 769² sliding window (the
caption's "single-scale crop test"). Ambiguities: the paper does not give the modules'
inner settings; ours are those of `keras_lk.layers` (ASPP rates 12/24/36, PSP bins
1/2/3/6, CGNL with 8 groups and Non-local on the 2× downsampled map, as GALD does for
CGNL). Every row keeps the auxiliary res-4 head (loss weight 0.4) and OHEM, as the
paper trains "all models" the same way.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Greater, Row, Table, main
from keras_lk.experiments.settings import GALD_CITYSCAPES
from keras_lk.papers import gald

# Paper row label → GALDNet's `ga` option.
GA_MODULES = {"+ASPP": "aspp", "+NL": "nonlocal", "+PSP": "psp", "+CGNL": "cgnl"}

ROWS = (Row("FCN (Baseline)", {"model_options": {"ga": None, "ld": False}},
            paper={"miou": gald.TABLE_1A_MIOU["FCN (Baseline)"]}, scales=("full",)),) + tuple(
    Row(label, {"model_options": {"ga": ga, "ld": False}},
        paper={"miou": gald.TABLE_1A_MIOU[label]}, scales=("full",))
    for label, ga in GA_MODULES.items())

TABLE = Table(
    paper="gald", table="Table 1(a)", title="FCN + one GA module (ResNet-50)",
    rows=ROWS, scales={"full": GALD_CITYSCAPES},
    claims=tuple(Greater(f"{label} > FCN (Baseline)", label, "FCN (Baseline)")
                 for label in GA_MODULES) + (
        Greater("+CGNL > +PSP", "+CGNL", "+PSP"),
        Greater("+CGNL > +ASPP", "+CGNL", "+ASPP"),
    ),
    notes="Paper: Cityscapes val, ResNet-50, single-scale crop test. GA modules' inner "
          "settings are keras_lk's (not given by the paper).",
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
