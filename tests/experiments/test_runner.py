import json
import os
import shutil

import pytest

from keras_lk.experiments import Evaluation, Greater, Row, Scale, Table, report, run_table, runner
from keras_lk.utils.machine import cpu_signature

TINY = Scale(
    name="cpu",
    train={"model": "gcn", "backbone": "resnet10_local", "dataset": "scenes",
           "image_size": 32, "num_train_images": 4, "crop_size": 32, "batch_size": 2,
           "steps": 2, "steps_per_epoch": 1, "optimizer": "adam", "l2": 0.0,
           "learning_rate": 1e-3, "precision": "float32", "tensorboard": False,
           "verbose": 0, "model_options": {"boundary_refine": False}},
    evaluation=Evaluation(splits=("val", "test"), num_images=2),
    seeds=(0, 1),
    description="tiny",
)
ROWS = (Row("base", {"model_options": {"head": "conv1x1", "k": 1}}, paper={"miou": 69.0}),
        Row("k = 3", {"model_options": {"head": "gcn", "k": 3}}, paper={"miou": 70.1}))


CLAIMS = (Greater("k = 3 > base", "k = 3", "base"),)


def _table(name="Table 1", rows=ROWS, claims=CLAIMS):
    return Table(paper="gcn", table=name, title="tiny", rows=rows, scales={"cpu": TINY},
                 claims=claims)


@pytest.fixture(scope="module")
def table1(tmp_path_factory):
    """Table 1 run once: two rows × two seeds, results in `<root>/results/`."""
    root = tmp_path_factory.mktemp("table1")
    results = run_table(_table(), "cpu", output_dir=str(root / "runs1"),
                        results_path=str(root / "results" / "table_1_cpu.json"),
                        command="test")
    return root, results


@pytest.mark.slow
def test_run_writes_every_seed(table1):
    root, first = table1
    assert [(r["row"], r["seed"]) for r in first["runs"]] == [
        ("base", 0), ("base", 1), ("k = 3", 0), ("k = 3", 1)]
    saved = json.loads((root / "results" / "table_1_cpu.json").read_text())
    assert saved["commit"] and saved["versions"]["keras"] and saved["command"] == "test"
    run = saved["runs"][0]
    assert run["cpu"] == saved["machine"]["cpu"] == cpu_signature()  # who counted seconds
    assert set(run["metrics"]) == {"val", "test"}
    assert 0 <= run["metrics"]["test"]["miou"] <= 1 and run["metrics"]["test"]["num_images"] == 2
    assert saved["summary"]["test"]["base"]["miou"]["n"] == 2
    assert saved["claims"][0]["statement"] == "k = 3 > base" and saved["claims"][0]["n"] == 2


@pytest.mark.slow
def test_a_rerun_trains_nothing_and_other_tables_share_runs(table1, capsys):
    root, first = table1
    again = run_table(_table(), "cpu", output_dir=str(root / "runs1"),
                      results_path=str(root / "results" / "table_1_cpu.json"))
    assert "done before, kept" in capsys.readouterr().out
    assert again["runs"] == first["runs"]

    # Another table with the same configuration and protocol reuses the runs.
    other = run_table(_table("Table 5", (Row("Baseline", ROWS[0].train),), ()), "cpu",
                      output_dir=str(root / "runs5"),
                      results_path=str(root / "results" / "table_5_cpu.json"))
    assert [r["reused_from"] for r in other["runs"]] == ["table_1_cpu.json"] * 2
    assert other["runs"][0]["metrics"] == first["runs"][0]["metrics"]
    # ... but not a run evaluated by another protocol (its metrics would not apply).
    digest = first["runs"][0]["config_hash"]
    protocol = dict(first["evaluation"])
    path5 = str(root / "results" / "table_5_cpu.json")
    assert runner._shared_run(path5, digest, protocol) is not None
    assert runner._shared_run(path5, digest, {**protocol, "boundary_distance": 3}) is None
    # A results file kept as an earlier regime's record still shares its runs: the same
    # configuration trains the same run.
    kept = root / "elsewhere" / "results"
    (kept / "earlier_regime" / "first").mkdir(parents=True)
    shutil.copy(root / "results" / "table_1_cpu.json", kept / "earlier_regime" / "first")
    run, source = runner._shared_run(str(kept / "table_1_cpu.json"), digest, protocol)
    assert source == os.path.join("earlier_regime", "first", "table_1_cpu.json")
    assert run["config_hash"] == digest


