import dataclasses
import json
import os
import types

import pytest

from keras_lk import training
from keras_lk.experiments import Greater, Scale, Table, report, runner
from keras_lk.experiments.plateau import PlateauRule, settings_key
from keras_lk.experiments.statistics import Plateau
from keras_lk.utils.machine import cpu_signature
from tests.experiments.test_runner import ROWS, TINY

RULE = PlateauRule(rows={"base": {"model_options": {"head": "conv1x1", "k": 1}}},
                   seeds=(0, 1), start_steps=2, max_steps=16, min_gain=1.0)


def test_budgets_double_up_to_the_maximum():
    assert RULE.budgets() == (2, 4, 8, 16)
    assert PlateauRule(rows={"a": {}}, start_steps=400, max_steps=3000).budgets() == (
        400, 800, 1600)


@pytest.mark.parametrize("means, decision", [
    ({2: 30.0, 4: 30.5}, {"steps": 2, "reached": True}),        # doubling buys < 1
    ({2: 30.0, 4: 35.0}, None),                                 # 8 steps still needed
    ({2: 30.0, 4: 35.0, 8: 35.9}, {"steps": 4, "reached": True}),
    ({2: 30.0, 4: 35.0, 8: 40.0, 16: 45.0}, {"steps": 16, "reached": False}),
    ({2: 30.0, 4: 29.0}, {"steps": 2, "reached": True}),        # worse with more steps
])
def test_decide_takes_the_first_budget_that_doubling_does_not_improve(means, decision):
    assert RULE.decide(means) == decision


def test_rule_arguments_are_checked():
    with pytest.raises(ValueError, match="at least one reference row"):
        PlateauRule(rows={})
    with pytest.raises(ValueError, match="`start_steps` must be"):
        PlateauRule(rows={"a": {}}, start_steps=800, max_steps=400)
    with pytest.raises(ValueError, match="`min_gain` must be"):
        PlateauRule(rows={"a": {}}, min_gain=-1)


def test_the_key_ignores_the_steps_but_not_the_settings():
    train = {"steps": 100, "learning_rate": 0.01}
    key = settings_key(RULE, train, {"splits": ["val"]})
    assert key == settings_key(RULE, {**train, "steps": 800}, {"splits": ["val"]})
    assert key != settings_key(RULE, {**train, "learning_rate": 0.1}, {"splits": ["val"]})
    assert key != settings_key(RULE, train, {"splits": ["val", "test"]})


def _fake_training(monkeypatch, val_by_steps):
    """`train` and `evaluate_run` replaced: val mIoU is a function of the steps."""
    trained = []

    def fake_train(config):
        trained.append(config)
        return types.SimpleNamespace(model=types.SimpleNamespace(count_params=lambda: 1),
                                     step=config.steps, history={"miou": [0.5]},
                                     initial_step=0, resumed_seconds=0.0)

    def fake_evaluate(model, config, evaluation, examples=None):
        value = val_by_steps(trained[-1].steps) / 100
        return {split: {"miou": value} for split in evaluation.splits}

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr(runner, "evaluation_examples", lambda config, evaluation: None)
    monkeypatch.setattr(runner, "evaluate_run", fake_evaluate)
    return trained


def _plateau_table(rule=RULE):
    scale = Scale(name="cpu", train=TINY.train, evaluation=TINY.evaluation, seeds=(0, 1),
                  plateau=rule, description="tiny")
    return Table(paper="gcn", table="Table 1", title="tiny", rows=ROWS, scales={"cpu": scale},
                 claims=(Greater("k = 3 > base", "k = 3", "base"),))


