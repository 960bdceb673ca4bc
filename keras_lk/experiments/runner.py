"""Runs a `Table`: every (row, seed) trained by the engine, evaluated, and written down.

`main(table)` is each recipe's command line. A run trains every selected row with every
seed of the scale through `keras_lk.training.train` (so it resumes after a kill, from
the run's backup), evaluates it on the scale's splits with
`keras_lk.evaluation.evaluate_segmentation`, and appends it to the results file at
once: a rerun skips the (row, seed) pairs already there, and refuses to mix runs whose
configuration differs from the file's (``--fresh`` starts over). A scale with a
`SeedRule` (`keras_lk.experiments.statistics`) then adds the seeds its rule declares for
the rows of claims undecided on the selection split (val); `--seeds` overrides it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import glob
import json
import math
import os
import platform
import subprocess
import sys
import time

from keras_lk.experiments import plateau, statistics
from keras_lk.experiments.table import merge_train
from keras_lk.utils.machine import cpu_signature, tensorflow_threads

# Fields a user may set from the command line for every row; the rest come from the
# scale and the row (the table's definition).
RUN_FIELDS = ("data_dir", "manual_dir", "strategy", "precision", "num_cpu_devices",
              "verbose")


def _git(*args):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict:
    """Commit, package versions and machine of this run (for the results file)."""
    import keras
    import numpy as np
    import tensorflow as tf

    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": None if status is None else bool(status),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu": cpu_signature(), "cpu_count": os.cpu_count(),
                    "devices": [d.name for d in tf.config.list_logical_devices()]},
    }


def resolve_run_settings(scale_train: dict, strategy: str | None, precision: str | None):
    """`--strategy auto` / `--precision auto`: mirrored + mixed precision with GPUs."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if strategy in (None, "auto"):
        strategy = "mirrored" if len(gpus) > 1 else scale_train.get("strategy", "default")
    if precision is None:
        precision = scale_train.get("precision", "auto")
    return strategy, precision


def _write_json(path, value):
    from keras_lk.training.callbacks import write_text_atomically

    value = {key: item for key, item in value.items() if key != "results_path"}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_text_atomically(path, json.dumps(value, indent=1) + "\n")


def _load_results(path, table, scale_name, smoke, fresh):
    if fresh or not os.path.exists(path):
        return None
    with open(path) as f:
        results = json.load(f)
    if (results.get("table"), results.get("scale"), results.get("smoke")) != (
            table.table, scale_name, smoke):
        raise ValueError(
            f"results file {path} holds {results.get('table')!r} at scale "
            f"{results.get('scale')!r} (smoke={results.get('smoke')}), not {table.table!r} at "
            f"{scale_name!r} (smoke={smoke}); pass another --results or --fresh.")
    return results


def evaluation_examples(config, evaluation) -> dict:
    """``{split: examples}`` of the scale's evaluation splits. Loading checks each split's
    files (a folder dataset reads every label), so a run calls this before it trains: a
    bad file of `val` is an error before the first step, not after the training."""
    from keras_lk import data

    info = data.DATASETS[config.dataset].for_data_dir(config.data_dir)
    return {split: info.load(split, data_dir=config.data_dir, manual_dir=config.manual_dir,
                             num_images=evaluation.num_images, image_size=config.image_size,
                             allow_subset=config.allow_subset)
            for split in evaluation.splits}


def evaluate_run(model, config, evaluation, examples=None) -> dict:
    """``{split: metrics}`` of a trained model on the scale's splits (`examples`: those
    `evaluation_examples` returned, loaded here if None)."""
    from keras_lk.evaluation import evaluate_segmentation

    if examples is None:
        examples = evaluation_examples(config, evaluation)
    metrics = {}
    for split in evaluation.splits:
        metrics[split] = evaluate_segmentation(
            model, examples[split], scales=evaluation.scales, flip=evaluation.flip,
            tile=evaluation.tile, overlap=evaluation.overlap, crf=evaluation.crf,
            boundary_distance=evaluation.boundary_distance)
    return metrics


