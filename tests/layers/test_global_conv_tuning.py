"""GlobalConv's tuning: the fastest formulation measured on this machine, recorded in a
tuning file, read when a layer is traced; the rule where nothing was measured."""

import json

import keras
import numpy as np
import pytest

from keras_lk import models
from keras_lk.layers import GlobalConv, global_conv_tuning, tune_global_conv

SHAPE = (2, 8, 8, 16)


@pytest.fixture
def tuning_file(tmp_path, monkeypatch):
    path = tmp_path / "tuning.json"
    monkeypatch.setenv(global_conv_tuning.TUNING_FILE_ENV, str(path))
    return path


def _fake_times(order):
    """A `measure_formulations` whose timings rank the formulations as `order` says."""
    calls = []

    def measure(shape, filters, kernel_size, dtype, modes, repeats):
        calls.append(shape)
        return {mode: {name: 1.0 + order.index(name) for name in order} for mode in modes}

    return measure, calls


def test_a_recorded_formulation_wins_for_its_shape_dtype_and_mode_only(tuning_file):
    layer = GlobalConv(3, kernel_size=3)
    key = global_conv_tuning.tuning_key(SHAPE, 3, 3, "float32", "train")
    tuning_file.write_text(json.dumps({"version": 1, "entries": {
        key: {"implementation": "conv", "milliseconds": {}, "measured": "2026-12-06"}}}))
    rule = global_conv_tuning.rule_implementation(*SHAPE[1:])
    assert rule != "conv"
    assert layer._resolve_implementation(keras.KerasTensor(SHAPE), training=True) == "conv"
    assert layer._resolve_implementation(keras.KerasTensor(SHAPE), training=False) == rule
    other = (2, 8, 8, 32)
    assert layer._resolve_implementation(keras.KerasTensor(other), training=True) == rule


def test_the_tuner_records_the_fastest_of_each_call_once(tuning_file, monkeypatch):
    model = models.GCNSeg(num_classes=3, k=5, backbone="resnet10_narrow",
                          boundary_refine=False)
    measure, calls = _fake_times(["matmul", "conv", "transpose"])
    monkeypatch.setattr(global_conv_tuning, "measure_formulations", measure)
    rows = tune_global_conv(model, (64, 64), batch_size=2, modes=("train",))
    found = global_conv_tuning.global_conv_calls(model, (64, 64), 2)
    shapes = [shape for _, shape in found]
    assert len(shapes) == 4 and (2, 2, 2, shapes[0][-1]) in shapes  # res-5 at 64 / 32
    assert calls == shapes and len(rows) == 4
    entries = json.loads(tuning_file.read_text())["entries"]
    assert {entry["implementation"] for entry in entries.values()} == {"matmul"}
    for layer, shape in found:
        assert layer._resolve_implementation(keras.KerasTensor(shape), training=True) == "matmul"
    assert tune_global_conv(model, (64, 64), batch_size=2, modes=("train",)) == []
    assert len(calls) == 4  # known shapes are not measured again
    tune_global_conv(model, (64, 64), batch_size=2, modes=("train",), retune=True)
    assert len(calls) == 8


def test_measured_times_are_positive_and_tuning_keeps_the_random_stream(tuning_file):
    times = global_conv_tuning.measure_formulations(SHAPE, 3, 3, "float32", ("train", "infer"),
                                                    repeats=1)
    assert set(times) == {"train", "infer"}
    assert all(set(t) == set(global_conv_tuning.FORMULATIONS) and min(t.values()) > 0
               for t in times.values())
    keras.utils.set_random_seed(0)
    expected = keras.ops.convert_to_numpy(keras.random.uniform((4,)))
    keras.utils.set_random_seed(0)
    global_conv_tuning.measure_formulations(SHAPE, 3, 3, "mixed_float16", ("infer",), 1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras.random.uniform((4,))),
                                  expected)


def test_a_damaged_tuning_file_is_named_in_the_error(tuning_file):
    tuning_file.write_text("{not json")
    layer = GlobalConv(3, kernel_size=3)
    with pytest.raises(ValueError, match="tuning.json.*delete it"):
        layer._resolve_implementation(keras.KerasTensor(SHAPE), training=True)
    tuning_file.write_text(json.dumps({"version": 1, "entries": {"k": {"implementation": "x"}}}))
    with pytest.raises(ValueError, match="implementation 'x'"):
        layer._resolve_implementation(keras.KerasTensor(SHAPE), training=True)


def test_train_tunes_the_run_shapes_when_enabled(tuning_file, monkeypatch, tmp_path):
    from keras_lk.training import TrainConfig, train

    monkeypatch.setenv(global_conv_tuning.TUNE_ENV, "1")
    measure, calls = _fake_times(["conv", "matmul", "transpose"])
    monkeypatch.setattr(global_conv_tuning, "measure_formulations", measure)
    train(TrainConfig(output_dir=str(tmp_path / "run"), backbone="resnet10_narrow",
                      model_options={"k": 3, "boundary_refine": False}, crop_size=32,
                      batch_size=2, steps=1, steps_per_epoch=1, tensorboard=False,
                      verbose=0))
    assert len(calls) == 4 and all(shape[0] == 2 for shape in calls)
    entries = json.loads(tuning_file.read_text())["entries"]
    assert all(" | train | 2x" in key for key in entries)


def test_a_near_tie_keeps_the_rule_so_choices_do_not_flip_with_noise():
    choose = global_conv_tuning.chosen_formulation
    assert choose({"conv": 9.5, "transpose": 10.0, "matmul": 30.0}, "transpose") == "transpose"
    assert choose({"conv": 8.9, "transpose": 10.0, "matmul": 30.0}, "transpose") == "conv"
    assert choose({"conv": 12.0, "transpose": 10.0, "matmul": 30.0}, "transpose") == "transpose"


def test_a_thread_cap_is_a_device_of_its_own(monkeypatch):
    """A formulation timed on every core is not taken for a process capped at one thread
    (`recipes/cpu_suite.py --lanes`), nor the other way round."""
    from keras_lk.layers.global_conv_choice import device_signature

    # Read once per process (TensorFlow reads the variable at its start): clear the cache
    # for each environment here, and after the test.
    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    device_signature.cache_clear()
    all_cores = global_conv_tuning.tuning_key(SHAPE, 3, 3, "float32", "train")
    assert "threads" not in device_signature()
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    device_signature.cache_clear()
    try:
        assert device_signature().endswith(", 1 thread")
        assert global_conv_tuning.tuning_key(SHAPE, 3, 3, "float32", "train") != all_cores
    finally:
        device_signature.cache_clear()
