"""`keras_lk.experiments.report`: a table's `measure` figures (`Table.measured`) as columns
of its README table and panels of its figure; the runner measures shared runs in their
own folders."""

import copy
import dataclasses

import keras
import pytest

from keras_lk.experiments import Greater, Row, Table, report, runner
from keras_lk.training import TrainConfig
from tests.experiments.test_runner import ROWS, TINY


def _run(row, seed, miou, **measurements):
    return {"row": row, "seed": seed, "params": 1000, "train_seconds": 1.0,
            "eval_seconds": 1.0, "metrics": {"test": {"miou": miou}},
            "measurements": measurements}


RESULTS = {
    "paper": "gcn", "table": "Kit", "title": "kit", "scale": "cpu", "smoke": False,
    "scale_description": "tiny", "evaluation": {"splits": ["test"]}, "metrics": ["miou"],
    "rows": [{"name": "base", "paper": {"miou": 69.0}}, {"name": "big", "paper": {}}],
    "runs": [_run("base", 0, 0.50, latency_ms=2.0, vrf=11, deployed=1_000),
             _run("base", 1, 0.52, latency_ms=4.0, vrf=13, deployed=1_000),
             _run("big", 0, 0.60, latency_ms=None, latency_skipped="no onnxruntime", vrf=40,
                  deployed=193_672)],
    "summary": {"test": {"base": {"miou": {"mean": 51.0, "std": 1.4, "n": 2}},
                         "big": {"miou": {"mean": 60.0, "std": 0.0, "n": 1}}}},
    "measured": [["vrf", "VRF (px)"], ["latency_ms", "latency (ms)"],
                 ["deployed", "params merged"]],
}


def test_measured_figures_are_columns_beside_the_metrics():
    header, _, base, big = report.rows_table(RESULTS, markdown=True)
    assert header.endswith("| params | VRF (px) | latency (ms) | params merged |")
    # Under 10: two decimals; a count every seed shares: as it is.
    assert base.endswith("| 1,000 | 12.0 ± 1.4 | 3.00 ± 1.41 | 1,000 |")
    # One seed: no std; a skipped latency records None (and why): "—".
    assert big.endswith("| 1,000 | 40 | — | 193,672 |")


def test_a_file_without_measured_figures_keeps_its_columns():
    plain = {key: value for key, value in RESULTS.items() if key != "measured"}
    header, _, base, _ = report.rows_table(plain, markdown=True)
    assert header.endswith("| miou per seed | params |") and base.endswith("| 1,000 |")


def test_the_figure_plots_the_main_metric_against_each_measured_figure(tmp_path):
    path = tmp_path / "kit.png"
    report.plot_results(copy.deepcopy(RESULTS), str(path))
    wide = keras.utils.load_img(str(path)).size
    plain = tmp_path / "plain.png"
    report.plot_results({k: v for k, v in RESULTS.items() if k != "measured"}, str(plain))
    # One panel per measured figure beside the per-row panel: 3 × 3.6 inches at 100 dpi.
    assert wide[0] - keras.utils.load_img(str(plain)).size[0] == 1080


def test_measured_needs_a_measure():
    with pytest.raises(ValueError, match="needs a `measure`"):
        Table(paper="gcn", table="T", title="t", rows=ROWS, scales={"cpu": TINY},
              measured=(("vrf", "VRF"),))


def test_a_shared_run_is_measured_in_its_own_folder(tmp_path):
    """`measure` reads a shared run's files (its training log) from the folder it trained
    in, and measures again a run that another table's `measure` measured."""
    folder = tmp_path / "other_table" / "seed_0"
    folder.mkdir(parents=True)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.save(folder / "model.keras")
    table = Table(paper="gcn", table="T", title="t", rows=(Row("base"),),
                  scales={"cpu": TINY}, measure=lambda model, config: {
                      "folder": config.output_dir, "params": model.count_params()},
                  measured=(("folder", "folder"),))
    shared = {"row": "Baseline", "config": {"output_dir": str(folder)},
              "measurements": {"res5_field_of_view": 67}}  # another table's figures
    assert not runner._measured_for(table, shared)
    config = TrainConfig(output_dir=str(tmp_path / "this_table" / "seed_0"))
    run, source = runner._measure_shared(table, config, shared, "table_5_cpu.json")
    assert run["measurements"] == {"folder": str(folder), "params": 3}
    assert source == "table_5_cpu.json" and runner._measured_for(table, run)


