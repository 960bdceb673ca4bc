import json
import os
import types

import pytest

from keras_lk import training
from keras_lk.experiments import Greater, Scale, Table, report, runner
from keras_lk.experiments.plateau import PlateauRule, settings_key
from keras_lk.experiments.statistics import Plateau
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
                                     step=config.steps, history={"miou": [0.5]})

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


def test_changed_settings_decide_the_budget_again(tmp_path, monkeypatch):
    trained = _fake_training(monkeypatch, lambda steps: 30.0)  # flat: 2 steps
    path = str(tmp_path / "results" / "table_1_cpu.json")
    runner.run_table(_plateau_table(), "cpu", output_dir=str(tmp_path / "a" / "cpu"),
                     results_path=path)
    first = len(trained)
    other = PlateauRule(rows=RULE.rows, seeds=(0, 1), start_steps=2, max_steps=16,
                        min_gain=2.0)
    runner.run_table(_plateau_table(other), "cpu", output_dir=str(tmp_path / "b" / "cpu"),
                     results_path=str(tmp_path / "results" / "other.json"))
    assert len(trained) > first  # the rule changed: the pilot ran again


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