def test_run_table_trains_every_row_for_the_chosen_budget(tmp_path, monkeypatch):
    # val mIoU 20, 30, 35.5, 36 at 2, 4, 8, 16 steps: 8 is within 1 point of 16.
    curve = {2: 20.0, 4: 30.0, 8: 35.5, 16: 36.0}
    trained = _fake_training(monkeypatch, lambda steps: curve[steps])
    results_path = tmp_path / "results" / "table_1_cpu.json"
    results = runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "t1" / "cpu"),
                               results_path=str(results_path))
    pilot = [(c.steps, c.seed) for c in trained[:8]]
    assert pilot == [(2, 0), (2, 1), (4, 0), (4, 1), (8, 0), (8, 1), (16, 0), (16, 1)]
    assert all(c.model_options["head"] == "conv1x1" for c in trained[:8])
    # The table's runs: every row at 8 steps; the base row's 8-step pilot runs are reused.
    table_runs = results["runs"]
    assert {run["steps"] for run in table_runs} == {8}
    assert [r.get("reused_from") for r in table_runs if r["row"] == "base"] == [
        "plateau_cpu.json"] * 2
    assert len(trained) == 8 + 2  # k = 3's two seeds
    assert all(run["plateau"] == {"reached": True, "steps": 8, "rule": RULE.describe()}
               for run in table_runs)
    state = json.loads((tmp_path / "results" / "plateau_cpu.json").read_text())
    assert state["decision"]["steps"] == 8 and state["decision"]["means"]["16"] == 36.0
    # The claim's precondition holds; a rerun decides nothing again and trains nothing.
    assert results["claims"][0]["verdict"] != "not testable here"
    runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "t1" / "cpu"),
                     results_path=str(results_path))
    assert len(trained) == 10
    # The README shows the decision; the plateau file is not a table of its own.
    section = report.results_section(str(tmp_path))
    assert "Budget: **8 steps**, plateau reached" in section
    assert f"8 reference runs, 0 min of training ({cpu_signature()}: 8 runs); file:" in section
    assert "| 16 | 36.0 |" in section
    assert [os.path.basename(p) for p, _ in report._results_files(str(tmp_path))] == [
        "table_1_cpu.json"]


def test_a_plateau_not_reached_makes_plateau_claims_not_testable(tmp_path, monkeypatch):
    _fake_training(monkeypatch, lambda steps: 10.0 * steps)  # still climbing at 16
    results = runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "t" / "cpu"),
                               results_path=str(tmp_path / "results" / "table_1_cpu.json"))
    assert results["plateau"]["reached"] is False and results["plateau"]["steps"] == 16
    claim = results["claims"][0]
    assert claim["verdict"] == "not testable here"
    assert "plateau" in claim["untestable"]


def test_a_changed_rule_decides_again_and_keeps_the_same_runs(tmp_path, monkeypatch):
    trained = _fake_training(monkeypatch, lambda steps: 10.0 * steps)  # not reached by 16
    path = str(tmp_path / "results" / "table_1_cpu.json")
    runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "a" / "cpu"),
                     results_path=path)
    first = len(trained)
    other = PlateauRule(rows=RULE.rows, seeds=(0, 1), start_steps=2, max_steps=16,
                        min_gain=25.0)
    results = runner.run_table(_plateau_table(other), "cpu",
                               output_dir=str(tmp_path / "b" / "cpu"),
                               results_path=str(tmp_path / "results" / "other.json"))
    # Decided again (2 → 4 steps buys 20 < 25 points) from the pilot runs already made:
    # the only new runs are the table's k = 3 rows.
    assert results["plateau"] == {"reached": True, "steps": 2, "rule": other.describe()}
    assert len(trained) == first + 2
    state = json.loads((tmp_path / "results" / "plateau_cpu.json").read_text())
    assert state["superseded"] == [{"rule": RULE.describe(), "runs": 8, "decision": {
        "steps": 16, "reached": False,
        "means": {"2": 20.0, "4": 40.0, "8": 80.0, "16": 160.0}}}]
    assert "It replaced an earlier rule" in report.results_section(str(tmp_path))


def test_changed_settings_train_the_pilot_again(tmp_path, monkeypatch):
    trained = _fake_training(monkeypatch, lambda steps: 30.0)  # flat: 2 steps
    runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "a" / "cpu"),
                     results_path=str(tmp_path / "results" / "table_1_cpu.json"))
    first = len(trained)
    scale = dataclasses.replace(_plateau_table().scales["cpu"],
                                train={**TINY.train, "learning_rate": 0.5})
    table = dataclasses.replace(_plateau_table(), scales={"cpu": scale})
    runner.run_table(table, "cpu", output_dir=str(tmp_path / "b" / "cpu"),
                     results_path=str(tmp_path / "results" / "other.json"))
    assert len(trained) >= first + 4  # other settings: the pilot's runs trained again


