"""Every recipe: its rows make valid configurations at every scale, and its --smoke runs
through the same code path (the built-in scenes, or tiny archives of the official
layout for the full-scale datasets)."""

import json
import os
import sys

import pytest

from keras_lk.experiments import merge_train, report
from keras_lk.experiments.coverage import load_recipe, tables_of
from keras_lk.training import TrainConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPES = os.path.join(ROOT, "recipes")
sys.path.insert(0, os.path.join(ROOT, "tests", "data"))


def _load(relative):
    return load_recipe(os.path.join(RECIPES, relative))


TABLE_RECIPES = ["gcn/table1_kernel_size.py", "gcn/table5_boundary_refinement.py",
                 "gcn/table6_pretrained_backbone.py", "gcn/table7_voc_stages.py",
                 "gcn/table9_cityscapes_stages.py",
                 "gcn/table2_gcn_vs_kxk.py", "gcn/table3_gcn_vs_stack.py",
                 "gcn/table4_stack_width.py", "gcn/regime_sweep.py",
                 "gcn/large_kernel_kit.py",
                 "gald/table1a_ga_modules.py", "gald/table1b_local_distribution.py",
                 "gald/table1c_arrangements.py", "gald/table1d_backbones.py",
                 "gald/table1e_ld_downsampling.py", "gald/ld_initialization.py",
                 "gald/table2_cityscapes_test.py",
                 "fcrn/table1_field_of_view.py", "fcrn/table2_cityscapes_field_of_view.py",
                 "fcrn/table3_high_resolution.py", "fcrn/table4_bootstrapping.py",
                 "fcrn/table5_table6_per_class.py",
                 "segnext/table_ade20k.py", "segnext/table_cityscapes.py"]


@pytest.mark.parametrize("relative", TABLE_RECIPES)
def test_every_row_is_a_valid_configuration_at_every_scale(relative, tmp_path):
    for table in tables_of(_load(relative)):
        for name, scale in table.scales.items():
            for candidate in (scale, scale.smoked()):
                for row in table.rows_at(name):
                    fields = merge_train(candidate.train, row.train)
                    fields.setdefault("data_dir", str(tmp_path))
                    TrainConfig(**fields, output_dir=str(tmp_path))
            assert table.rows_at(name), f"{table.table} has no row at scale {name}"


