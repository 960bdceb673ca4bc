"""GCN Table 4: the k = 7 stack of 3×3 convolutions with intermediate width m = 2048,
1024, 210, against GCN k = 7.

The paper's point: a narrow stack (m = 210, about GCN's parameter count) is worse
(68.8), a wide one (m = 2048, 125× GCN's parameters) still does not reach GCN (71.3
against 72.8). Full scale only: at CPU scale the widths have no counterpart (the CPU
backbone's res-5 is 128 wide). `table2_table4_parameters.py` reproduces the parameter
column exactly.

    python recipes/gcn/table4_stack_width.py            # the paper's run
    python recipes/gcn/table4_stack_width.py --smoke
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_lk.experiments import Greater, Row, Table, main
from keras_lk.experiments.settings import GCN_VOC
from keras_lk.papers import gcn

ROWS = tuple(
    Row(f"3×3 stack m = {m}", {"model_options": {"head": "stack3x3", "k": 7,
                                                 "stack_channels": m}},
        paper={"miou": gcn.TABLE_4_MIOU_STACK[m]}, x=m, scales=("full",))
    for m in (2048, 1024, 210)) + (
    Row("GCN k = 7", {"model_options": {"head": "gcn", "k": 7}},
        paper={"miou": gcn.TABLE_4_MIOU_GCN}, scales=("full",)),)

TABLE = Table(
    paper="gcn", table="Table 4", title="width m of the k = 7 stack of 3×3 convolutions",
    rows=ROWS, scales={"full": GCN_VOC},
    claims=(Greater("GCN k = 7 > 3×3 stack m = 2048", "GCN k = 7", "3×3 stack m = 2048"),),
)

if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__))
