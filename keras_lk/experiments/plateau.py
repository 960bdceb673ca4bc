"""How many steps a CPU-scale row trains: the plateau rule, declared before any run.

The papers fine-tune to convergence; a table whose rows stop while their val mIoU still
climbs may compare training speeds, not the ideas. A `PlateauRule` chooses the training
budget of a scale (every row of every table at that scale) on the *selection* split
(val) only, by training the rule's reference rows with seeds `seeds` for S =
`start_steps`, 2S, 4S, ... (the scale's schedule stretched to S steps), by one of two
criteria:

- ``"level"``: the budget is the first S whose runs' mean val mIoU is within
  `min_gain` points of the runs trained for 2S: doubling S buys less than `min_gain`.
- ``"effect"``: the reference rows are the scale's main comparison (exactly two: the
  baseline first); the budget is the first S > `start_steps` at which their mean
  seed-paired val difference (second − first) moved by less than `min_gain` points
  from S/2: the comparison has settled, even where both rows still climb (the level
  curve is recorded beside it).

If no budget up to `max_steps` qualifies, the budget is `max_steps` and the plateau is
*not reached*: every claim that declares the `Plateau` precondition is then "not
testable here".

The decision and its runs are written to ``plateau_<scale>.json`` beside the tables'
results files, once per scale: every table at the scale reads it, and a rerun keeps it
(it is redone only when the scale's settings or the rule change). The pilot runs are
evaluated by the scale's protocol, so a table whose row is a reference row at the chosen
budget reuses its run (`runner._shared_run`); only val enters the decision.

Each table run records ``run["plateau"] = {"reached", "steps", "rule"}``, which the
`Plateau` precondition reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os

CRITERIA = ("level", "effect")


@dataclasses.dataclass(frozen=True)
class PlateauRule:
    """The doubling rule of the module doc.

    Args:
        rows: ``{name: TrainConfig fields}`` of the reference rows (merged with the
            scale's settings, as a table row's are): the rows of the scale's main claim,
            so that the budget suits both sides of it.
        seeds: the seeds of the reference runs.
        start_steps: the first budget S (a multiple of the scale's `steps_per_epoch`).
        max_steps: the largest budget tried; reached without a plateau, it is used and
            the plateau is recorded as not reached.
        min_gain: val mIoU points below which doubling the budget is a plateau (of the
            rows' mean, or of their difference).
        criterion: ``"level"`` or ``"effect"`` (the module doc).
    """

    rows: dict
    seeds: tuple = (0, 1)
    start_steps: int = 400
    max_steps: int = 3200
    min_gain: float = 1.0
    criterion: str = "level"

    def __post_init__(self):
        if not self.rows:
            raise ValueError("`rows` must name at least one reference row.")
        if self.start_steps < 1 or self.max_steps < self.start_steps:
            raise ValueError(
                f"`start_steps` must be ≥ 1 and ≤ `max_steps`, received {self.start_steps} "
                f"and {self.max_steps}.")
        if not self.seeds:
            raise ValueError("`seeds` must hold at least one seed.")
        if self.min_gain < 0:
            raise ValueError(f"`min_gain` must be ≥ 0, received {self.min_gain!r}.")
        if self.criterion not in CRITERIA:
            raise ValueError(f"`criterion` must be one of {CRITERIA}, received "
                             f"{self.criterion!r}.")
        if self.criterion == "effect" and len(self.rows) != 2:
            raise ValueError("The \"effect\" criterion compares two reference rows (the "
                             f"baseline first), received {list(self.rows)}.")
        if self.criterion == "effect" and len(self.budgets()) < 2:
            raise ValueError("The \"effect\" criterion needs two budgets at least: "
                             f"`max_steps` ≥ 2 × `start_steps`, received {self.start_steps} "
                             f"and {self.max_steps}.")

    def budgets(self) -> tuple:
        """The budgets tried, in order: start, 2·start, ... up to `max_steps`."""
        budgets, steps = [], self.start_steps
        while steps <= self.max_steps:
            budgets.append(steps)
            steps *= 2
        return tuple(budgets)

    def describe(self) -> str:
        if self.criterion == "effect":
            baseline, compared = self.rows
            return (f"the first of {list(self.budgets()[1:])} steps at which the val mIoU "
                    f"difference {compared} − {baseline} (paired seeds "
                    f"{list(self.seeds)}) moved by less than {self.min_gain:g} point(s) "
                    "from half as many steps")
        return (f"the first of {list(self.budgets())} steps whose val mIoU (rows "
                f"{list(self.rows)}, seeds {list(self.seeds)}) is within {self.min_gain:g} "
                "point(s) of twice as many steps")

    def decide(self, means: dict, effects: dict | None = None) -> dict:
        """The decision from the budgets trained so far, ``{steps: mean val mIoU}`` of the
        reference runs and, for the "effect" criterion, ``{steps: mean paired
        difference}`` (points): ``{"steps", "reached"}``, or None while another budget
        is needed."""
        budgets = self.budgets()
        curve = means if self.criterion == "level" else effects
        if curve is None:
            raise ValueError("The \"effect\" criterion decides from `effects`.")
        for steps, doubled in itertools.pairwise(budgets):
            if steps not in curve or doubled not in curve:
                return None
            if self.criterion == "level" and curve[doubled] - curve[steps] < self.min_gain:
                return {"steps": steps, "reached": True}
            if self.criterion == "effect" and abs(curve[doubled] - curve[steps]) < self.min_gain:
                return {"steps": doubled, "reached": True}
        if budgets[-1] not in curve:
            return None
        return {"steps": budgets[-1], "reached": False}

    def smoked(self) -> PlateauRule:
        """A two-budget rule of one seed (1 and 2 steps) for `--smoke`."""
        return dataclasses.replace(self, seeds=self.seeds[:1], start_steps=1, max_steps=2)


def settings_key(rule: PlateauRule, train: dict, evaluation: dict) -> str:
    """A hash of what a plateau decision depends on: the rule, the scale's settings other
    than its steps, and the evaluation protocol."""
    fields = {key: value for key, value in train.items() if key not in ("steps",)}
    text = json.dumps({"rule": dataclasses.asdict(rule), "train": fields,
                       "evaluation": evaluation}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plateau_path(results_path: str, scale_name: str) -> str:
    """``plateau_<scale>.json`` beside a table's results file."""
    return os.path.join(os.path.dirname(os.path.abspath(results_path)),
                        f"plateau_{scale_name}.json")


def record(decision: dict, rule: PlateauRule) -> dict:
    """What each table run records of the decision (`Plateau` reads ``reached``)."""
    return {"reached": decision["reached"], "steps": decision["steps"],
            "rule": rule.describe()}
