"""A paper table as data: its rows, the scales it runs at, and the claims it tests.

A recipe (`recipes/<paper>/tableN_*.py`) declares one `Table` and calls
`keras_lk.experiments.main(TABLE)`. One row is one configuration of the paper's table:
the `TrainConfig` fields that differ from the scale's common settings, plus the paper's
figure for it. A `Scale` holds the common settings: ``"full"`` is the paper's run,
``"cpu"`` the CPU-minute run on the built-in scenes. `--smoke` shrinks either to a few
steps through the same code path (CI).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from keras_lk.experiments.plateau import PlateauRule
from keras_lk.experiments.statistics import SeedRule


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The test-time protocol of a scale (see `keras_lk.evaluation.evaluate_segmentation`).

    Args:
        splits: the splits evaluated after training, in order; the first is where
            settings are chosen, the last the one reported (the built-in scenes:
            ``("val", "test")``; VOC has no public test labels: ``("val",)``).
        scales, flip, tile, overlap, crf: multi-scale + flip, sliding window, CRF.
        boundary_distance: the boundary band of GCN Table 5, in pixels.
        num_images: evaluate only the first this many images of each split (None: all).
    """

    splits: tuple = ("val",)
    scales: tuple = (1.0,)
    flip: bool = False
    tile: int | None = None
    overlap: float = 1 / 3
    crf: dict | None = None
    boundary_distance: int = 7
    num_images: int | None = None

    @property
    def report_split(self) -> str:
        return self.splits[-1]

    def describe(self) -> str:
        parts = ["single scale" if self.scales == (1.0,) else f"scales {list(self.scales)}"]
        if self.flip:
            parts.append("flip")
        if self.tile:
            parts.append(f"sliding window {self.tile}")
        if self.crf is not None:
            parts.append("dense CRF")
        return " + ".join(parts)


@dataclasses.dataclass(frozen=True)
class Scale:
    """The settings every row of a table shares at one scale.

    Args:
        name: ``"full"`` (the paper's setting) or ``"cpu"`` (built-in scenes).
        train: `keras_lk.training.TrainConfig` fields (``model_options`` are merged
            with each row's).
        evaluation: the test-time protocol.
        seeds: the seeds every row is trained with (the same seeds for every row, so
            rows are compared seed by seed); with a `seed_rule`, its initial seeds.
        seed_rule: a `keras_lk.experiments.statistics.SeedRule` declaring how many
            seeds each row gets and when more are added (CPU scales: 5, up to 10 for
            the rows of a claim undecided on val), or None: `seeds` and no more.
        plateau: a `keras_lk.experiments.plateau.PlateauRule` that chooses the scale's
            training steps on val before its rows run (their `steps` are replaced by
            its budget), or None: the scale's `steps`.
        smoke: `TrainConfig` fields that `--smoke` overrides (a few steps, a tiny
            backbone); the rest of the code path is the same.
        smoke_evaluation: the `Evaluation` fields that `--smoke` overrides.
        description: one line: dataset, backbone, crop, batch, schedule.
        gpu_hours: estimated GPU hours of one row and seed (full scale), for the README.
    """

    name: str
    train: dict
    evaluation: Evaluation = Evaluation()
    seeds: tuple = (0,)
    smoke: dict = dataclasses.field(default_factory=dict)
    smoke_evaluation: dict = dataclasses.field(default_factory=dict)
    description: str = ""
    gpu_hours: float | None = None
    seed_rule: SeedRule | None = None
    plateau: PlateauRule | None = None

    def __post_init__(self):
        if self.seed_rule is not None and tuple(self.seeds) != self.seed_rule.initial_seeds:
            raise ValueError(f"scale {self.name!r}: `seeds` must be its seed rule's initial "
                             f"seeds {self.seed_rule.initial_seeds}, received {self.seeds}.")

    def smoked(self) -> Scale:
        """This scale with the `smoke` overrides (model options merged), one seed."""
        train = merge_train(self.train, self.smoke)
        evaluation = dataclasses.replace(self.evaluation, **self.smoke_evaluation)
        return dataclasses.replace(
            self, train=train, evaluation=evaluation, seeds=self.seeds[:1], seed_rule=None,
            plateau=None if self.plateau is None else self.plateau.smoked())


