"""Seed statistics of a table's rows, and the papers' claims tested on them.

**Paired effects.** Rows are trained with the same seeds, so a claim compares rows seed
by seed: for "A > B" (`Greater`) the difference A − B is taken per seed (same data
order, same initialisation), in points; for "the metric rises with x" (`Trend`) the
least-squares slope of the metric against the rows' `x`, per seed.

**The test.** The n per-seed effects are tested against 0 with a one-sample t-test
(df = n − 1): `t_interval` gives the mean effect, its std, n, t, the two-sided p and
the 95 % t-interval ``mean ± t(0.975, n − 1) · std / √n``. At small n the critical
value is large (4.30 at n = 3, 2.78 at n = 5, 2.26 at n = 10): "2 standard errors", the
rule this replaces, was a two-sided p of 0.18 at n = 3.

**Verdicts** (`VERDICTS`): *agrees* when the test rejects 0 (the interval excludes 0)
and the effect has the paper's sign, *disagrees* when it rejects 0 with the opposite
sign, *inconclusive* otherwise (always with fewer than 2 paired seeds), and
*not testable here* when one of the claim's `preconditions` fails on the runs: the
mechanism the paper's claim relies on is absent (no over-fitting for a dropout claim,
no plateau, a baseline that learns nothing of the classes in question), so whatever
the difference, it does not test the claim. The failed precondition is named.

**Multiple claims.** A paper's CPU-scale tables test some 20-30 claims; at 95 % each,
one or two "agree" or "disagree" by chance. `correct_claims` therefore takes every
results file of one paper and scale and applies Benjamini–Hochberg at ``q = 0.05``
(`FDR`) over the paper's *comparisons*: a comparison is what is compared, not the table
showing it (`comparison_key`: the rows' training configurations without seed and
output folder, their evaluation protocol, the metric and the split), so GCN Table 1's
"k = 15 > base" and Table 5's "GCN > Baseline" are one test, counted once. A claim's
verdict in a table is then its comparison's corrected verdict; the uncorrected
95 % interval is printed beside it. Consistent with the correction, each comparison
also gets the Benjamini–Yekutieli (2005) false-coverage-rate interval: the t-interval
at level ``1 − R·q/m`` (R rejections among m comparisons; R = 0 is taken as 1, i.e.
Bonferroni's ``1 − q/m``). It excludes 0 exactly for the comparisons BH rejects, and
the expected share of these intervals that miss their true effect among the rejected
ones is at most q.

Comparisons left out of the family: those *not testable here* (their p-value does not
bear on the paper's claim, and a precondition — plateau, over-fitting gap, baseline
IoU, band width — is not the sign of the difference, so leaving them out selects
nothing on the tested quantity; keeping them would only dilute the others' power) and
those with fewer than 2 paired seeds (no p-value).

**How many seeds** (`SeedRule`, declared on a `Scale` before its runs): every row gets
`initial` seeds (5 at CPU scale); a claim whose 95 % interval on the *selection split*
(val: test is read once, at the end) straddles 0 with |t| ≥ 1 gets its rows extended
to `maximum` seeds (10), once.

Reference: Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B
57(1); Benjamini & Yekutieli (2005), "False discovery rate-adjusted multiple confidence
intervals for selected parameters", JASA 100(469).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re

import numpy as np
from scipy import stats as scipy_stats

from keras_lk.training.config import TrainConfig

LEVEL = 0.95  # the level of every claim's t-interval
FDR = 0.05  # Benjamini–Hochberg's q over one paper's comparisons at one scale
MIN_SEEDS = 2  # fewer paired seeds than this: no test, "inconclusive"
VERDICTS = ("agrees", "disagrees", "inconclusive", "not testable here")


def summarize(values) -> dict:
    """Mean, sample standard deviation (ddof 1; 0 for one value) and n of `values`."""
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if not len(values):
        return {"mean": None, "std": None, "n": 0}
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std, "n": len(values)}


def t_interval(effects, level=LEVEL) -> dict:
    """The one-sample t-test of per-seed `effects` against 0, with its `level` interval.

    Returns:
        ``{"effect", "std", "n", "t", "p", "low", "high", "level"}``: the mean effect,
        its sample std, the number of seeds, t = mean / (std / √n) with n − 1 degrees
        of freedom, the two-sided p and the interval ``mean ± t_crit · std / √n``.
        With fewer than 2 effects t, p and the interval are None. With zero spread
        (n ≥ 2, every effect equal) t is None (infinite) and p is 0, or 1 when the
        effects are all 0; the interval is the point.

    Example:
    >>> keras_lk.experiments.statistics.t_interval([1, 2, 3, 4, 5])
    {'effect': 3.0, 'std': 1.58, 'n': 5, 't': 4.24, 'p': 0.013, 'low': 1.04, 'high': 4.96, ...}
    """
    summary = summarize(effects)
    n, mean, std = summary["n"], summary["mean"], summary["std"]
    result = {"effect": mean, "std": std, "n": n, "t": None, "p": None, "low": None,
              "high": None, "level": level}
    if n < MIN_SEEDS:
        return result
    if std == 0:
        return {**result, "t": 0.0 if mean == 0 else None, "p": 1.0 if mean == 0 else 0.0,
                "low": mean, "high": mean}
    error = std / math.sqrt(n)
    t = mean / error
    half = float(scipy_stats.t.ppf(0.5 + level / 2, n - 1)) * error
    return {**result, "t": float(t), "p": float(2 * scipy_stats.t.sf(abs(t), n - 1)),
            "low": mean - half, "high": mean + half}


def verdict_of(test, reject) -> str:
    """"agrees" / "disagrees" when the test rejected 0 (`reject`), by the sign of the
    effect (the paper's sign is positive); "inconclusive" otherwise."""
    if test["effect"] is None or test["n"] < MIN_SEEDS or test["p"] is None or not reject:
        return "inconclusive"
    return "agrees" if test["effect"] > 0 else "disagrees"


def judge(effects, level=LEVEL) -> dict:
    """`t_interval` of per-seed `effects` (the paper's sign positive) with its
    uncorrected verdict: the test rejects 0 when the `level` interval excludes it."""
    test = t_interval(effects, level)
    return {**test, "verdict": verdict_of(test, test["p"] is not None
                                          and test["p"] < 1 - level)}


def benjamini_hochberg(p_values, q=FDR):
    """Benjamini–Hochberg adjusted p-values and rejections at false discovery rate `q`.

    The adjusted p of the i-th smallest of m p-values is ``min over j ≥ i of
    p_(j) · m / j`` (capped at 1); a hypothesis is rejected when its adjusted p ≤ q.

    Returns:
        ``(adjusted, rejected)``: two lists in the order of `p_values`.

    Example:
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    ([0.02, 0.04, 0.04, 0.02], [True, True, True, True])
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if not m:
        return [], []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted_sorted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return [float(a) for a in adjusted], [bool(a <= q) for a in adjusted]


# --- Preconditions: what the runs must show for a claim to test the paper's mechanism ---


def _runs_of(runs, row):
    return [run for run in runs if run["row"] == row]


@dataclasses.dataclass(frozen=True)
class Plateau:
    """Every run of `rows` (the claim's rows when empty) reached its training plateau.

    Reads ``run["plateau"] = {"reached": bool, "step": int, ...}`` as the trainer records
    it; a run without the record has not reached it ("plateau not recorded").
    """

    rows: tuple = ()

    def describe(self, rows=()):
        return f"plateau reached by every run of {', '.join(self.rows or rows)}"

    def check(self, runs, split, claim_rows=()):
        """None when it holds, else why not."""
        for row in self.rows or claim_rows:
            chosen = _runs_of(runs, row)
            if not chosen:
                return f"no runs of {row!r}"
            for run in sorted(chosen, key=lambda r: r["seed"]):
                plateau = run.get("plateau")
                if plateau is None:
                    return f"plateau not recorded ({row!r} seed {run['seed']})"
                if not plateau.get("reached"):
                    return (f"{row!r} seed {run['seed']} did not reach its plateau "
                            f"(stopped at step {run.get('steps', '?')})")
        return None


@dataclasses.dataclass(frozen=True)
class OverfitGap:
    """Row `row` over-fits: its mean over seeds of (final training mIoU − mIoU on the
    selection split) is at least `min_gap` points (a dropout or k×k-overfits claim
    needs train ≫ val).

    Reads ``run["final_training_miou"]`` (in [0, 1]; the last training epoch's running
    mIoU) and ``run["metrics"][split]["miou"]``.
    """

    row: str
    min_gap: float

    @property
    def rows(self):
        return (self.row,)

    def describe(self, rows=()):
        return f"train − val mIoU of {self.row!r} ≥ {self.min_gap:g} points"

    def check(self, runs, split, claim_rows=()):
        chosen = _runs_of(runs, self.row)
        if not chosen:
            return f"no runs of {self.row!r}"
        if any(run.get("final_training_miou") is None for run in chosen):
            return f"final training mIoU not recorded for {self.row!r}"
        train = 100 * np.mean([run["final_training_miou"] for run in chosen])
        held_out = 100 * np.mean([run["metrics"][split]["miou"] for run in chosen])
        if train - held_out < self.min_gap:
            return (f"gap {train - held_out:+.1f} points (train {train:.1f}, {split} "
                    f"{held_out:.1f}, {len(chosen)} seeds)")
        return None


@dataclasses.dataclass(frozen=True)
class BaselineLearns:
    """Row `row` (the baseline) learns the classes in question: its mean IoU over seeds
    on the selection split is at least `min_iou` points for every class id of
    `classes` (a claim that a method helps rare classes needs a baseline that scores
    them above 0: otherwise both rows measure noise).

    Reads ``run["metrics"][split]["per_class_iou"]`` (`evaluate_segmentation`: a list
    indexed by class id, in [0, 1], None for a class absent from labels and
    predictions; None counts as failed).
    """

    row: str
    classes: tuple
    min_iou: float

    @property
    def rows(self):
        return (self.row,)

    def describe(self, rows=()):
        return (f"{self.row!r} IoU ≥ {self.min_iou:g} on classes "
                f"{', '.join(str(c) for c in self.classes)}")

    def check(self, runs, split, claim_rows=()):
        chosen = _runs_of(runs, self.row)
        if not chosen:
            return f"no runs of {self.row!r}"
        low = []
        for index in self.classes:
            values = [run["metrics"][split]["per_class_iou"][index] for run in chosen]
            if any(value is None for value in values):
                low.append(f"class {index} absent on {split}")
                continue
            mean = 100 * float(np.mean(values))
            if mean < self.min_iou:
                low.append(f"class {index} {mean:.1f}")
        return None if not low else f"{'; '.join(low)} ({split}, {len(chosen)} seeds)"


@dataclasses.dataclass(frozen=True)
class ThinBoundary:
    """The boundary band (GCN Table 5: pixels within `boundary_distance` of a label
    change) is thin: its share of the labelled pixels of the selection split is at
    most `max_fraction`, as 7 px are at VOC's ~500 px (a 7 px band covers ~32 % of a
    128² scene: "boundary" then means half the image).

    Reads ``run["metrics"][split]["boundary_pixels"]`` and ``["internal_pixels"]``
    (`evaluate_segmentation`: the two regions split the labelled pixels), or
    ``["boundary_fraction"]`` where a run records it; missing counts as failed.
    Checked on every run of the claim's rows.
    """

    max_fraction: float

    rows = ()

    def describe(self, rows=()):
        return f"boundary band ≤ {self.max_fraction:.0%} of labelled pixels"

    def check(self, runs, split, claim_rows=()):
        shares = []
        for row in claim_rows:
            for run in _runs_of(runs, row):
                metrics = run["metrics"][split]
                if "boundary_fraction" in metrics:
                    shares.append(metrics["boundary_fraction"])
                elif "boundary_pixels" in metrics and "internal_pixels" in metrics:
                    total = metrics["boundary_pixels"] + metrics["internal_pixels"]
                    shares.append(metrics["boundary_pixels"] / total if total else None)
                else:
                    return f"boundary share not recorded ({row!r} seed {run['seed']})"
        if not shares or any(share is None for share in shares):
            return "no labelled pixels recorded"
        if max(shares) > self.max_fraction:
            return f"the band covers {max(shares):.0%} of the labelled pixels on {split}"
        return None


PRECONDITIONS = (Plateau, OverfitGap, BaselineLearns, ThinBoundary)


def preconditions_of(claim, runs) -> tuple:
    """`claim.preconditions`, and `Plateau()` when its rows were trained at a scale with
    a plateau rule (their runs record ``"plateau"``): there every claim needs it."""
    rows = set(claim.rows)
    implied = any("plateau" in run for run in runs if run["row"] in rows)
    declared = tuple(claim.preconditions)
    if implied and not any(isinstance(p, Plateau) for p in declared):
        return (Plateau(), *declared)
    return declared


def failed_precondition(claim, runs, split):
    """The first of the claim's preconditions (`preconditions_of`) that fails on `runs`
    (evaluated on `split`, the selection split), as "needs what it requires, but why it
    fails"; None if all hold."""
    for precondition in preconditions_of(claim, runs):
        reason = precondition.check(runs, split, claim.rows)
        if reason is not None:
            return f"needs {precondition.describe(claim.rows)}, but {reason}"
    return None


# --- Claims ---


def _by_seed(runs, row, metric, split):
    return {run["seed"]: _metric(run, metric, split) for run in runs if run["row"] == row}


def _metric(run, metric, split):
    value = run["metrics"][split][metric]
    return None if value is None else float(value)


def _evaluate(claim, runs, split, selection_split, unit):
    untestable = failed_precondition(claim, runs, selection_split or split)
    result = {"statement": claim.statement, "metric": claim.metric, "split": split,
              "unit": unit, **judge(claim.effects(runs, split)), "untestable": untestable}
    if untestable is not None:
        result["verdict"] = "not testable here"
    return result


@dataclasses.dataclass(frozen=True)
class Greater:
    """The paper's claim that row `better` scores above row `worse` on `metric`.

    Args:
        statement: the claim in words ("GCN k = 15 > 1×1 base").
        better, worse: row names.
        metric: a key of `evaluate_segmentation`'s result (in [0, 1]); effects are
            reported in points (× 100).
        preconditions: what the runs must show for the claim to be testable here
            (`Plateau`, `OverfitGap`, `BaselineLearns`, `ThinBoundary`).
    """

    statement: str
    better: str
    worse: str
    metric: str = "miou"
    preconditions: tuple = ()

    @property
    def rows(self):
        return (self.better, self.worse)

    def effects(self, runs, split):
        """Per-seed differences better − worse, in points, over the seeds both have."""
        better = _by_seed(runs, self.better, self.metric, split)
        worse = _by_seed(runs, self.worse, self.metric, split)
        return [100 * (better[s] - worse[s]) for s in sorted(set(better) & set(worse))
                if better[s] is not None and worse[s] is not None]

    def evaluate(self, runs, split, selection_split=None):
        """The claim's test on `split`; preconditions are checked on `selection_split`
        (default `split`)."""
        return _evaluate(self, runs, split, selection_split, "points")

    def comparison(self, row_keys):
        """``(key, sign)``: what this claim compares, given each row's configuration key
        (`row_keys`), and the sign of this claim's effect relative to the key's
        orientation (``A > B`` and ``B > A`` are one comparison of opposite signs)."""
        pair = (row_keys[self.better], row_keys[self.worse])
        ordered = tuple(sorted(pair))
        sign = 1 if pair == ordered else -1
        return ("greater", ordered, self.metric), sign


@dataclasses.dataclass(frozen=True)
class Trend:
    """The paper's claim that `metric` rises (or, with ``sign=-1``, falls) along `rows`,
    against each row's `x`; with `baseline_rows`, that the gain over them does.

    The effect is the per-seed least-squares slope of the metric (in points) against
    `x`, multiplied by `sign`, reported per unit of `x`. `preconditions` as `Greater`'s.
    """

    statement: str
    row_names: tuple
    xs: tuple
    metric: str = "miou"
    sign: int = 1
    baseline_rows: tuple = ()
    preconditions: tuple = ()

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

    def evaluate(self, runs, split, selection_split=None):
        return _evaluate(self, runs, split, selection_split,
                         "points per unit of x" if self.sign > 0 else
                         "points lost per unit of x")

    def comparison(self, row_keys):
        """``(key, sign)`` as `Greater.comparison`: the rows' configurations with their
        xs (and baselines); a falling trend is the rising one with sign −1."""
        return (("trend", tuple(row_keys[row] for row in self.row_names),
                 tuple(float(x) for x in self.xs),
                 tuple(row_keys[row] for row in self.baseline_rows), self.metric),
                self.sign)


@dataclasses.dataclass(frozen=True)
class SeedRule:
    """How many seeds a row gets, declared on a `Scale` before its runs.

    Every row is trained with seeds ``0 .. initial − 1``. Then, once, each claim is
    tested on the *selection split* (the first of `Evaluation.splits`, val; the
    reported split, test, is read once, at the end, and never decides a seed) over
    those initial seeds only: a claim whose `level` interval straddles 0 while
    ``|t| ≥ min_abs_t`` is *undecided*, and every row it involves is trained with the
    seeds up to ``maximum − 1``. Nothing is added after that.

    Why one round to `maximum` and not seed by seed: each look at the data that may
    stop or continue the sampling is a chance to stop on a lucky value (optional
    stopping inflates the error rates of a fixed-n test); one pre-declared look, taken
    on val with the initial seeds only (so a rerun takes the same decision), keeps the
    design two-stage and its inflation small, and it extends claims that look like
    agreeing and like disagreeing alike. Claims with |t| < `min_abs_t` are left at
    `initial` seeds: doubling n would not make a near-zero effect decisive (at
    |t| = 1 with 5 seeds, 10 seeds give t ≈ 1.5 if the effect and spread hold). Claims
    that are not testable here (a precondition fails) get no seeds either: more seeds
    do not bring the mechanism.

    Args:
        initial: seeds every row gets (0 .. initial − 1).
        maximum: seeds an undecided claim's rows get in all (never more).
        min_abs_t: the |t| at which an undecided claim is worth more seeds.
        level: the interval's level.
    """

    initial: int = 5
    maximum: int = 10
    min_abs_t: float = 1.0
    level: float = LEVEL

    def __post_init__(self):
        if not 2 <= self.initial <= self.maximum:
            raise ValueError(f"`SeedRule` needs 2 ≤ initial ≤ maximum, received initial "
                             f"{self.initial}, maximum {self.maximum}.")

    @property
    def initial_seeds(self) -> tuple:
        return tuple(range(self.initial))

    @property
    def extra_seeds(self) -> tuple:
        return tuple(range(self.initial, self.maximum))

    def undecided(self, claims, runs, split) -> list:
        """The claims whose interval on `split` (val), over the initial seeds, straddles
        0 with |t| ≥ `min_abs_t` (untestable claims excluded)."""
        first = [run for run in runs if run["seed"] in self.initial_seeds]
        found = []
        for claim in claims:
            if failed_precondition(claim, first, split):
                continue
            test = t_interval(claim.effects(first, split), self.level)
            if test["p"] is None or test["t"] is None:
                continue
            if test["low"] < 0 < test["high"] and abs(test["t"]) >= self.min_abs_t:
                found.append(claim)
        return found

    def seeds_to_run(self, claims, runs, split, rows) -> dict:
        """``{row: seeds}``: the seeds still to run for each of `rows`, given `runs` so far.

        The initial seeds a row lacks; and, once every row of a claim has its initial
        seeds, the extra seeds of the rows of each undecided claim (`undecided`). Run
        them and ask again: the answer is empty when the rule is done.
        """
        done = {row: {run["seed"] for run in runs if run["row"] == row} for row in rows}
        todo = {row: [s for s in self.initial_seeds if s not in done[row]] for row in rows}
        complete = [claim for claim in claims if all(
            set(self.initial_seeds) <= {run["seed"] for run in runs if run["row"] == row}
            for row in claim.rows)]
        for claim in self.undecided(complete, runs, split):
            for row in claim.rows:
                if row in todo:
                    todo[row] += [s for s in self.extra_seeds
                                  if s not in done[row] and s not in todo[row]]
        return {row: tuple(seeds) for row, seeds in todo.items() if seeds}

    def describe(self) -> str:
        return (f"{self.initial} seeds per row; a claim whose {100 * self.level:.0f} % "
                f"interval on val straddles 0 with |t| ≥ {self.min_abs_t:g} after them gets "
                f"its rows extended to {self.maximum} seeds, once")


def row_summaries(runs, rows, metrics, split) -> dict:
    """``{row: {metric: summarize(values over seeds)}}`` for `split`."""
    return {row: {metric: summarize(100 * _metric(run, metric, split)
                                    for run in runs if run["row"] == row)
                  for metric in metrics}
            for row in rows}


# --- One comparison, counted once: configuration keys and the paper-level correction ---

# Run fields that do not decide what a row is: the seed (a comparison spans seeds) and
# `TrainConfig.IO_FIELDS` (where it writes and what it prints).
NOT_CONFIGURATION = ("seed", *TrainConfig.IO_FIELDS)


def configuration_key(run, evaluation=None) -> str:
    """A short hash of what a run's row is: its training configuration without the
    seed, its output folder and the other `TrainConfig.IO_FIELDS` (and fields added
    later left at their defaults, as `TrainConfig.fingerprint`), plus the evaluation
    protocol it was scored with (the run's own, else `evaluation`, the file's).

    A staged row's `init_from` path names its seed's folder (``.../seed_3/model.keras``):
    the seed's folder is taken out of it, so the seeds of one row share a key.
    """
    config = {key: value for key, value in run["config"].items()
              if key not in NOT_CONFIGURATION and (
                  key not in TrainConfig.LATER_FIELDS or value != TrainConfig.LATER_FIELDS[key])}
    if config.get("init_from"):
        config["init_from"] = re.sub(r"seed_\d+", "seed", str(config["init_from"]))
    protocol = run.get("evaluation", evaluation)
    text = json.dumps({"config": config, "evaluation": protocol}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def row_keys(results) -> dict:
    """``{row name: configuration key}`` of the rows of a results file that have runs.

    A row whose runs disagree (a recipe changed between seeds) gets all its keys joined,
    so it matches no other row."""
    keys = {}
    for run in results["runs"]:
        keys.setdefault(run["row"], set()).add(configuration_key(run, results.get("evaluation")))
    return {row: "+".join(sorted(values)) for row, values in keys.items()}


def comparison_key(claim, results):
    """``(key, sign)`` of `claim` in `results` (see `Greater.comparison`), with the split
    it is reported on; None when one of its rows has no runs."""
    keys = row_keys(results)
    if any(row not in keys for row in claim.rows):
        return None
    key, sign = claim.comparison(keys)
    return (*key, results["evaluation"]["splits"][-1]), sign


def _key_id(key) -> str:
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:10]


def correct_claims(tables, q=FDR, level=LEVEL) -> dict:
    """The paper-level correction: Benjamini–Hochberg at `q` over the unique comparisons
    of one paper's results files at one scale.

    Args:
        tables: ``[(name, results, claims)]``: each results file's name (the table it
            shows), its results (runs, evaluation splits) and the claims of its recipe
            (recomputed here from the runs, whatever the file stored).
        q: the false discovery rate.
        level: the level of the uncorrected t-intervals.

    A comparison (`comparison_key`) that several tables show is tested once, on the
    appearance with the most paired seeds (the first such table; runs shared between
    tables are the same runs, so the appearances agree on their common seeds). It is
    *not testable here* if the preconditions of any of its appearances fail, and is
    then left out of the family, as are comparisons with fewer than 2 paired seeds.

    Returns:
        ``{"q", "m", "rejections", "fcr_level", "comparisons", "not_run", "claims"}``:
        `comparisons` lists each unique comparison once, in order of first appearance
        (numbered from 1; `not_run` lists ``{"table", "statement"}`` of the claims with
        a row that has no runs at this scale, which compare nothing):
        ``{"id", "number", "statement", "statements", "tables", "source", "metric",
        "split", "unit", **t_interval, "p_adjusted", "fcr_low", "fcr_high",
        "untestable", "verdict"}`` (effect and verdict in the orientation of its first
        claim, `statement`; `source` the table whose seeds it was tested on);
        `claims` maps each table's name to its claims' results: ``Claim.evaluate``'s
        (the uncorrected t-test on that table's runs) plus ``"comparison"`` (the
        comparison's number), ``"p_adjusted"``, ``"verdict"`` (the corrected verdict,
        in the claim's own sign), ``"verdict_uncorrected"`` and ``"corrected": True``.
    """
    runs_of = {name: results for name, results, _ in tables}
    entries, per_table = {}, {}
    for name, results, claims in tables:
        splits = results["evaluation"]["splits"]
        per_table[name] = []
        for claim in claims:
            result = claim.evaluate(results["runs"], splits[-1], splits[0])
            found = comparison_key(claim, results)
            key, sign = found or (("unmatched", name, claim.statement), 1)
            entries.setdefault(key, []).append((name, claim, sign, result))
            per_table[name].append((key, sign, result))

    comparisons, not_run = {}, []
    for key, appearances in entries.items():
        name, claim, sign, result = appearances[0]
        if key[0] == "unmatched":  # a row of the claim has no runs at this scale
            not_run.append({"table": name, "statement": claim.statement})
            continue
        source, best_claim, best_sign, _ = max(appearances, key=lambda a: a[3]["n"])
        # The source's effects in the orientation of the first claim.
        effects = [sign * best_sign * effect for effect in
                   best_claim.effects(runs_of[source]["runs"], result["split"])]
        comparisons[key] = {
            "id": _key_id(key), "number": len(comparisons) + 1, "statement": claim.statement,
            "statements": list(dict.fromkeys(a[1].statement for a in appearances)),
            "tables": list(dict.fromkeys(a[0] for a in appearances)), "source": source,
            "metric": claim.metric, "split": result["split"], "unit": result["unit"],
            **t_interval(effects, level), "p_adjusted": None, "fcr_low": None,
            "fcr_high": None,
            "untestable": next((a[3]["untestable"] for a in appearances
                                if a[3]["untestable"]), None),
            "_sign": sign, "_effects": effects, "_reject": False,
        }
    family = [entry for entry in comparisons.values()
              if entry["untestable"] is None and entry["p"] is not None]
    adjusted, rejected = benjamini_hochberg([entry["p"] for entry in family], q)
    m, rejections = len(family), sum(rejected)
    fcr_level = 1 - max(rejections, 1) * q / m if m else None
    for entry, p_adjusted, reject in zip(family, adjusted, rejected):
        fcr = t_interval(entry["_effects"], fcr_level)
        entry.update(p_adjusted=p_adjusted, _reject=reject, fcr_low=fcr["low"],
                     fcr_high=fcr["high"])
    for entry in comparisons.values():
        entry["verdict"] = ("not testable here" if entry["untestable"] else
                            verdict_of(entry, entry["_reject"]))

    claims = {}
    for name, items in per_table.items():
        claims[name] = []
        for key, sign, result in items:
            entry = comparisons.get(key)
            if entry is None:  # not run at this scale
                claims[name].append({**result, "verdict_uncorrected": result["verdict"],
                                     "p_adjusted": None, "comparison": None,
                                     "corrected": True})
                continue
            own = dict(entry, effect=None if entry["effect"] is None
                       else sign * entry["_sign"] * entry["effect"])
            untestable = result["untestable"] or entry["untestable"]
            claims[name].append({
                **result, "verdict_uncorrected": result["verdict"],
                "verdict": ("not testable here" if untestable else
                            verdict_of(own, entry["_reject"])),
                "p_adjusted": entry["p_adjusted"], "comparison": entry["number"],
                "untestable": untestable, "corrected": True})
    ordered = [{key: value for key, value in entry.items() if not key.startswith("_")}
               for entry in comparisons.values()]
    return {"q": q, "m": m, "rejections": rejections, "fcr_level": fcr_level,
            "comparisons": ordered, "not_run": not_run, "claims": claims}


def format_claim(result) -> str:
    """One line: verdict, effect ± std, the 95 % t-interval, n, t and p (and the
    BH-adjusted p and comparison number when the result is corrected)."""
    head = f"{result['statement']}: {result['verdict']}"
    if result.get("untestable"):
        head += f" [{result['untestable']}]"
    if result["effect"] is None:
        return f"{head} (no paired seeds)"
    level = result.get("level", LEVEL)
    interval = ("—" if result.get("low") is None else
                f"[{result['low']:+.2f}, {result['high']:+.2f}]")
    t = result.get("t")
    t = ("—" if "t" not in result else "±∞" if t is None and result["n"] >= MIN_SEEDS
         else "—" if t is None else f"{t:+.2f}")
    p = result.get("p")
    line = (f"{head} ({result['metric']} on {result['split']}: {result['effect']:+.2f} ± "
            f"{result['std']:.2f} {result['unit']}, {100 * level:.0f} % t-interval {interval}, "
            f"n = {result['n']}, t = {t}, p {_equals(p)}")
    if result.get("corrected"):
        line += (f"; BH-adjusted p {_equals(result.get('p_adjusted'))}, comparison "
                 f"C{result['comparison']}, uncorrected: {result['verdict_uncorrected']}")
    return line + ")"


def format_p(p) -> str:
    """A p-value to three decimals ("< 0.001" below, "—" for None)."""
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _equals(p) -> str:
    text = format_p(p)
    return text if text.startswith("<") else f"= {text}"