@pytest.mark.slow
def test_table1_cpu_smoke(tmp_path, capsys):
    module = _load("gcn/table1_kernel_size.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows", "base", "k = 15",
                                      "--output-dir", str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "GCN Table 1" in out and "GCN k = 15 > base: " in out
    # The smoke scale's plateau rule (1 and 2 steps) ran first, into its own file.
    assert "[plateau cpu] base seed 0: 1 steps" in out
    assert (tmp_path / "results.json").is_file() and (tmp_path / "plateau_cpu.json").is_file()
    # Each run names the packaged weights it started from by their content.
    from keras_lk.backbones import weights_file_sha256

    with open(tmp_path / "results.json") as f:
        runs = json.load(f)["runs"]
    assert {run["config"]["backbone_weights_sha256"] for run in runs} == {
        weights_file_sha256("resnet10_local", "scenes")}


@pytest.mark.parametrize("first, first_row, second, second_row", [
    ("gald/table1b_local_distribution.py", "FCN (Baseline)",
     "gald/table1e_ld_downsampling.py", "FCN (Baseline)"),
    ("gald/table1b_local_distribution.py", "+CGNL", "gald/table1e_ld_downsampling.py",
     "FCN + CGNL"),
    ("gald/table1b_local_distribution.py", "+CGNL + LD", "gald/table1e_ld_downsampling.py",
     "+CGNL+LD(depth-wise convolution)"),
    ("gald/table1e_ld_downsampling.py", "+CGNL+LD(depth-wise convolution)",
     "gald/ld_initialization.py", "depth-wise, PyTorch's start (Table 1(e))"),
    ("gald/table1e_ld_downsampling.py", "+CGNL+LD(bilinear interpolation)",
     "gald/ld_initialization.py", "bilinear (Table 1(e))"),
    ("fcrn/table1_field_of_view.py", "local 1/8 k5 d3 (FoV 104)",
     "fcrn/table4_bootstrapping.py", "local F/F"),
    ("gcn/table1_kernel_size.py", "base", "gcn/large_kernel_kit.py", "base"),
    ("gcn/table1_kernel_size.py", "k = 15", "gcn/large_kernel_kit.py", "GCN k = 15"),
])
def test_cpu_rows_of_two_tables_are_one_run(first, first_row, second, second_row, tmp_path):
    """The CPU budget counts these rows once: the runner reuses a run whose configuration
    hash another results file of the folder has."""
    def fingerprint(relative, row_name):
        (table,) = [t for t in tables_of(_load(relative))
                    if row_name in {row.name for row in t.rows_at("cpu")}]
        (row,) = table.rows_at("cpu", [row_name])
        fields = merge_train(table.scales["cpu"].train, row.train)
        return TrainConfig(**fields, output_dir=str(tmp_path / row.key)).fingerprint()

    assert fingerprint(first, first_row) == fingerprint(second, second_row)


def test_large_kernel_kit_head_parameters_at_the_cpu_scale():
    """The parameter counts of the kit's docstring (`HEAD_PARAMS`): the four stage heads
    of each row, trained and merged for export, at the CPU scale's classes and backbone;
    the large-kernel heads deploy within 0.93-1.17× GCN's, but SegNeXt's MSCA block at
    1.88×."""
    from keras_lk import data
    from keras_lk.export import merged_model
    from keras_lk.layers.context_head import msca_strips
    from keras_lk.models import GCNSeg
    from keras_lk.models.gcn_seg import STAGES

    module = _load("gcn/large_kernel_kit.py")
    train = module.TABLE.scales["cpu"].train
    num_classes = data.DATASETS[train["dataset"]].num_classes
    for (head, k), (trained, deployed) in module.HEAD_PARAMS.items():
        model = GCNSeg(num_classes, k=k, backbone=train["backbone"], head=head,
                       boundary_refine=False)
        merged = merged_model(model)
        assert [sum(m.get_layer(f"{stage}_{head}").count_params() for stage in STAGES)
                for m in (model, merged)] == [trained, deployed], (head, k)
    rows = {name: merge_train(train, row.train)["model_options"]
            for name, row in ((row.name, row) for row in module.TABLE.rows_at("cpu"))}
    deployed = [module.HEAD_PARAMS[(options["head"], options["k"])][1]
                for options in rows.values()
                if options["k"] == module.K and options["head"] != "msca_block"]
    gcn = module.HEAD_PARAMS[("gcn", module.K)][1]
    assert len(deployed) == 4 and 0.92 < min(deployed) / gcn and max(deployed) / gcn < 1.18
    assert round(module.HEAD_PARAMS[("msca_block", module.K)][1] / gcn, 2) == 1.88
    assert msca_strips(module.K) == (5, 7, 15)


def test_fcrn_cpu_rows_scale_the_field_of_view_and_k_to_the_crop(tmp_path):
    from keras_lk.models.fcrn import fcrn_field_of_view

    table1 = _load("fcrn/table1_field_of_view.py").TABLE
    crop = table1.scales["cpu"].train["crop_size"]
    fovs = [row.x for row in table1.rows_at("cpu")]
    for row in table1.rows_at("cpu"):
        options = merge_train(table1.scales["cpu"].train, row.train)["model_options"]
        fov = fcrn_field_of_view(options["output_stride"], options["kernel_size"],
                                 options["dilation"])
        assert row.x == fov and f"(FoV {fov})" in row.name
    # From less than the smallest object (26 px across) to about the crop.
    assert fovs == sorted(fovs) and fovs[0] < 26 and 0.75 * crop <= fovs[-1] <= crop
    module = _load("fcrn/table4_bootstrapping.py")
    (row,) = module.TABLES["voc"].rows_at("cpu", ["local 512/F"])
    # 512 of the 1/8 score map of a 512² crop is the same share of a 128² crop's map.
    assert row.train["ohem_min_kept"] / (crop / 8) ** 2 == 512 / (512 / 8) ** 2
    assert table1.scales["cpu"].train["loss_at_score_map"] is True


@pytest.mark.slow
def test_gald_table1e_cpu_smoke(tmp_path, capsys):
    module = _load("gald/table1e_ld_downsampling.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows",
                                      "+CGNL+LD(average pooling)", "--output-dir",
                                      str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "GALD Table 1(e)" in out and "scale cpu (smoke)" in out
    import json

    results = json.loads((tmp_path / "results.json").read_text())
    (run,) = results["runs"]
    config = run["config"]
    assert config["dataset"] == "scenes_small_objects" and config["backbone"] == "resnet10_local"
    assert config["model_options"]["ld_downsample"] == "average"
    assert config["model_options"]["ld_downsample_rate"] == 2
    assert len(run["metrics"]["test"]["per_class_iou"]) == 8


def test_fcrn_table4_cpu_smoke(tmp_path, capsys):
    module = _load("fcrn/table4_bootstrapping.py")
    assert module.run(["--scale", "cpu", "--smoke", "--rows", "local 512/T, 200 train",
                       "--output-dir", str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "FCRN Table 4 (VOC 2012)" in out and "scale cpu (smoke)" in out
    import json

    results = json.loads((tmp_path / "results.json").read_text())
    (run,) = results["runs"]
    config = run["config"]
    assert config["dataset"] == "scenes_rare_classes" and config["loss"] == "ohem"
    assert config["ohem_min_kept"] == 32 and config["model_options"]["dropout"] is True
    assert config["loss_at_score_map"] is True
    assert config["model_options"]["num_dropout_blocks"] == 1
    assert len(run["metrics"]["test"]["per_class_iou"]) == 8
    # Dropout's pair trains on the smaller split where it can over-fit (smoke: 8 images).
    rows = {row.name: row for row in module.TABLES["voc"].rows_at("cpu")}
    assert [rows[name].train["num_train_images"] for name in module.DROPOUT_PAIR] == [200, 200]
    assert "num_train_images" not in rows["local 512/F"].train


@pytest.mark.slow
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
                                                                              512)
    assert config["loss_at_score_map"] is True
    assert config["model_options"]["dropout"] is True
    assert run["metrics"]["val"]["num_images"] == 2


@pytest.mark.slow  # about a minute on 2 busy cores: CI runs it (RUN_SLOW=1)
def test_segnext_ade20k_full_scale_smoke_on_a_tiny_archive(tmp_path, monkeypatch, capsys):
    """SegNeXt-T with the official ADE20K optimiser, 2 steps on a tiny
    ADEChallengeData2016.zip, evaluated on its 2 val images over the 150 classes."""
    import json

    from test_ade20k import SIZES, write_ade20k

    from keras_lk.data.builders import ade20k

    monkeypatch.setattr(ade20k.Ade20k, "EXPECTED_SPLIT_SIZES", SIZES)
    write_ade20k(tmp_path / "manual")
    module = _load("segnext/table_ade20k.py")
    assert module.main(module.TABLE, [
        "--smoke", "--output-dir", str(tmp_path / "runs"), "--data-dir", str(tmp_path / "data"),
        "--manual-dir", str(tmp_path / "manual"), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "README ADE20K" in out and "scale full (smoke)" in out and "SegNeXt-T" in out
    results = json.loads((tmp_path / "runs" / "results.json").read_text())
    (run,) = results["runs"]
    config = run["config"]
    assert (config["dataset"], config["model"], config["backbone"]) == ("ade20k", "segnext",
                                                                        "mscan_t")
    assert (config["optimizer"], config["learning_rate"], config["l2"]) == ("adamw", 6e-5, 0.01)
    assert (config["l2_on"], config["head_lr_multiplier"]) == ("segnext", 10.0)
    assert (config["poly_power"], config["warmup_steps"], config["warmup_factor"]) == (
        1.0, 1500, 1e-6)
    assert run["steps"] == 2 and run["metrics"]["val"]["num_images"] == 2
    assert len(run["metrics"]["val"]["per_class_iou"]) == 150
    assert results["rows"][0]["paper"] == {"miou": 41.1}


def test_recipe_help_describes_the_full_scale_run(capsys):
    module = _load("gcn/table1_kernel_size.py")
    with pytest.raises(SystemExit):
        module.main(module.TABLE, ["--help"])
    out = capsys.readouterr().out
    assert "full: VOC 2012 + SBD" in out and "ResNet-152" in out and "'k = 13'" in out


@pytest.mark.parametrize("paper", ["gcn", "gald", "fcrn", "segnext"])
def test_readme_tables_are_generated_from_the_results_files(paper):
    assert report.update_readme(os.path.join(RECIPES, paper), check=True), (
        f"run: python -m keras_lk.experiments.report recipes/{paper}")


@pytest.mark.slow
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


@pytest.mark.slow  # the smoke's plateau runs and two rows
def test_ld_initialization_smoke_trains_the_glorot_start(tmp_path, capsys):
    module = _load("gald/ld_initialization.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows",
                                      module.KERAS_START, module.BILINEAR, "--output-dir",
                                      str(tmp_path), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "with glorot's start: depth-wise > bilinear: " in out
    results = json.loads((tmp_path / "results.json").read_text())
    options = {run["row"]: run["config"]["model_options"] for run in results["runs"]}
    assert options[module.KERAS_START]["ld_initialization"] == "keras"
    assert "ld_initialization" not in options[module.BILINEAR]


@pytest.mark.slow  # the smoke's plateau runs, two rows and two ONNX exports
def test_large_kernel_kit_smoke_measures_what_each_head_costs_and_sees(tmp_path, capsys):
    import json

    module = _load("gcn/large_kernel_kit.py")
    assert module.main(module.TABLE, ["--scale", "cpu", "--smoke", "--rows", "base",
                                      "RepLK k = 15", "--output-dir", str(tmp_path),
                                      "--verbose", "0"], after=module.plot) == 0
    assert (tmp_path / "results.png").is_file()  # the figure, from the results file
    out = capsys.readouterr().out
    assert "GCN Large-kernel kit" in out and "RepLK k = 15 > base: " in out
    assert "VRF res-2 head (px)" in out and "ONNX latency (ms)" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["measured"][0] == ["vrf_res2_head", "VRF res-2 head (px)"]
    runs = {run["row"]: run for run in results["runs"]}
    base, replk = runs["base"]["measurements"], runs["RepLK k = 15"]["measurements"]
    for measurements in (base, replk):
        assert measurements["vrf_res2_head"] >= 1 and measurements["vrf_logits"] >= 1
        assert measurements["step_time_ms"] > 0 and measurements["step_time_steps"] == 30
        assert measurements["latency_ms"] > 0 and measurements["latency_runs"] == 50
        assert measurements["onnx_max_abs_logit_difference"] < 1e-3
    # The re-parameterised head is exported merged: fewer parameters than it trained.
    assert replk["deployed_params"] < runs["RepLK k = 15"]["params"]
    assert base["deployed_params"] == runs["base"]["params"]
    # The base run was the smoke plateau's: measured in its own folder (its log).
    assert runs["base"]["reused_from"] == "plateau_cpu.json"


@pytest.mark.slow  # five trainings and a CRF: CI runs it (RUN_SLOW=1)
def test_voc_stage3_trains_three_stages_each_from_the_last_on_tiny_archives(
        tmp_path, monkeypatch, capsys):
    """`python recipes/voc_stage3.py --stages 1,2,3 --smoke`: COCO + SBD + VOC, then SBD +
    VOC, then VOC, each stage from the previous stage's model; then stage 3 from a model
    given with --init-from, and the MS / MS-CRF rows test the stage-3 model."""
    import json

    from test_coco_voc import write_coco
    from test_voc_sbd import write_voc_sbd

    from keras_lk.data.builders import coco_voc, voc_sbd

    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    monkeypatch.setattr(coco_voc.CocoVoc, "EXPECTED_IMAGES", {"train": 4, "val": 2})
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    write_coco(manual)
    module = _load("voc_stage3.py")
    data = ["--data-dir", str(tmp_path / "data"), "--manual-dir", str(manual), "--verbose", "0"]
    runs = tmp_path / "runs"
    assert module.run(["--stages", "1,2,3", "--smoke", "--output-dir", str(runs), *data]) == 0
    results = json.loads((runs / "results.json").read_text())
    by_row = {run["row"]: run for run in results["runs"]}
    assert list(by_row) == ["Stage-1 GCN + BR", "Stage-2 GCN + BR", "Stage-3 GCN + BR",
                            "Stage-3-MS GCN + BR", "Stage-3-MS-CRF GCN + BR"]
    stage1, stage2, stage3 = (by_row[f"Stage-{s} GCN + BR"]["config"] for s in (1, 2, 3))
    assert (stage1["dataset"], stage1["init_from"]) == ("gcn_voc_stage1", None)
    assert stage2["dataset"] == "voc_sbd" and stage2["train_split"] == "train_aug"
    assert stage2["init_from"] == str(runs / "stage_1_gcn___br" / "seed_0" / "model.keras")
    assert stage3["train_split"] == "train" and stage3["freeze_batch_norm"] is True
    assert stage3["init_from"] == str(runs / "stage_2_gcn___br" / "seed_0" / "model.keras")
    crf_row = by_row["Stage-3-MS-CRF GCN + BR"]
    assert crf_row["reused_from"] == "this table's row 'Stage-3 GCN + BR'"
    assert crf_row["evaluation"]["crf"]["bilateral_sxy"] == 121.0
    assert crf_row["evaluation"]["flip"] is True
    assert "GCN Table 7" in capsys.readouterr().out

    again = tmp_path / "again"  # stage 3 alone, from a stage-2 model on disk
    assert module.run(["--head", "GCN + BR", "--smoke", "--output-dir", str(again),
                       "--init-from", str(runs / "stage_2_gcn___br" / "seed_0"), *data]) == 0
    (stage3,) = [run for run in json.loads((again / "results.json").read_text())["runs"]
                 if run["row"] == "Stage-3 GCN + BR"]
    assert stage3["config"]["init_from"] == str(runs / "stage_2_gcn___br" / "seed_0")
    with pytest.raises(SystemExit):  # no stage-2 model and no --init-from
        module.run(["--head", "GCN", "--smoke", "--output-dir", str(tmp_path / "none"), *data])
    assert "starts from row 'Stage-2 GCN'" in capsys.readouterr().err


@pytest.mark.slow  # two trainings on Cityscapes archives: CI runs it (RUN_SLOW=1)
def test_gcn_table9_fine_coarse_then_fine_on_tiny_cityscapes_archives(tmp_path, monkeypatch):
    import json

    from test_cityscapes import write_cityscapes

    from keras_lk.data.builders import cityscapes

    monkeypatch.setattr(cityscapes.CityscapesTrainIds, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_extra": 2})
    manual = tmp_path / "manual"
    write_cityscapes(manual, "gtFine", "leftImg8bit_trainvaltest.zip", "gtFine_trainvaltest.zip",
                     ["train", "val", "test"])
    write_cityscapes(manual, "gtCoarse", "leftImg8bit_trainextra.zip", "gtCoarse.zip",
                     ["train_extra"])
    module = _load("gcn/table9_cityscapes_stages.py")
    assert module.main(module.TABLE, [
        "--smoke", "--rows", "Stage-1", "Stage-2", "--output-dir", str(tmp_path / "runs"),
        "--data-dir", str(tmp_path / "data"), "--manual-dir", str(manual), "--verbose", "0"]) == 0
    runs = json.loads((tmp_path / "runs" / "results.json").read_text())["runs"]
    stage1, stage2 = (run["config"] for run in runs)
    assert stage1["dataset"] == "cityscapes_fine_coarse"
    assert stage2["dataset"] == "cityscapes_train_ids/fine" and stage2["init_from"].endswith(
        os.path.join("stage_1", "seed_0", "model.keras"))
    assert stage1["model_options"]["k"] == 3  # the smoke's; the full scale's is 25
    assert all(run["metrics"]["val"]["num_images"] == 2 for run in runs)
    assert module.TABLE.scales["full"].train["model_options"]["k"] == 25


@pytest.mark.parametrize(("relative", "benchmark"), [("gcn/table8_voc_test.py", "voc"),
                                                     ("gcn/table10_cityscapes_test.py",
                                                      "cityscapes")])
def test_test_server_recipes_write_the_submission_archive(relative, benchmark, tmp_path,
                                                          monkeypatch, capsys):
    import archives
    from test_cityscapes import FRAMES, write_cityscapes

    from keras_lk.evaluation import submission

    if benchmark == "voc":
        monkeypatch.setattr(submission, "VOC_TEST_IMAGES", 2)
        archives.write_voc_test(tmp_path)
    else:
        monkeypatch.setattr(submission, "CITYSCAPES_TEST_IMAGES", len(FRAMES["test"]))
        write_cityscapes(tmp_path, "gtFine", "leftImg8bit_trainvaltest.zip",
                         "gtFine_trainvaltest.zip", ["train", "val", "test"])
    module = _load(relative)
    output = tmp_path / ("out.tar.gz" if benchmark == "voc" else "out.zip")
    assert module.main(module.SUBMISSION, ["--manual-dir", str(tmp_path), "--smoke",
                                           "--output", str(output)]) == 0
    out = capsys.readouterr().out
    assert "Our approach" in out and f"Upload {output}" in out and output.is_file()
    assert module.SUBMISSION.evaluation.crf is not None and module.SUBMISSION.evaluation.flip
    with pytest.raises(SystemExit):
        module.main(module.SUBMISSION, ["--manual-dir", str(tmp_path),
                                        "--model", str(tmp_path / "missing.keras")])
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow  # ImageNet pretraining, then a VOC run: CI runs it (RUN_SLOW=1)
def test_gcn_table6_pretrains_then_fine_tunes_on_tiny_archives(tmp_path, monkeypatch, capsys):
    """ImageNet pretraining through TFDS imagenet2012, then a VOC row from its weights."""
    import json

    import archives
    from test_voc_sbd import write_voc_sbd

    from keras_lk.data.builders import voc_sbd

    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    archives.write_imagenet(manual)
    module = _load("gcn/table6_pretrained_backbone.py")
    runs = tmp_path / "runs"
    assert module.run(["--smoke", "--rows", "ResNet50-GCN Baseline", "--output-dir", str(runs),
                       "--data-dir", str(tmp_path / "data"), "--manual-dir", str(manual),
                       "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "ImageNet cls err (top-5, %): ResNet50-GCN paper 7.9, ours" in out
    imagenet = json.loads((runs / "imagenet" / "results.json").read_text())
    weights = imagenet["ours"]["ResNet50-GCN"]["backbone_weights"]
    assert weights == str(runs / "imagenet" / "backbone.weights.h5")
    (run,) = json.loads((runs / "results.json").read_text())["runs"]
    assert run["config"]["backbone_weights"] == weights
    assert run["config"]["model_options"]["head"] == "conv1x1"


# The recipes whose --smoke no test above runs: one row each, at full scale, on the tiny
# archives of their dataset.
FULL_SCALE_SMOKES = [
    ("gcn/table2_gcn_vs_kxk.py", None), ("gcn/table3_gcn_vs_stack.py", None),
    ("gcn/table4_stack_width.py", None), ("gald/table1a_ga_modules.py", None),
    ("gald/table1c_arrangements.py", None), ("gald/table1d_backbones.py", None),
    ("gald/table2_cityscapes_test.py", None), ("fcrn/table1_field_of_view.py", None),
    ("fcrn/table2_cityscapes_field_of_view.py", None), ("fcrn/table3_high_resolution.py", None),
    ("fcrn/table4_bootstrapping.py", "cityscapes"), ("fcrn/table5_table6_per_class.py", "voc"),
    ("fcrn/table5_table6_per_class.py", "cityscapes"), ("segnext/table_cityscapes.py", None),
]


@pytest.mark.slow  # about 20 s each: CI runs them (RUN_SLOW=1)
@pytest.mark.parametrize(("relative", "dataset"), FULL_SCALE_SMOKES)
def test_every_recipe_smokes_at_full_scale_on_tiny_archives(relative, dataset, tmp_path,
                                                            monkeypatch):
    import json

    from test_cityscapes import write_cityscapes
    from test_voc_sbd import write_voc_sbd

    from keras_lk.data.builders import cityscapes, voc_sbd

    monkeypatch.setattr(voc_sbd.VocSbd, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_aug": 6})
    monkeypatch.setattr(cityscapes.CityscapesTrainIds, "EXPECTED_SPLIT_SIZES",
                        {"train": 3, "val": 2, "train_extra": 2})
    manual = tmp_path / "manual"
    write_voc_sbd(manual)
    write_cityscapes(manual, "gtFine", "leftImg8bit_trainvaltest.zip", "gtFine_trainvaltest.zip",
                     ["train", "val", "test"])
    module = _load(relative)
    table = module.TABLES[dataset] if dataset else module.TABLE
    row = table.rows_at("full")[0].name
    argv = ["--smoke", "--rows", row, "--output-dir", str(tmp_path / "runs"),
            "--data-dir", str(tmp_path / "data"), "--manual-dir", str(manual), "--verbose", "0"]
    if dataset:
        assert module.run(["--dataset", dataset, *argv]) == 0
    else:
        assert module.main(table, argv, after=getattr(module, "print_test_resolutions",
                                                       None)) == 0
    (run,) = json.loads((tmp_path / "runs" / "results.json").read_text())["runs"]
    assert run["row"] == row and run["steps"] == 2
    assert run["config"]["dataset"] == table.scales["full"].train["dataset"]