@dataclasses.dataclass(frozen=True)
class Row:
    """One configuration of the paper's table.

    Args:
        name: the row's label as the paper prints it (``"k = 15"``, ``"GCN + BR"``).
        train: `TrainConfig` fields of this row (``model_options`` merged with the
            scale's), e.g. ``{"model_options": {"head": "gcn", "k": 15}}``.
        paper: the paper's figures for this row (``{"miou": 74.5}``), from
            `keras_lk.papers`; empty where the paper has no number.
        x: the row's position on the table's axis (k, field of view) for claims
            about a trend, or None.
        scales: the scales this row runs at (e.g. a k too large for CPU minutes).
        note: what differs from the paper's row, printed beside it.
        init_from: the name of an earlier row whose trained model (same seed) this
            row starts from (`TrainConfig.init_from`): a stage of a staged schedule.
        evaluation: `Evaluation` fields this row changes (GCN's "-MS" and "-MS-CRF"
            rows: the same model tested with more scales or a CRF). A row that trains
            what an earlier row trained is evaluated on that row's model.
    """

    name: str
    train: dict = dataclasses.field(default_factory=dict)
    paper: dict = dataclasses.field(default_factory=dict)
    x: float | None = None
    scales: tuple = ("full", "cpu")
    note: str = ""
    init_from: str | None = None
    evaluation: dict = dataclasses.field(default_factory=dict)

    def evaluation_at(self, scale: Scale) -> Evaluation:
        """The scale's protocol with this row's changes."""
        return dataclasses.replace(scale.evaluation, **self.evaluation)

    @property
    def key(self) -> str:
        """A file-name-safe identifier of the row."""
        return "".join(c if c.isalnum() else "_" for c in self.name.lower()).strip("_")


@dataclasses.dataclass(frozen=True)
class Table:
    """A paper table: rows, scales and claims.

    Args:
        paper: ``"gcn"``, ``"gald"`` or ``"fcrn"`` (the folder under `recipes/`).
        table: the table's name as the paper prints it (``"Table 1"``).
        title: what the table reports.
        rows: the rows, in the paper's order.
        scales: `Scale` by name (``"full"``, ``"cpu"``).
        claims: `keras_lk.experiments.statistics` claims the table supports.
        metrics: the metrics of the table (keys of `evaluate_segmentation`), the
            first is the table's main one.
        notes: where the paper is ambiguous and what this recipe chose, and what of
            its protocol it cannot follow.
        measure: optional ``measure(model, config) -> dict`` of extra figures of each
            trained model (e.g. its valid receptive field), kept in the run's record;
            `config` is the `TrainConfig` the model was trained with (its `output_dir`
            holds the run's files, e.g. ``training_log.csv``).
        measured: ``(key, label)`` pairs of `measure`'s figures that the report shows as
            columns beside the metrics (mean ± std over seeds) and plots against the
            main metric; empty: none (the figures stay in the results file only).
        regime_check: whether the claims test this project's CPU-scale regime (e.g. that
            the pretrained weights transfer) rather than the paper: the report corrects
            them in a family of their own, so they neither join nor loosen the paper's
            Benjamini–Hochberg family.
    """

    paper: str
    table: str
    title: str
    rows: tuple
    scales: dict
    claims: tuple = ()
    metrics: tuple = ("miou",)
    notes: str = ""
    measure: Callable | None = None
    measured: tuple = ()
    regime_check: bool = False

    def __post_init__(self):
        keys = [row.key for row in self.rows]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.table}: row names must be distinct, received {keys}.")
        names = {row.name for row in self.rows}
        earlier = set()
        for row in self.rows:
            if row.init_from is not None and row.init_from not in earlier:
                raise ValueError(f"{self.table}: row {row.name!r} starts from "
                                 f"{row.init_from!r}, which is not an earlier row.")
            earlier.add(row.name)
        if self.measured and self.measure is None:
            raise ValueError(f"{self.table}: `measured` {list(self.measured)} needs a "
                             "`measure` that records them.")
        for claim in self.claims:
            needed = list(claim.rows) + [name for precondition in claim.preconditions
                                         for name in precondition.rows]
            missing = [name for name in dict.fromkeys(needed) if name not in names]
            if missing:
                raise ValueError(f"{self.table}: claim {claim.statement!r} names unknown "
                                 f"rows {missing}; rows are {sorted(names)}.")

    @property
    def key(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.table.lower()).strip("_")

    def rows_at(self, scale: str, names=None) -> tuple:
        """The rows that run at `scale`, optionally only those named in `names`."""
        rows = tuple(row for row in self.rows if scale in row.scales)
        if names is None:
            return rows
        known = {row.name: row for row in rows}
        keyed = {row.key: row for row in rows}
        unknown = [n for n in names if n not in known and n not in keyed]
        if unknown:
            raise ValueError(f"`--rows` {unknown} not in {self.table} at scale {scale!r}; "
                             f"rows: {[row.name for row in rows]}.")
        return tuple(known.get(n) or keyed[n] for n in names)


def merge_train(common: dict, override: dict) -> dict:
    """`common` updated by `override`, with their ``model_options`` merged."""
    merged = {**common, **override}
    if "model_options" in common or "model_options" in override:
        merged["model_options"] = {**common.get("model_options", {}),
                                   **override.get("model_options", {})}
    return merged
