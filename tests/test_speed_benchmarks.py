"""The GlobalConv and GCNSeg speed benchmarks run end to end at tiny size and report
the machine, the tuning and their headline ratios."""

import re

import pytest

from tests.scripts import run_script


def test_global_conv_benchmark_smoke(tmp_path):
    tuning = tmp_path / "tuning.json"
    out = run_script("benchmarks/global_conv.py", "--smoke", "--tuning-file", str(tuning))
    assert re.search(r"\[tensorflow\] CPU .+", out), out
    assert "matmul peak" in out and "auto takes {'auto_train'" in out, out
    for shape in ("4²×32", "8²×16"):
        assert re.search(rf"{shape}: auto takes (conv|transpose|matmul) \([\d.]+× best; .*"
                         rf"untuned rule \((conv|transpose|matmul)\)", out), out
    assert tuning.exists()  # tuned into the file it was given
    assert "GlobalConv (auto) / stock Conv2D pair" in out


@pytest.mark.slow
def test_gcn_seg_benchmark_smoke(tmp_path):
    out = run_script("benchmarks/gcn_seg.py", "--size", "64", "--repeats", "1", "--warmup", "1",
               "--tuning-file", str(tmp_path / "tuning.json"))
    assert "GlobalConv formulations (train, inference): res5_gcn " in out, out
    assert re.search(r"train_flop_rate_ratio: [\d.]+", out), out