def run_table(table, scale_name, *, rows=None, seeds=None, smoke=False, output_dir=None,
              results_path=None, fresh=False, command=None, init_from=None,
              **run_settings) -> dict:
    """Trains and evaluates the rows of `table` at `scale_name`; returns the results.

    Args:
        table: a `keras_lk.experiments.Table`.
        scale_name: a key of ``table.scales``.
        rows: row names or keys to run (None: every row of the scale).
        seeds: seeds (None: the scale's, and those its `seed_rule` adds for the rows
            of claims undecided on the selection split; ``smoke`` keeps the first seed
            and no rule). Given seeds override the rule.
        smoke: the scale's `smoke` overrides (a few steps, same code path).
        output_dir: where runs train (``<output_dir>/<row>/seed_<s>``).
        results_path: the results JSON (appended to after every run).
        fresh: ignore an existing results file.
        command: the command line recorded in the results.
        init_from: the model the selected rows start from when the row they start
            from (`Row.init_from`) is not run now (e.g. a stage-2 model for stage 3).
        run_settings: `RUN_FIELDS` of every `TrainConfig` (data_dir, strategy, ...).
    """
    from keras_lk.training import TrainConfig

    if scale_name not in table.scales:
        raise ValueError(f"`scale` must be one of {tuple(table.scales)}, received "
                         f"{scale_name!r}.")
    unknown = sorted(set(run_settings) - set(RUN_FIELDS))
    if unknown:
        raise ValueError(f"unknown run settings {unknown}; expected some of {RUN_FIELDS}.")
    scale = table.scales[scale_name]
    scale = scale.smoked() if smoke else scale
    rule = scale.seed_rule if seeds is None else None  # `--seeds` overrides the rule
    seeds = tuple(scale.seeds if seeds is None else seeds)
    chosen = table.rows_at(scale_name, rows)
    selected = tuple(row for row in table.rows if row in chosen)  # stages in order
    output_dir = output_dir or os.path.join("runs", "recipes", table.paper, table.key,
                                            scale_name + ("_smoke" if smoke else ""))
    results_path = results_path or default_results_path(table, scale_name, smoke, output_dir)
    strategy, precision = resolve_run_settings(scale.train, run_settings.pop("strategy", None),
                                               run_settings.pop("precision", None))
    settings = {key: value for key, value in run_settings.items() if value is not None}

    results = _load_results(results_path, table, scale_name, smoke, fresh) or {
        "paper": table.paper, "table": table.table, "scale": scale_name, "smoke": smoke,
        "evaluation": dataclasses.asdict(scale.evaluation), "runs": [],
    }
    # The table's description as the recipe states it now: a row added to a recipe
    # after its first runs joins the results file's rows (its runs are kept either way).
    results.update({
        "title": table.title, "scale_description": scale.description,
        "metrics": list(table.metrics),
        "rows": [{"name": row.name, "paper": row.paper, "train": row.train, "x": row.x,
                  "note": row.note,
                  **({"init_from": row.init_from} if row.init_from else {}),
                  **({"evaluation": row.evaluation} if row.evaluation else {})}
                 for row in table.rows_at(scale_name)],
        "notes": table.notes,
        # Only where a table shows `measure` figures: other files keep their fields.
        **({"measured": [list(pair) for pair in table.measured]} if table.measured else {}),
    })
    results.update(environment())
    results["results_path"] = os.path.abspath(results_path)
    results["command"] = command or " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]])
    if rule is not None:
        results["seed_rule"] = {**dataclasses.asdict(rule), "rule": rule.describe()}
    started = time.perf_counter()

    def fields_of(row_train, seed, run_dir):
        """The `TrainConfig` fields of a row (its `train` over the scale's) and seed; with
        packaged backbone weights, their file's SHA-256."""
        from keras_lk.backbones import PACKAGED_WEIGHT_NAMES, weights_file_sha256

        fields = merge_train(scale.train, row_train)
        if smoke:  # a row naming a large backbone still smokes with the tiny one
            fields = merge_train(fields, table.scales[scale_name].smoke)
        fields.update(settings, strategy=strategy, precision=precision, seed=seed,
                      output_dir=run_dir)
        if fields.get("backbone_weights") in PACKAGED_WEIGHT_NAMES:  # the file, by content
            fields["backbone_weights_sha256"] = weights_file_sha256(
                fields["backbone"], fields["backbone_weights"])
        return fields

    plateau_record = None
    if scale.plateau is not None:
        decision = decide_plateau(scale, scale_name, results_path, output_dir, fields_of,
                                  table.paper)
        plateau_record = plateau.record(decision, scale.plateau)
        results["plateau"] = plateau_record

    def run_one(row, seed):
        """Trains (or reuses) `row` with `seed`, evaluates it and writes the file."""
        evaluation = row.evaluation_at(scale)
        fields = fields_of(row.train, seed, os.path.join(output_dir, row.key, f"seed_{seed}"))
        if plateau_record is not None:
            fields.update(_budget(fields, plateau_record["steps"]))
        if row.init_from is not None:
            fields["init_from"] = _initial_model(table, row, seed, output_dir, selected,
                                                 init_from)
        config = TrainConfig(**fields)
        digest = config.fingerprint()
        done = [r for r in results["runs"] if r["row"] == row.name and r["seed"] == seed]
        if done:
            if done[0]["config_hash"] != digest:
                raise ValueError(
                    f"{results_path} has row {row.name!r} seed {seed} trained with another "
                    "configuration; pass --fresh to start over or --results for a new "
                    "file.")
            print(f"[{table.table}] {row.name} seed {seed}: done before, kept", flush=True)
            return
        protocol = _as_json(dataclasses.asdict(evaluation))
        shared = (_same_run_in_table(results, digest, seed, evaluation, config)
                  or _shared_run(results_path, digest, protocol))
        if shared is not None and table.measure and not _measured_for(table, shared[0]):
            shared = _measure_shared(table, config, *shared)
        if shared is not None:
            run, source = shared
            results["runs"].append({**run, "row": row.name, "reused_from": source,
                                    **({"plateau": plateau_record} if plateau_record else {})})
            print(f"[{table.table}] {row.name} seed {seed}: the same configuration was "
                  f"trained for {source} (row {run['row']!r}); its run is reused", flush=True)
            _summarize(table, results)
            _write_json(results_path, results)
            return
        print(f"[{table.table}] {row.name} seed {seed}: training {config.steps} steps "
              f"({config.model}, {config.backbone}, {config.model_options})", flush=True)
        examples = evaluation_examples(config, evaluation)  # checked before training
        result, record = _train_and_evaluate(config, evaluation, examples)
        metrics, train_seconds = record["metrics"], record["train_seconds"]
        results["runs"].append({
            "row": row.name, "seed": seed,
            "commit": results["commit"],  # the file's "commit" is the last invocation's
            **record,
            **({"plateau": plateau_record} if plateau_record is not None else {}),
            **({"evaluation": protocol} if row.evaluation else {}),
            **({"measurements": table.measure(result.model, config)}
               if table.measure else {}),
        })
        line = "  ".join(f"{split} mIoU {100 * m['miou']:.1f}" for split, m in metrics.items())
        print(f"[{table.table}] {row.name} seed {seed}: {line} "
              f"({train_seconds:.0f} s)", flush=True)
        _summarize(table, results)
        _write_json(results_path, results)

    # The scale's seeds for every selected row; with a seed rule, then the seeds it adds
    # for the rows of claims undecided on the selection split (see `SeedRule`).
    plan = {row.name: seeds for row in selected}
    for _ in range(3):  # the rule's two rounds, and a last call that finds nothing to add
        for row in selected:
            for seed in plan.get(row.name, ()):
                run_one(row, seed)
        if rule is None:
            break
        plan = _with_stages(table, selected, rule.seeds_to_run(
            table.claims, results["runs"], scale.evaluation.splits[0],
            [row.name for row in selected]))
        if not plan:
            break
        print(f"[{table.table}] seed rule ({rule.describe()}): adding seeds "
              + "; ".join(f"{name} {list(s)}" for name, s in plan.items()), flush=True)
    results["wall_seconds_this_invocation"] = round(time.perf_counter() - started, 1)
    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    _summarize(table, results)
    _write_json(results_path, results)
    from keras_lk.experiments import report  # lazily: `python -m ...report` runs it

    print(report.format_results(results))
    print(f"\nResults: {results_path}")
    return results


