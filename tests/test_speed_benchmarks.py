"""The GlobalConv and GCNSeg speed benchmarks run end to end at tiny size and report
the machine, the tuning and their headline ratios."""

import os
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
                     "--rounds", "2", "--tuning-file", str(tmp_path / "tuning.json"))
    assert "GlobalConv formulations (train, inference): res5_gcn " in out, out
    # Both models in each of the two alternating rounds, the ratio as their median.
    assert len(re.findall(r"^ +[12] (resnet50_1x1|gcn_seg) ", out, re.MULTILINE)) == 4, out
    assert re.search(r"train_flop_rate_ratio: [\d.]+ \(median of 2 rounds; "
                     r"range [\d.]+-[\d.]+\)", out), out


def test_gpu_check_says_it_skips_without_a_gpu():
    import tensorflow as tf

    out = run_script("benchmarks/gpu_check.py")
    if tf.config.list_physical_devices("GPU"):
        assert "passed, 0 failed" in out, out
    else:
        assert "no GPU on this machine: skipped" in out, out


@pytest.mark.slow
def test_gpu_check_smoke_runs_every_check_on_this_device():
    out = run_script("benchmarks/gpu_check.py", "--smoke")
    for check in ("| train gcn | mixed_float16, XLA off |", "| train gald | float32, XLA on |",
                  "| train fcrn | mixed_bfloat16, XLA off |", "| img/s gcn resnet10_narrow |",
                  "| img/s bare resnet10_narrow OS32 |", "| GlobalConv 8²×16 → 21, k 15 |"):
        assert check in out, out
    assert "22 passed, 0 failed" in out, out


def test_second_stage_benchmark_smoke():
    """The matmul form of GlobalConv's narrow second stage is checked against the stock
    convolution inside the benchmark, then both are timed."""
    out = run_script("benchmarks/second_stage.py", "--smoke")
    assert re.search(r"CPU: .+; float32 matmul peak \d+ GFLOP/s", out), out
    for size in ("4²×21", "8²×21"):
        assert re.search(rf"\| {size} \|( [\d.]+ \|){{6}}$", out, re.MULTILINE), out


@pytest.mark.slow
def test_suite_lanes_benchmark_smoke():
    """One run alone, then two side by side with one thread each, and their throughput."""
    out = run_script("benchmarks/suite_lanes.py", "--smoke", "--steps-per-epoch", "2",
                     "--epochs", "2")
    assert re.search(r"^\| 1 \| default \| [\d.]+ \| [\d.]+ \| 1.00 \|$", out, re.MULTILINE), out
    threads = max(1, (os.cpu_count() or 1) // 2)
    assert re.search(rf"^\| 2 side by side \| {threads} \| [\d.]+ / [\d.]+ \| [\d.]+ \| [\d.]+ \|$",
                     out, re.MULTILINE), out


@pytest.mark.slow
def test_cpu_scale_breakdown_benchmark_smoke():
    """Each part of a CPU-scale step, per row, and the differences between them."""
    out = run_script("benchmarks/cpu_scale_breakdown.py", "--smoke", "--steps", "2",
                     "--repeats", "1")
    assert ("| row | input | forward | train step | train step, no metric | fit | Keras MeanIoU "
            "| log-softmax loss |") in out, out
    for row in ("1×1 (base)", "GCN k = 15"):
        assert re.search(rf"^\| {re.escape(row)} (\| [\d.]+ ){{7}}(\| [+-][\d.]+ ){{3}}\|$",
                         out, re.MULTILINE), out