def test_plateau_is_implied_where_runs_record_it_and_only_there():
    from keras_lk.experiments.statistics import preconditions_of

    claim = Greater("k = 3 > base", "k = 3", "base")
    recorded = [{"row": "base", "seed": 0, "plateau": {"reached": True}}]
    assert [type(p) for p in preconditions_of(claim, recorded)] == [Plateau]
    assert preconditions_of(claim, [{"row": "base", "seed": 0}]) == ()
    declared = Greater("k = 3 > base", "k = 3", "base", preconditions=(Plateau(("base",)),))
    assert preconditions_of(declared, recorded) == declared.preconditions


def test_smoke_scales_run_a_two_budget_rule():
    scale = _plateau_table().scales["cpu"].smoked()
    assert scale.plateau.budgets() == (1, 2) and scale.plateau.seeds == (0,)


EFFECT_RULE = PlateauRule(rows={"base": {"model_options": {"head": "conv1x1", "k": 1}},
                                "k = 3": {"model_options": {"head": "gcn", "k": 3}}},
                          seeds=(0, 1), start_steps=2, max_steps=16, min_gain=1.0,
                          criterion="effect")


@pytest.mark.parametrize("effects, decision", [
    ({2: 3.0}, None),                                                # one budget: no change yet
    ({2: 3.0, 4: 3.5}, {"steps": 4, "reached": True}),               # settled by 4 steps
    ({2: 3.0, 4: 1.0, 8: 1.9}, {"steps": 8, "reached": True}),       # |Δ| < 1 from 4 to 8
    ({2: -3.0, 4: -1.0, 8: 1.0, 16: 3.0}, {"steps": 16, "reached": False}),
    ({2: 3.0, 4: 2.1}, {"steps": 4, "reached": True}),               # falling by < 1 too
])
def test_the_effect_criterion_takes_the_first_budget_where_the_difference_settled(
        effects, decision):
    means = {steps: 50.0 + 10 * i for i, steps in enumerate(effects)}  # the level climbs
    assert EFFECT_RULE.decide(means, effects) == decision
    with pytest.raises(ValueError, match="decides from `effects`"):
        EFFECT_RULE.decide(means)


def test_the_effect_criterion_needs_two_rows_and_two_budgets():
    with pytest.raises(ValueError, match="two reference rows"):
        PlateauRule(rows={"a": {}}, criterion="effect")
    with pytest.raises(ValueError, match="two budgets at least"):
        PlateauRule(rows={"a": {}, "b": {}}, start_steps=400, max_steps=600,
                    criterion="effect")
    with pytest.raises(ValueError, match="`criterion` must be one of"):
        PlateauRule(rows={"a": {}}, criterion="slope")
    assert "k = 3 − base" in EFFECT_RULE.describe()


def test_run_table_decides_by_the_effect_and_records_it(tmp_path, monkeypatch):
    # Both rows climb 10 points per doubling; k = 3 leads by 4, 1, 1.5, 1.5 points at
    # 2, 4, 8, 16 steps: the difference settled by 8 steps (|1.5 − 1| < 1).
    lead = {2: 4.0, 4: 1.0, 8: 1.5, 16: 1.5}
    trained = _fake_training(monkeypatch, lambda steps: 10.0 * steps)

    def fake_evaluate(model, config, evaluation, examples=None):
        value = 10.0 * config.steps + (lead[config.steps] if config.model_options["k"] == 3
                                       else 0.0)
        return {split: {"miou": value / 100} for split in evaluation.splits}

    monkeypatch.setattr(runner, "evaluate_run", fake_evaluate)
    results = runner.run_table(_plateau_table(EFFECT_RULE), "cpu",
                               output_dir=str(tmp_path / "t" / "cpu"),
                               results_path=str(tmp_path / "results" / "table_1_cpu.json"))
    assert results["plateau"]["steps"] == 8 and results["plateau"]["reached"] is True
    assert [c.steps for c in trained] == [2] * 4 + [4] * 4 + [8] * 4  # no 16-step pilot
    state = json.loads((tmp_path / "results" / "plateau_cpu.json").read_text())
    assert state["decision"]["effects"] == {"2": 4.0, "4": 1.0, "8": 1.5}
    section = report.results_section(str(tmp_path))
    assert "| 8 | 80.8 | +1.50 |" in section and "Budget: **8 steps**" in section