def run_resources() -> dict:
    """What counted a run's seconds: ``{"cpu": cpu_signature()}``, with ``"tf_threads"``
    where ``TF_NUM_INTRAOP_THREADS`` limits TensorFlow's threads (`recipes/cpu_suite.py
    --lanes` sets it: the run shared the cores with another)."""
    threads = tensorflow_threads()
    return {"cpu": cpu_signature(), **({"tf_threads": threads} if threads else {})}


def _train_and_evaluate(config, evaluation, examples=None):
    """Trains `config` and evaluates it by `evaluation`: ``(result, record)``, where the
    record is what a results file keeps of the run (configuration and its hash, steps,
    parameters, seconds and what counted them (`run_resources`), final training mIoU,
    metrics). A run resumed from its backup counts the seconds of the steps trained
    before (by its training log) and names the step it resumed at (``resumed_at_step``):
    those seconds may have run on another CPU or thread count."""
    from keras_lk.training import train

    started = time.perf_counter()
    result = train(config)
    train_seconds = time.perf_counter() - started + result.resumed_seconds
    resumed = {"resumed_at_step": result.initial_step} if result.initial_step else {}
    started = time.perf_counter()
    metrics = evaluate_run(result.model, config, evaluation, examples)
    return result, {
        "config_hash": config.fingerprint(), "config": json.loads(config.to_json()),
        "steps": result.step, "params": int(result.model.count_params()),
        "train_seconds": round(train_seconds, 1),
        "eval_seconds": round(time.perf_counter() - started, 1), **resumed,
        **run_resources(),
        "final_training_miou": _last(result.history.get("miou")), "metrics": metrics}