@pytest.mark.slow
def test_a_row_added_to_the_recipe_joins_the_results_rows(table1):
    root, _ = table1
    path = str(root / "results" / "table_1b_cpu.json")
    first = run_table(_table("Table 1b", ROWS[:1], ()), "cpu", output_dir=str(root / "runs1b"),
                      results_path=path)  # shares Table 1's runs: nothing trains
    assert [row["name"] for row in first["rows"]] == ["base"]
    grown = run_table(_table("Table 1b", ROWS, ()), "cpu", rows=["base"],
                      output_dir=str(root / "runs1b"), results_path=path)
    assert [row["name"] for row in grown["rows"]] == ["base", "k = 3"]
    assert grown["runs"] == first["runs"]


def test_changed_configuration_is_refused(tmp_path):
    path = str(tmp_path / "results.json")
    run_table(_table(), "cpu", rows=["base"], seeds=[0], output_dir=str(tmp_path / "a"),
              results_path=path)
    changed = Table(paper="gcn", table="Table 1", title="tiny", scales={"cpu": TINY},
                    rows=(Row("base", {"model_options": {"head": "conv1x1", "k": 1},
                                       "learning_rate": 5e-3}),))
    with pytest.raises(ValueError, match="another configuration; pass --fresh"):
        run_table(changed, "cpu", seeds=[0], output_dir=str(tmp_path / "a"), results_path=path)


def test_unknown_rows_and_scales_are_named():
    with pytest.raises(ValueError, match=r"`--rows` \['k = 99'\] not in Table 1"):
        _table().rows_at("cpu", ["k = 99"])
    with pytest.raises(ValueError, match="`scale` must be one of"):
        run_table(_table(), "full")
    with pytest.raises(ValueError, match="claim 'x' names unknown rows"):
        Table(paper="gcn", table="T", title="t", rows=ROWS, scales={},
              claims=(Greater("x", "k = 3", "k = 5"),))


@pytest.mark.slow
def test_readme_section_is_generated_from_results(table1, tmp_path):
    root, _ = table1
    paper_dir = tmp_path / "gcn"
    (paper_dir / "results").mkdir(parents=True)
    shutil.copy(root / "results" / "table_1_cpu.json", paper_dir / "results")
    (paper_dir / "README.md").write_text(f"# GCN\n\n{report.BEGIN}\nold\n{report.END}\nafter\n")
    assert not report.update_readme(str(paper_dir), check=True)
    assert report.main([str(paper_dir), "--check"]) == 1
    assert report.main([str(paper_dir), "--plots"]) == 0
    text = (paper_dir / "README.md").read_text()
    assert "### Table 1: tiny (cpu scale)" in text and "| k = 3 | 70.1 |" in text
    assert "| k = 3 > base |" in text
    assert text.endswith(f"{report.END}\nafter\n") and "old" not in text
    assert (paper_dir / "results" / "table_1_cpu.png").is_file()
    assert report.main([str(paper_dir), "--check"]) == 0


def test_committed_runs_keep_their_fingerprints():
    """Every run in a committed results file has the fingerprint its recorded config
    gives today: a new `TrainConfig` field must not orphan recorded runs (a rerun would
    refuse the file and shared runs would train again)."""
    import glob
    import json

    from keras_lk.training import TrainConfig

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = sorted(glob.glob(os.path.join(root, "recipes", "*", "results", "**", "*.json"),
                             recursive=True))
    assert paths
    for path in paths:
        with open(path) as f:
            runs = json.load(f)["runs"]
        for run in runs:
            config = TrainConfig.from_json(json.dumps(run["config"]))
            assert config.fingerprint() == run["config_hash"], (path, run["row"], run["seed"])


def test_a_bad_label_in_an_evaluation_split_stops_the_run_before_training(tmp_path,
                                                                          monkeypatch):
    """Every split a run reads is checked before its first step: a label value of 40 in a
    3-class folder dataset's val split is an error naming the file, and nothing trains."""
    import sys

    import numpy as np
    from PIL import Image

    from keras_lk.data import folder_dataset
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "data"))
    from test_folder import write_folder

    root = write_folder(tmp_path / "data")
    bad = next(folder_dataset(root, "val").as_numpy_iterator())["file_name"].decode()
    label_path = root / "labels" / bad.replace(".jpg", ".png")
    Image.fromarray(np.full((24, 32), 40, np.uint8)).save(label_path)
    from keras_lk import training

    trained = []
    monkeypatch.setattr(training, "train", lambda config: trained.append(config))
    scale = Scale(name="cpu", train={**TINY.train, "dataset": "folder", "data_dir": str(root),
                                     "image_size": None},
                  evaluation=Evaluation(splits=("val",)), seeds=(0,), description="folder")
    table = Table(paper="gcn", table="Table 1", title="tiny", rows=ROWS[:1],
                  scales={"cpu": scale}, claims=())
    with pytest.raises(ValueError, match=f"{label_path.name}.*40"):
        run_table(table, "cpu", output_dir=str(tmp_path / "runs"),
                  results_path=str(tmp_path / "results.json"))
    assert trained == []


