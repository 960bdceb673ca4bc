"""keras_lk.experiments: the machinery of the recipes in `recipes/<paper>/`.

A recipe declares a paper table as data (`Table` of `Row`s, one `Scale` per setting:
``"full"`` the paper's run, ``"cpu"`` the built-in scenes, with the `SeedRule` that
says how many seeds each row gets) and the claims it tests (`Greater`, `Trend`, each
with the preconditions under which the run can test it: `Plateau`, `OverfitGap`,
`BaselineLearns`, `ThinBoundary`), then calls `main(TABLE)`. `run_table` trains every
(row, seed) through `keras_lk.training.train`, evaluates it, and appends it to the
table's results file; `report` prints the table beside the paper's and generates each
paper's README section from the results files, with each claim's 95 % t-interval and
its verdict corrected over the paper's comparisons (Benjamini–Hochberg,
`correct_claims`; see `keras_lk.experiments.statistics`).

Example:
>>> from keras_lk.experiments import Row, Scale, Table, main
>>> TABLE = Table(paper="gcn", table="Table 1", title="kernel size", rows=(...),
...               scales={"full": FULL, "cpu": CPU})
>>> main(TABLE)   # python recipes/gcn/table1_kernel_size.py --scale cpu
"""

from keras_lk.experiments.runner import main, run_table
from keras_lk.experiments.statistics import (
    VERDICTS,
    BaselineLearns,
    Greater,
    OverfitGap,
    Plateau,
    SeedRule,
    ThinBoundary,
    Trend,
    benjamini_hochberg,
    correct_claims,
    judge,
    summarize,
    t_interval,
)
from keras_lk.experiments.table import Evaluation, Row, Scale, Table, merge_train

__all__ = [
    "VERDICTS",
    "BaselineLearns",
    "Evaluation",
    "Greater",
    "OverfitGap",
    "Plateau",
    "Row",
    "Scale",
    "SeedRule",
    "Table",
    "ThinBoundary",
    "Trend",
    "benjamini_hochberg",
    "correct_claims",
    "judge",
    "main",
    "merge_train",
    "run_table",
    "summarize",
    "t_interval",
]