def _budget(fields, steps) -> dict:
    """`steps` and a `steps_per_epoch` that divides them (the scale's, or less)."""
    return {"steps": steps, "steps_per_epoch": math.gcd(steps, fields["steps_per_epoch"])}


def decide_plateau(scale, scale_name, results_path, output_dir, fields_of, paper) -> dict:
    """The scale's training budget by its `PlateauRule` (`keras_lk.experiments.plateau`):
    read from ``plateau_<scale>.json`` beside `results_path`, or decided now by training
    the rule's reference rows (each run written to the file as it ends, so a killed
    decision resumes). A file decided for another rule or other settings is decided
    again; its runs whose configuration is the same as one needed now are kept rather
    than trained again. Returns ``{"steps", "reached", "means"}`` (and ``"effects"``
    for the "effect" criterion)."""
    from keras_lk.training import TrainConfig

    rule = scale.plateau
    protocol = _as_json(dataclasses.asdict(scale.evaluation))
    base = fields_of({}, 0, "")
    key = plateau.settings_key(rule, {k: v for k, v in base.items()
                                      if k not in ("output_dir", "verbose")}, protocol)
    path = plateau.plateau_path(results_path, scale_name)
    state, earlier = None, []
    if os.path.exists(path):
        with open(path) as f:
            state = json.load(f)
        if state.get("key") != key:
            print(f"[plateau {scale_name}] {path} was decided for another rule or other "
                  "settings; deciding again", flush=True)
            earlier = state["runs"] if state.get("evaluation") == protocol else []
            superseded = [*state.get("superseded", []),
                          {"rule": state["rule"]["text"], "decision": state.get("decision"),
                           "runs": len(state["runs"])}]
            state = None
    if state is None:
        state = {"paper": paper, "scale": scale_name, "key": key,
                 "rule": {**_as_json(dataclasses.asdict(rule)), "text": rule.describe()},
                 "evaluation": protocol, "runs": []}
        if earlier:
            state["superseded"] = superseded
    if state.get("decision"):
        return state["decision"]
    run_root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(output_dir))),
                            f"plateau_{scale_name}")
    selection = scale.evaluation.splits[0]
    means, effects = {}, {}
    for steps in rule.budgets():
        values = {}
        for name, row_train in rule.rows.items():
            for seed in rule.seeds:
                done = [r for r in state["runs"]
                        if (r["row"], r["seed"], r["steps"]) == (name, seed, steps)]
                if not done:
                    row_dir = "".join(c if c.isalnum() else "_" for c in name.lower())
                    fields = fields_of(row_train, seed, os.path.join(
                        run_root, row_dir, f"steps_{steps}", f"seed_{seed}"))
                    fields.update(_budget(fields, steps))
                    config = TrainConfig(**fields)
                    same = [r for r in earlier if (r["row"], r["seed"], r["steps"],
                                                   r["config_hash"])
                            == (name, seed, steps, config.fingerprint())]
                    if same:
                        print(f"[plateau {scale_name}] {name} seed {seed}: {steps} steps, "
                              "the same run as before, kept", flush=True)
                        state["runs"].append(same[0])
                    else:
                        print(f"[plateau {scale_name}] {name} seed {seed}: {steps} steps",
                              flush=True)
                        _, record = _train_and_evaluate(config, scale.evaluation)
                        state["runs"].append({"row": name, "seed": seed, **record,
                                              "steps": steps})
                    _write_json(path, state)
                    done = state["runs"][-1:]
                values[name, seed] = 100 * done[0]["metrics"][selection]["miou"]
        means[steps] = sum(values.values()) / len(values)
        line = f"mean {selection} mIoU {means[steps]:.1f}"
        if rule.criterion == "effect":
            baseline, compared = rule.rows
            effects[steps] = sum(values[compared, seed] - values[baseline, seed]
                                 for seed in rule.seeds) / len(rule.seeds)
            line += f", {compared} − {baseline} {effects[steps]:+.2f}"
        print(f"[plateau {scale_name}] {steps} steps: {line}", flush=True)
        decision = rule.decide(means, effects)
        if decision is not None:
            break
    state["decision"] = {**decision, "means": {str(s): round(m, 2) for s, m in means.items()},
                         **({"effects": {str(s): round(e, 2) for s, e in effects.items()}}
                            if rule.criterion == "effect" else {})}
    _write_json(path, state)
    print(f"[plateau {scale_name}] budget {decision['steps']} steps (plateau "
          f"{'reached' if decision['reached'] else 'NOT reached'})", flush=True)
    return state["decision"]


