import json

import numpy as np

from keras_lk import demo


def test_quick_demo_trains_both_heads_and_writes_its_outputs(tmp_path):
    results = demo.main(["--quick", "--output-dir", str(tmp_path)])
    assert [r["head"] for r in results] == ["conv1x1", "gcn"]
    for row in results:
        assert row["steps"] == demo.demo_settings(quick=True)[0]["steps"]
        for key in ("mean_iou", "boundary_accuracy", "internal_accuracy"):
            assert 0.0 <= row[key] <= 1.0 and np.isfinite(row[key])
    # The two runs differ only in the head: the GCN one has the GlobalConv weights.
    assert results[1]["params"] > results[0]["params"]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["results"][1]["paper_table5"] == {"boundary_acc": 71.5, "internal_acc": 95.0, "miou": 74.5}
    for name in ("predictions.png", "curves.png", "conv1x1/model.keras", "gcn/training_log.csv"):
        assert (tmp_path / name).is_file(), name


def test_verdict_reads_the_recipe_spread():
    spread = {"effect": 5.0, "std": 1.0, "n": 3, "verdict": "agrees"}
    assert "above twice its seed std" in demo.verdict(4.0, spread)
    noisy = {"effect": 1.0, "std": 3.0, "n": 3, "verdict": "inconclusive"}
    assert "does not show the paper's effect reliably" in demo.verdict(4.0, noisy)
    assert "no recipe results" in demo.verdict(4.0, None)
