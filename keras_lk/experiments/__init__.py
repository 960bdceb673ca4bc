"""keras_lk.experiments: the machinery of the recipes in `recipes/<paper>/`.

A recipe declares a paper table as data (`Table` of `Row`s, one `Scale` per setting:
``"full"`` the paper's run, ``"cpu"`` the built-in scenes) and the claims it tests
(`Greater`, `Trend`), then calls `main(TABLE)`. `run_table` trains every (row, seed)
through `keras_lk.training.train`, evaluates it, and appends it to the table's results
file; `report` prints the table beside the paper's and generates each paper's README
section from the results files.

Example:
>>> from keras_lk.experiments import Row, Scale, Table, main
>>> TABLE = Table(paper="gcn", table="Table 1", title="kernel size", rows=(...),
...               scales={"full": FULL, "cpu": CPU})
>>> main(TABLE)   # python recipes/gcn/table1_kernel_size.py --scale cpu
"""

from keras_lk.experiments.runner import main, run_table
from keras_lk.experiments.statistics import Greater, Trend, judge, summarize
from keras_lk.experiments.table import Evaluation, Row, Scale, Table, merge_train

__all__ = [
    "Evaluation",
    "Greater",
    "Row",
    "Scale",
    "Table",
    "Trend",
    "judge",
    "main",
    "merge_train",
    "run_table",
    "summarize",
]
