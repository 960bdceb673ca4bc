"""Seed statistics of a table's rows, and the papers' claims tested on them.

Rows are trained with the same seeds, so a claim compares rows seed by seed: for
"A > B" the difference A − B is taken per seed (same data order, same backbone
initialisation), and its mean is judged in units of its standard error
(std / √n over the n seeds). A trend claim ("mIoU rises with k") takes the
least-squares slope of the metric against the rows' `x` per seed, and judges the
mean slope the same way.

Verdict, printed with every claim: **agrees** when the effect has the paper's sign
and is at least `THRESHOLD` standard errors from zero, **disagrees** when it has the
opposite sign by as much, **inconclusive** otherwise (fewer than 2 seeds is always
inconclusive). With 3 seeds, 2 standard errors is weak evidence (a two-sided p of
about 0.18 for a t-distribution with 2 degrees of freedom): the seed count is printed
beside every verdict.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

THRESHOLD = 2.0
VERDICTS = ("agrees", "disagrees", "inconclusive")


def summarize(values) -> dict:
    """Mean, sample standard deviation (ddof 1; 0 for one value) and n of `values`."""
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(values):
        return {"mean": None, "std": None, "n": 0}
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std, "n": len(values)}


def judge(effects) -> dict:
    """The verdict on per-seed effects whose expected sign (the paper's) is positive.

    Returns:
        ``{"effect", "std", "n", "standard_errors", "verdict"}``: the mean effect, its
        standard deviation over seeds, the number of seeds, the mean in standard
        errors (None with fewer than 2 seeds or zero spread) and the verdict.
    """
    stats = summarize(effects)
    n, mean, std = stats["n"], stats["mean"], stats["std"]
    if n < 2:
        return {"effect": mean, "std": std, "n": n, "standard_errors": None,
                "verdict": "inconclusive"}
    if std == 0:
        errors = math.copysign(math.inf, mean) if mean else 0.0
    else:
        errors = mean / (std / math.sqrt(n))
    verdict = ("agrees" if errors >= THRESHOLD else
               "disagrees" if errors <= -THRESHOLD else "inconclusive")
    return {"effect": mean, "std": std, "n": n,
            "standard_errors": None if math.isinf(errors) else float(errors),
            "verdict": verdict}


def _by_seed(runs, row, metric, split):
    return {run["seed"]: _metric(run, metric, split) for run in runs if run["row"] == row}


def _metric(run, metric, split):
    value = run["metrics"][split][metric]
    return None if value is None else float(value)


@dataclasses.dataclass(frozen=True)
class Greater:
    """The paper's claim that row `better` scores above row `worse` on `metric`.

    Args:
        statement: the claim in words ("GCN k = 15 > 1×1 base").
        better, worse: row names.
        metric: a key of `evaluate_segmentation`'s result (in [0, 1]); effects are
            reported in points (× 100).
    """

    statement: str
    better: str
    worse: str
    metric: str = "miou"

    @property
    def rows(self):
        return (self.better, self.worse)

    def effects(self, runs, split):
        """Per-seed differences better − worse, in points, over the seeds both have."""
        better = _by_seed(runs, self.better, self.metric, split)
        worse = _by_seed(runs, self.worse, self.metric, split)
        return [100 * (better[s] - worse[s]) for s in sorted(set(better) & set(worse))]

    def evaluate(self, runs, split):
        return {"statement": self.statement, "metric": self.metric, "split": split,
                "unit": "points", **judge(self.effects(runs, split))}


@dataclasses.dataclass(frozen=True)
class Trend:
    """The paper's claim that `metric` rises (or, with ``sign=-1``, falls) along `rows`,
    against each row's `x`; with `baseline_rows`, that the gain over them does.

    The effect is the per-seed least-squares slope of the metric (in points) against
    `x`, multiplied by `sign`, reported per unit of `x`.
    """

    statement: str
    row_names: tuple
    xs: tuple
    metric: str = "miou"
    sign: int = 1
    baseline_rows: tuple = ()

    @property
    def rows(self):
        return tuple(self.row_names) + tuple(self.baseline_rows)

    def effects(self, runs, split):
        """Per-seed slopes; with `baseline_rows` (one per row), of the gain row − baseline."""
        by_row = [_by_seed(runs, row, self.metric, split) for row in self.row_names]
        bases = [_by_seed(runs, row, self.metric, split) for row in self.baseline_rows]
        seeds = set.intersection(*(set(values) for values in by_row + bases)) if by_row else set()
        slopes = []
        for seed in sorted(seeds):
            ys = np.array([100 * values[seed] for values in by_row])
            if bases:
                ys = ys - np.array([100 * values[seed] for values in bases])
            slopes.append(self.sign * float(np.polyfit(np.asarray(self.xs, float), ys, 1)[0]))
        return slopes

    def evaluate(self, runs, split):
        return {"statement": self.statement, "metric": self.metric, "split": split,
                "unit": "points per unit of x" if self.sign > 0 else
                "points lost per unit of x", **judge(self.effects(runs, split))}


def row_summaries(runs, rows, metrics, split) -> dict:
    """``{row: {metric: summarize(values over seeds)}}`` for `split`."""
    return {row: {metric: summarize(100 * _metric(run, metric, split)
                                    for run in runs if run["row"] == row)
                  for metric in metrics}
            for row in rows}


def format_claim(result) -> str:
    """One line: verdict, effect ± std over n seeds, in standard errors."""
    effect, std, errors = result["effect"], result["std"], result["standard_errors"]
    if effect is None:
        return f"{result['statement']}: inconclusive (no paired seeds)"
    sigmas = "n/a" if errors is None else f"{errors:+.1f}"
    return (f"{result['statement']}: {result['verdict']} ({result['metric']} on "
            f"{result['split']}: {effect:+.2f} ± {std:.2f} {result['unit']} over "
            f"{result['n']} seeds, {sigmas} standard errors)")