def _with_stages(table, selected, plan):
    """`plan` (``{row: seeds}``) with, for each staged row, the same seeds of the
    selected rows it starts from (a stage needs its previous stage's model)."""
    plan = {name: list(seeds) for name, seeds in plan.items()}
    by_name = {row.name: row for row in table.rows}
    for row in reversed(selected):
        source = by_name[row.name].init_from
        if row.name in plan and source is not None and by_name[source] in selected:
            plan.setdefault(source, [])
            plan[source] += [s for s in plan[row.name] if s not in plan[source]]
    return {name: tuple(sorted(seeds)) for name, seeds in plan.items() if seeds}


def _initial_model(table, row, seed, output_dir, selected, init_from):
    """The model file `row` starts from: `init_from` (the command line's) when the row
    it starts from is not run now, else that row's model of the same seed."""
    source = next(r for r in table.rows if r.name == row.init_from)
    if init_from is not None and source not in selected:
        return os.path.abspath(os.path.expanduser(init_from))
    path = os.path.abspath(os.path.join(output_dir, source.key, f"seed_{seed}", "model.keras"))
    if source not in selected and not os.path.exists(path):
        raise ValueError(
            f"row {row.name!r} starts from row {source.name!r} (seed {seed}), whose model "
            f"{path} does not exist: add {source.name!r} to --rows, or give --init-from "
            "the model it should start from.")
    return path


