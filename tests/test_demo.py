import json
import pathlib
import re

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


def test_verdict_says_what_the_recipe_found_in_plain_words():
    agrees = {"effect": 5.0, "std": 1.0, "n": 5, "low": 3.8, "high": 6.2, "verdict": "agrees"}
    line = demo.verdict(4.0, agrees)
    assert "+5.0 points" in line and "[+3.8, +6.2]" in line and "as the paper says" in line
    assert line.endswith("This run's gain: +4.0.")
    assert demo.verdict(4.0, agrees, paper_gain=5.5) == line  # 5.5 is inside the interval
    smaller = demo.verdict(1.5, {**agrees, "effect": 1.0, "low": 0.3, "high": 1.7}, 5.5)
    assert "better, as the paper says, by less than the paper's +5.5 on VOC." in smaller
    noisy = {"effect": 1.0, "std": 3.0, "n": 5, "low": -2.7, "high": 4.7,
             "verdict": "inconclusive"}
    assert "too small to tell apart" in demo.verdict(4.0, noisy)
    worse = {**agrees, "effect": -5.0, "low": -6.2, "high": -3.8, "verdict": "disagrees"}
    assert "worse here, against the paper" in demo.verdict(4.0, worse)
    untestable = {**noisy, "verdict": "not testable here",
                  "untestable": "needs plateau reached by every run of k = 15, base, but ..."}
    assert ("too early to judge the paper's claim on these scenes: the claim needs plateau "
            "reached" in demo.verdict(4.0, untestable))
    assert "no recipe results" in demo.verdict(4.0, None)


def test_demo_trains_for_the_plateau_budget(tmp_path, monkeypatch):
    path = tmp_path / "plateau_cpu.json"
    path.write_text('{"decision": {"steps": 1600, "reached": true}}')
    monkeypatch.setattr(demo, "PLATEAU", str(path))
    train, images = demo.demo_settings(quick=False)
    assert train["steps"] == 1600 and 1600 % train["steps_per_epoch"] == 0
    assert train["backbone_weights"] == "scenes" and images == 1000
    # The recipe's configuration, packaged weights named by content included.
    from keras_lk.backbones import weights_file_sha256

    assert train["backbone_weights_sha256"] == weights_file_sha256("resnet10_local", "scenes")


def test_the_readme_quotes_the_committed_recipe_interval():
    """The top README's sentence on what the demo prints is checked against the results
    file it reads (`recipe_spread`), so it cannot go stale silently."""
    readme = pathlib.Path(__file__).parents[1].joinpath("README.md").read_text()
    found = re.search(r"over (\d+) seeds k = 15 beats the 1×1 head by ([+-][\d.]+) points on "
                      r"test, 95 % interval\s+\[([+-][\d.]+), ([+-][\d.]+)\]", readme)
    assert found, "README.md no longer quotes the demo's recipe interval"
    spread = demo.recipe_spread()
    assert spread["verdict"] == "agrees"  # the sentence says "beats"
    assert found.groups() == (str(spread["n"]), f"{spread['effect']:+.1f}",
                              f"{spread['low']:+.1f}", f"{spread['high']:+.1f}")