def test_run_table_applies_the_scales_seed_rule(tmp_path, monkeypatch):
    """With `SeedRule(5, 10)`: every row gets seeds 0-4; the rows of the claim undecided
    on val (A > base: interval straddles 0, |t| = 1.6) get seeds 5-9; the decided claim's
    other row (C) keeps 5 seeds, although its claim is undecided on test. `seeds` given
    on the command line override the rule."""
    import types

    from keras_lk import training
    from keras_lk.experiments import SeedRule, runner

    straddles, decided = [3.0, -1.0, 2.0, 0.5, 1.0] * 2, [5.0, 5.2, 4.8, 5.1, 4.9] * 2
    gains = {"base": ([0.0] * 10, [0.0] * 10), "a": (straddles, decided),
             "c": (decided, straddles)}  # (val, test) points over base, per seed
    trained = []

    def fake_train(config):
        row = os.path.basename(os.path.dirname(config.output_dir))
        trained.append((row, config.seed))
        resumed = row == "a" and config.seed == 3  # as if killed and rerun at mid-run
        return types.SimpleNamespace(model=types.SimpleNamespace(count_params=lambda: 1),
                                     step=config.steps, history={"miou": [0.5]},
                                     initial_step=config.steps // 2 if resumed else 0,
                                     resumed_seconds=100.0 if resumed else 0.0)

    def fake_evaluate(model, config, evaluation, examples=None):
        row, seed = trained[-1]
        val, test = (0.30 + gain[seed] / 100 for gain in gains[row])
        return {"val": {"miou": val}, "test": {"miou": test}}

    monkeypatch.setattr(training, "train", fake_train)
    monkeypatch.setattr(runner, "evaluation_examples", lambda config, evaluation: None)
    monkeypatch.setattr(runner, "evaluate_run", fake_evaluate)
    rule = SeedRule(initial=5, maximum=10, min_abs_t=1.0)
    scale = Scale(name="cpu", train=TINY.train, evaluation=TINY.evaluation,
                  seeds=rule.initial_seeds, seed_rule=rule, description="tiny")
    rows = (ROWS[0], Row("A", {"model_options": {"head": "gcn", "k": 3}}),
            Row("C", {"model_options": {"head": "gcn", "k": 5}}))
    table = Table(paper="gcn", table="Table 1", title="tiny", rows=rows, scales={"cpu": scale},
                  claims=(Greater("A > base", "A", "base"), Greater("C > base", "C", "base")))
    results = run_table(table, "cpu", output_dir=str(tmp_path / "runs"),
                        results_path=str(tmp_path / "results.json"))
    seeds = {row.name: sorted(r["seed"] for r in results["runs"] if r["row"] == row.name)
             for row in rows}
    assert seeds == {"base": list(range(10)), "A": list(range(10)), "C": list(range(5))}
    assert results["seed_rule"]["maximum"] == 10
    # The resumed run counts the seconds its steps took before, and says where it resumed.
    resumed = [r for r in results["runs"] if "resumed_at_step" in r]
    assert [(r["row"], r["seed"], r["resumed_at_step"]) for r in resumed] == [
        ("A", 3, TINY.train["steps"] // 2)]
    assert resumed[0]["train_seconds"] >= 100
    # A rerun trains nothing more: the rule's decision is taken on the initial seeds.
    count = len(trained)
    run_table(table, "cpu", output_dir=str(tmp_path / "runs"),
              results_path=str(tmp_path / "results.json"))
    assert len(trained) == count
    # Given seeds override the rule.
    other = run_table(table, "cpu", seeds=[0, 1], output_dir=str(tmp_path / "runs2"),
                      results_path=str(tmp_path / "results2.json"))
    assert sorted({r["seed"] for r in other["runs"]}) == [0, 1] and "seed_rule" not in other


def test_a_run_records_its_cpu_and_the_threads_a_lane_gave_it(monkeypatch):
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    assert runner.run_resources() == {"cpu": cpu_signature()}
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")  # `cpu_suite.py --lanes 2` on 2 cores
    assert runner.run_resources() == {"cpu": cpu_signature(), "tf_threads": 1}