def _same_run_in_table(results, digest, seed, evaluation, config):
    """An earlier row of this table that trained this configuration (a row that only
    tests the same model differently, GCN's "-MS"): its saved model evaluated with
    `evaluation`, as ``(run, source)``; None if there is none or its model is gone."""
    for run in results["runs"]:
        if run["config_hash"] != digest or run["seed"] != seed or "reused_from" in run:
            continue
        path = os.path.join(run["config"]["output_dir"], "model.keras")
        if not os.path.exists(path):
            return None
        import keras

        model = keras.saving.load_model(path, safe_mode=True)
        started = time.perf_counter()
        metrics = evaluate_run(model, config, evaluation)
        return ({**run, "metrics": metrics, "evaluation": _as_json(dataclasses.asdict(evaluation)),
                 "eval_seconds": round(time.perf_counter() - started, 1)},
                f"this table's row {run['row']!r}")
    return None


EARLIER_REGIME = "earlier_regime"
"""The folder beside a paper's results files that keeps the results of superseded
regimes, as a record (each paper's README says which)."""


def _shared_run(results_path, digest, evaluation):
    """A run with configuration `digest`, evaluated by the same protocol, in another
    results file of the same folder.

    Rows of different tables are often one configuration (GCN Table 5's "GCN" is Table
    1's k = 15): such a run is trained once and recorded in each table that has it. The
    files kept under ``earlier_regime/`` count too: a configuration (which names any
    packaged weights it starts from by their SHA-256) trains the same run whatever regime
    its file belonged to, as the transfer table's from-scratch rows do.
    """
    folder = os.path.dirname(os.path.abspath(results_path))
    paths = sorted(glob.glob(os.path.join(folder, "*.json"))) + sorted(glob.glob(
        os.path.join(folder, EARLIER_REGIME, "**", "*.json"), recursive=True))
    for path in paths:
        if os.path.abspath(path) == os.path.abspath(results_path):
            continue
        with open(path) as f:
            other = json.load(f)
        for run in other.get("runs", []):
            if (run.get("config_hash") == digest and "reused_from" not in run
                    and _as_json(run.get("evaluation", other.get("evaluation")))
                    == _as_json(evaluation)):
                return run, os.path.relpath(path, folder)
    return None


def _as_json(value):
    return json.loads(json.dumps(value))


def _measured_for(table, run) -> bool:
    """Whether a shared run's record holds `table`'s `measure` figures (every key of its
    `measured`): a run measured by another table's `measure` is measured again."""
    return "measurements" in run and all(key in run["measurements"]
                                         for key, _ in table.measured)


def _measure_shared(table, config, run, source):
    """A shared run with this table's `measure` taken on its saved model (None if the
    model file is gone: the run is trained again). `measure` gets `config` with the
    shared run's `output_dir`, where that model's files (its training log) are."""
    import keras

    path = os.path.join(run["config"]["output_dir"], "model.keras")
    if not os.path.exists(path):
        return None
    model = keras.saving.load_model(path, safe_mode=True)
    config = dataclasses.replace(config, output_dir=run["config"]["output_dir"])
    return {**run, "measurements": table.measure(model, config)}, source


def _last(values):
    return None if not values else float(values[-1])


def _summarize(table, results):
    runs, splits = results["runs"], results["evaluation"]["splits"]
    names = [row["name"] for row in results["rows"]]
    results["summary"] = {split: statistics.row_summaries(
        runs, [n for n in names if any(r["row"] == n for r in runs)], table.metrics, split)
        for split in splits}
    # Uncorrected: the paper-level correction needs every table of the paper
    # (`keras_lk.experiments.report` applies it; the README shows the corrected verdicts).
    results["claims"] = [claim.evaluate(runs, splits[-1], splits[0]) for claim in table.claims]
    results["claims_on_selection_split"] = (
        [claim.evaluate(runs, splits[0]) for claim in table.claims] if len(splits) > 1 else [])