def test_the_section_names_each_cpu_that_ran_its_runs():
    results = copy.deepcopy(RESULTS)
    results.update(machine={"platform": "Linux-x", "processor": "", "cpu_count": 2},
                   command="kit.py", commit="0" * 10, versions={"tensorflow": "2", "keras": "3"})
    assert "on 2 CPU cores (Linux-x)." in report.markdown_section(results, "kit.json")
    results["runs"][0]["cpu"] = results["runs"][1]["cpu"] = "Xeon (6/143) avx512f"
    assert "on 2 CPU cores (Xeon (6/143) avx512f: 2 runs; CPU not recorded: 1 run)." in (
        report.markdown_section(results, "kit.json"))
    results["runs"][1]["tf_threads"] = 1  # `cpu_suite.py --lanes 2`
    assert ("(Xeon (6/143) avx512f: 2 runs; CPU not recorded: 1 run; 1 of them beside "
            "another suite lane, 1 TensorFlow thread each).") in report.markdown_section(
                results, "kit.json")
    # A run reused from another table is timed there: neither its minutes nor its CPU.
    results["runs"][2]["reused_from"] = "table_1_cpu.json"
    assert ("3 runs (1 of them reused from other tables, where they are timed), 0 min of "
            "training and evaluation on 2 CPU cores (Xeon (6/143) avx512f: 2 runs; 1 of "
            "them beside") in report.markdown_section(results, "kit.json")


def test_a_regime_check_is_corrected_apart_from_the_papers_claims():
    """A regime check's comparisons are near-certain rejections: in the paper's family
    they would raise the thresholds Benjamini–Hochberg gives the paper's claims."""
    from tests.experiments.test_statistics import _results, _runs

    paper_claim = (Greater("r0 > base", "r0", "base"),)
    regime_claim = (Greater("pretrained > scratch", "pretrained", "scratch"),)
    paper = {**_results(_runs({"base": [0.30] * 4, "r0": [0.31, 0.32, 0.33, 0.31]}),
                        splits=("test",)), "table": "T", "scale": "cpu"}
    regime = {**_results(_runs({"scratch": [0.2, 0.21, 0.19, 0.2],
                                "pretrained": [0.7, 0.72, 0.71, 0.7]}), splits=("test",)),
              "table": "Transfer", "scale": "cpu"}
    tables = {"T": Table(paper="gcn", table="T", title="t", rows=(Row("base"), Row("r0")),
                         scales={"cpu": TINY}, claims=paper_claim),
              "Transfer": Table(paper="gcn", table="Transfer", title="t",
                                rows=(Row("scratch"), Row("pretrained")),
                                scales={"cpu": TINY}, claims=regime_claim,
                                regime_check=True)}
    corrections = report._corrections(tables, [("t.json", paper), ("transfer.json", regime)])
    assert set(corrections) == {("cpu", False), ("cpu", True)}
    assert corrections[("cpu", False)]["m"] == corrections[("cpu", True)]["m"] == 1
    # Alone in its family the paper's claim keeps its p (p = 0.035 < 0.05: agrees).
    assert corrections[("cpu", False)]["claims"]["T"][0]["verdict"] == "agrees"
    together = report._corrections({**tables, "Transfer": dataclasses.replace(
        tables["Transfer"], regime_check=False)}, [("t.json", paper), ("transfer.json", regime)])
    assert together[("cpu", False)]["m"] == 2
