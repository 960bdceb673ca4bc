"""Every recipe: its rows make valid configurations at every scale, and its --smoke runs
through the same code path (the built-in scenes, or tiny archives of the official
layout for the full-scale datasets)."""

import importlib.util
import os
import sys

import pytest

from keras_lk.experiments import merge_train, report
from keras_lk.training import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPES = os.path.join(ROOT, "recipes")
sys.path.insert(0, os.path.join(ROOT, "tests", "data"))


def _load(relative):
    path = os.path.join(RECIPES, relative)
    spec = importlib.util.spec_from_file_location(relative.replace("/", "_")[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLE_RECIPES = ["gcn/table1_kernel_size.py", "gcn/table5_boundary_refinement.py",
                 "gcn/table2_gcn_vs_kxk.py", "gcn/table3_gcn_vs_stack.py",
                 "gcn/table4_stack_width.py", "gcn/regime_sweep.py",
                 "gald/table1a_ga_modules.py", "gald/table1b_local_distribution.py",
                 "gald/table1c_arrangements.py", "gald/table1d_backbones.py",
                 "gald/table1e_ld_downsampling.py", "gald/table2_cityscapes_test.py",
                 "fcrn/table1_field_of_view.py", "fcrn/table2_cityscapes_field_of_view.py",
                 "fcrn/table3_high_resolution.py", "fcrn/table4_bootstrapping.py",
                 "fcrn/table5_table6_per_class.py"]


def _tables(module):
    """A recipe's tables: `TABLE`, or `TABLES` by `--dataset` (one full scale per table)."""
    return list(module.TABLES.values()) if hasattr(module, "TABLES") else [module.TABLE]


@pytest.mark.parametrize("relative", TABLE_RECIPES)
def test_every_row_is_a_valid_configuration_at_every_scale(relative, tmp_path):
    for table in _tables(_load(relative)):
        for name, scale in table.scales.items():
            for candidate in (scale, scale.smoked()):
                for row in table.rows_at(name):
                    fields = merge_train(candidate.train, row.train)
                    fields.setdefault("data_dir", str(tmp_path))
                    TrainConfig(**fields, output_dir=str(tmp_path))
            assert table.rows_at(name), f"{table.table} has no row at scale {name}"


def test_table1_cpu_smoke(tmp_path, capsys):
    module = _load("gcn/table1_kernel_size.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows", "base", "k = 15",
                                      "--output-dir", str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "GCN Table 1" in out and "GCN k = 15 > base: inconclusive" in out
    assert (tmp_path / "results.json").is_file()


def test_table5_full_scale_smoke_on_tiny_voc_archives(tmp_path, monkeypatch, capsys):
    from test_voc_sbd import write_voc_sbd

    from keras_lk.data.builders import voc_sbd

    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    write_voc_sbd(tmp_path / "manual")
    module = _load("gcn/table5_boundary_refinement.py")
    assert module.main(module.TABLE, [
        "--smoke", "--rows", "GCN + BR", "--output-dir", str(tmp_path / "runs"),
        "--data-dir", str(tmp_path / "data"), "--manual-dir", str(tmp_path / "manual"),
        "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "scale full (smoke)" in out and "GCN + BR" in out
    import json

    results = json.loads((tmp_path / "runs" / "results.json").read_text())
    (run,) = results["runs"]
    assert run["config"]["dataset"] == "voc_sbd" and run["metrics"]["val"]["num_images"] == 2


def test_gald_table1b_full_scale_smoke_on_tiny_cityscapes_archives(tmp_path, monkeypatch,
                                                                   capsys):
    from test_cityscapes import write_cityscapes

    from keras_lk.data.builders import cityscapes

    monkeypatch.setattr(cityscapes.CityscapesTrainIds, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_extra": 2})
    write_cityscapes(tmp_path / "manual", "gtFine", "leftImg8bit_trainvaltest.zip",
                     "gtFine_trainvaltest.zip", ["train", "val", "test"])
    module = _load("gald/table1b_local_distribution.py")
    assert module.main(module.TABLE, [
        "--smoke", "--rows", "+CGNL + LD", "--output-dir", str(tmp_path / "runs"),
        "--data-dir", str(tmp_path / "data"), "--manual-dir", str(tmp_path / "manual"),
        "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "GALD Table 1(b)" in out and "scale full (smoke)" in out
    import json

    results = json.loads((tmp_path / "runs" / "results.json").read_text())
    (run,) = results["runs"]
    config = run["config"]
    assert config["dataset"] == "cityscapes_train_ids/fine" and config["loss"] == "ohem"
    assert config["model_options"]["ga"] == "cgnl" and config["model_options"]["ld"] is True
    assert config["backbone"] == "resnet10_narrow"  # the smoke's tiny backbone
    assert results["evaluation"]["tile"] is None and run["metrics"]["val"]["num_images"] == 2
    assert len(run["metrics"]["val"]["per_class_iou"]) == 19


def test_fcrn_table4_full_scale_smoke_on_tiny_voc_archives(tmp_path, monkeypatch, capsys):
    from test_voc_sbd import write_voc_sbd

    from keras_lk.data.builders import voc_sbd

    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    write_voc_sbd(tmp_path / "manual")
    module = _load("fcrn/table4_bootstrapping.py")
    assert module.run([
        "--dataset", "voc", "--smoke", "--rows", "101 512/T",
        "--output-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "data"),
        "--manual-dir", str(tmp_path / "manual"), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "FCRN Table 4 (VOC 2012)" in out and "101 512/T" in out
    import json

    results = json.loads((tmp_path / "runs" / "results.json").read_text())
    (run,) = results["runs"]
    config = run["config"]
    assert config["dataset"] == "voc_sbd" and config["backbone"] == "resnet10_narrow"
    assert (config["loss"], config["ohem_mode"], config["ohem_min_kept"]) == ("ohem", "fcrn",
                                                                              512 * 64)
    assert config["model_options"]["dropout"] is True
    assert run["metrics"]["val"]["num_images"] == 2


def test_recipe_help_describes_the_full_scale_run(capsys):
    module = _load("gcn/table1_kernel_size.py")
    with pytest.raises(SystemExit):
        module.main(module.TABLE, ["--help"])
    out = capsys.readouterr().out
    assert "full: VOC 2012 + SBD" in out and "ResNet-152" in out and "'k = 13'" in out


@pytest.mark.parametrize("paper", ["gcn", "gald", "fcrn"])
def test_readme_tables_are_generated_from_the_results_files(paper):
    assert report.update_readme(os.path.join(RECIPES, paper), check=True), (
        f"run: python -m keras_lk.experiments.report recipes/{paper}")


def test_regime_sweep_smoke_measures_receptive_fields_and_plots(tmp_path):
    module = _load("gcn/regime_sweep.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows", "64² 1×1",
                                      "64² GCN k = 15", "--output-dir", str(tmp_path),
                                      "--verbose", "0"], after=module.plot_gain) == 0
    import json

    results = json.loads((tmp_path / "results.json").read_text())
    for run in results["runs"]:
        assert run["measurements"]["res5_field_of_view"] == 67
        assert run["measurements"]["valid_receptive_field_extent"] >= 1
    assert (tmp_path / "results_gain.png").is_file()