def default_results_path(table, scale_name, smoke, output_dir):
    """``recipes/<paper>/results/<table>_<scale>.json``; smoke runs write beside their runs."""
    if smoke:
        return os.path.join(output_dir, "results.json")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "recipes", table.paper, "results",
                        f"{table.key}_{scale_name}.json")


def build_parser(table, description) -> argparse.ArgumentParser:
    epilog = ["scales:"]
    for name, scale in table.scales.items():
        hours = f"; ~{scale.gpu_hours:g} GPU-hours per row and seed" if scale.gpu_hours else ""
        seeds = (f"{len(scale.seeds)} seed(s): {list(scale.seeds)}" if scale.seed_rule is None
                 else f"seeds: {scale.seed_rule.describe()}")
        epilog.append(f"  {name}: {scale.description} ({seeds}; evaluation: "
                      f"{scale.evaluation.describe()} on "
                      f"{'/'.join(scale.evaluation.splits)}{hours})")
    epilog.append("rows:")
    for row in table.rows:
        paper = ", ".join(f"{k} {v}" for k, v in row.paper.items()) or "no paper figure"
        epilog.append(f"  {row.name!r} ({paper}; scales {'/'.join(row.scales)})"
                      + (f": {row.note}" if row.note else ""))
    parser = argparse.ArgumentParser(description=description, epilog="\n".join(epilog),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="full", choices=tuple(table.scales),
                        help="full: the paper's setting (default); cpu: built-in scenes")
    parser.add_argument("--smoke", action="store_true",
                        help="a few steps of the same code path (CI)")
    parser.add_argument("--rows", nargs="+", help="rows to run (names or keys; default all)")
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="seeds (default: the scale's, with its seed rule); given seeds "
                        "override the rule")
    parser.add_argument("--output-dir", help="where the runs train (default runs/recipes/...)")
    parser.add_argument("--results", help="results JSON (default recipes/<paper>/results/)")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing results file")
    if any(row.init_from for row in table.rows):
        parser.add_argument("--init-from", help="the model (.keras or run directory) the "
                            "selected rows start from when the row they start from is not "
                            "run now (e.g. a stage-2 model for stage 3)")
    parser.add_argument("--data-dir", help="TFDS data directory (full scale)")
    parser.add_argument("--manual-dir", help="directory of the official archives (first run)")
    parser.add_argument("--strategy", default="auto",
                        choices=("auto", "default", "mirrored", "multi_worker", "tpu"),
                        help="auto: mirrored over all GPUs when there are several")
    parser.add_argument("--precision", default=None,
                        choices=("float32", "mixed_float16", "mixed_bfloat16", "auto"),
                        help="default: the scale's (full: auto = mixed precision on GPUs)")
    parser.add_argument("--num-cpu-devices", type=int, help="logical CPUs for mirrored on CPU")
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    return parser


def main(table, argv=None, description=None, after=None):
    """The command line of a recipe: ``python recipes/<paper>/<table>.py --help``.

    `after(results, results_path)`, if given, runs on the finished results (a recipe's
    own plot)."""
    parser = build_parser(table, description)
    args = parser.parse_args(argv)
    try:
        results = run_table(table, args.scale, rows=args.rows, seeds=args.seeds, smoke=args.smoke,
                  output_dir=args.output_dir, results_path=args.results, fresh=args.fresh,
                  init_from=getattr(args, "init_from", None),
                  data_dir=args.data_dir, manual_dir=args.manual_dir,
                  strategy=args.strategy, precision=args.precision,
                  num_cpu_devices=args.num_cpu_devices, verbose=args.verbose)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    if after is not None:
        after(results, results["results_path"])
    return 0
