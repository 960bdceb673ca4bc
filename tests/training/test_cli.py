"""The keras-lk CLI: train → evaluate → predict, safe_mode loading, one-line errors."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from keras_lk import cli

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--backbone", "resnet18", "--model-option", "k=3", "--crop-size", "32", "--image-size", "48",
        "--num-train-images", "8", "--batch-size", "2", "--learning-rate", "0.001",
        "--verbose", "0", "--no-tensorboard"]


def run_cli(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    return subprocess.run([sys.executable, "-m", "keras_lk.cli", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result, pattern):
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "keras-lk: error:" in line]
    assert len(errors) == 1 and pattern in errors[0], result.stderr[-2000:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    status = cli.main(["train", *TINY, "--steps", "4", "--steps-per-epoch", "2",
                       "--checkpoint-every", "2", "--output-dir", str(out)])
    assert status == 0
    keras.mixed_precision.set_global_policy("float32")
    return out


def test_train_writes_loadable_models_and_logs(trained):
    for path in ["model.keras", "checkpoints/step_000002.keras",
                 "checkpoints/step_000004.keras"]:
        model = keras.saving.load_model(trained / path, safe_mode=True)
        assert model.output_shape[-1] == 6
    final = keras.saving.load_model(trained / "model.keras", safe_mode=True)
    assert int(final.optimizer.iterations.numpy()) == 4
    assert type(final.optimizer).__name__ == "SegmentationSGD"
    log = (trained / "training_log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,") and "miou" in log[0] and len(log) == 3
    assert not (trained / "backup").exists()  # deleted after a completed run


def test_evaluate_and_predict(trained, tmp_path, capsys):
    metrics_path = tmp_path / "metrics.json"
    status = cli.main(["evaluate", "--model-path", str(trained / "model.keras"),
                       "--num-images", "3", "--image-size", "48",
                       "--output", str(metrics_path)])
    assert status == 0

    metrics = json.loads(metrics_path.read_text())
    assert 0 <= metrics["miou"] <= 1 and len(metrics["per_class_iou"]) == 6
    assert 0 <= metrics["boundary_accuracy"] <= 1 and 0 <= metrics["internal_accuracy"] <= 1
    image = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "a.png")
    status = cli.main(["predict", "--model-path", str(trained / "model.keras"),
                       "--input", str(tmp_path / "a.png"), "--output-dir",
                       str(tmp_path / "out")])
    assert status == 0
    mask = Image.open(tmp_path / "out" / "a.png")
    assert mask.mode == "P" and mask.size == (50, 40)
    assert np.asarray(mask).max() < 6


def test_corrupt_checkpoint_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"not a zip file")
    assert cli.main(["evaluate", "--model-path", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "keras-lk: error: cannot load model" in err and "Traceback" not in err


def test_missing_data_dir_is_one_line_error(tmp_path, capsys):
    status = cli.main(["train", "--dataset", "voc_sbd", "--data-dir",
                       str(tmp_path / "nope"), "--output-dir", str(tmp_path / "run")])
    assert status == 2
    err = capsys.readouterr().err
    assert "keras-lk: error:" in err and "does not exist" in err


def test_unknown_dataset_lists_valid_names():
    result = run_cli("evaluate", "--model-path", "x.keras", "--dataset", "imagenet")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "invalid choice: 'imagenet'" in result.stderr and "voc_sbd" in result.stderr


@pytest.mark.slow
def test_labels_out_of_range_is_one_line_error(tmp_path):
    result = run_cli("train", *TINY, "--num-classes", "3", "--steps", "2",
                     "--steps-per-epoch", "2", "--output-dir", str(tmp_path))
    assert_one_line_error(result, "has mask labels outside [0, 3)")


def test_help_documents_every_train_flag():
    text = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for flag in ("--strategy", "--precision", "--seed", "--deterministic", "--head-lr-multiplier",
                 "--model-option", "--backbone-weights", "ga (default", "dilation (default",
                 "--warmup-steps", "--checkpoint-every", "--jit-compile"):
        assert flag in text


def test_op_errors_shown_without_graph_frames():
    import tensorflow as tf

    @tf.function
    def check(x):
        return tf.debugging.check_numerics(x, "bad value")

    with pytest.raises(tf.errors.InvalidArgumentError) as caught:
        check(tf.constant([float("nan")]))
    assert caught.value.message.startswith("Graph execution error")
    assert cli._one_line(caught.value) == "bad value : Tensor had NaN values"

    # What MultiWorkerMirroredStrategy raises on the survivors when a worker dies.
    message = (
        "{{function_node __wrapped__CollectiveReduceV2_device_/job:worker/replica:0/task:0/"
        "device:CPU:0}} Collective ops is aborted by: The following tasks are unhealthy "
        "(stopped sending heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have "
        "crashed. [Op:CollectiveReduceV2] name: "
    )
    line = cli._one_line(tf.errors.UnavailableError(None, None, message))
    assert line.startswith("a worker of the cluster is gone: Collective ops is aborted")
    assert "/job:worker/replica:0/task:1 Restart every worker" in line
    assert "function_node" not in line


SMALL = ["--backbone", "resnet10_narrow", "--crop-size", "32", "--image-size", "32",
         "--num-train-images", "4", "--batch-size", "2", "--steps", "2",
         "--steps-per-epoch", "2", "--verbose", "0", "--no-tensorboard"]


@pytest.mark.parametrize("model, options, expected", [
    ("gald", ["ga=cgnl", "arrangement=gald", "head_channels=16"],
     {"ga": "cgnl", "arrangement": "gald", "head_channels": 16}),
    ("gald", ["ga=none", "ld=false", "aux_loss_weight=0.25", "head_channels=8"],
     {"ga": None, "ld": False, "aux_loss_weight": 0.25}),
    ("fcrn", ["dilation=12", "kernel_size=3"], {"dilation": 12, "kernel_size": 3}),
])
def test_every_family_trains_through_the_cli_and_evaluates_without_flags(
        model, options, expected, tmp_path, capsys):
    out = tmp_path / "run"
    flags = [arg for option in options for arg in ("--model-option", option)]
    assert cli.main(["train", *SMALL, "--model", model, *flags, "--output-dir", str(out)]) == 0
    keras.mixed_precision.set_global_policy("float32")
    saved = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert {key: getattr(saved, key) for key in expected} == expected
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == model and config["model_options"] == {
        k: v for k, v in (cli.parse_option(o, saved.get_config()) for o in options)}
    # Classes, ignore label and normalization come from the model.
    assert cli.main(["evaluate", "--model-path", str(out / "model.keras"),
                     "--num-images", "2", "--image-size", "32"]) == 0
    assert "mIoU" in capsys.readouterr().out


def test_train_from_backbone_weights_file(tmp_path):
    from keras_lk import backbones

    keras.utils.set_random_seed(123)
    backbone = backbones.ResNet10Narrow()
    path = tmp_path / "backbone.weights.h5"
    backbone.save_weights(path)
    out = tmp_path / "run"
    # A learning rate too small to move the weights visibly: the trained model must
    # still hold the file's weights, not a fresh random initialisation.
    assert cli.main(["train", *SMALL, "--model-option", "k=3", "--learning-rate", "1e-12",
                     "--backbone-weights", str(path), "--output-dir", str(out)]) == 0
    keras.mixed_precision.set_global_policy("float32")
    trained = keras.saving.load_model(out / "model.keras", safe_mode=True)
    np.testing.assert_allclose(trained.get_layer("conv1_conv").kernel.numpy(),
                               backbone.get_layer("conv1_conv").kernel.numpy(), atol=1e-6)
    assert trained.get_config()["backbone_weights"] is None  # in the file, not the config


def test_bad_model_options_are_one_line_errors(tmp_path, capsys):
    for options, message in [(["k=3"], "unknown option(s) ['k'] of model 'gald'"),
                             (["ld=maybe"], "`--model-option ld` must be a bool"),
                             (["ga"], "`--model-option` must be KEY=VALUE")]:
        flags = [arg for option in options for arg in ("--model-option", option)]
        assert cli.main(["train", *SMALL, "--model", "gald", *flags,
                         "--output-dir", str(tmp_path)]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "config.json").exists()


def test_evaluate_refuses_a_model_without_keras_lk_settings(tmp_path, capsys):
    inputs = keras.Input((None, None, 3))
    keras.Model(inputs, keras.layers.Conv2D(6, 1)(inputs)).save(tmp_path / "plain.keras")
    assert cli.main(["evaluate", "--model-path", str(tmp_path / "plain.keras")]) == 2
    assert "not a keras_lk segmentation model" in capsys.readouterr().err


def test_predict_refuses_inputs_that_would_overwrite_or_clip(trained, tmp_path, capsys):
    model = str(trained / "model.keras")
    image = np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "x.png")
    Image.fromarray(image).save(tmp_path / "x.jpg")
    assert cli.main(["predict", "--model-path", model, "--input", str(tmp_path),
                     "--output-dir", str(tmp_path / "out")]) == 2
    assert "two images named 'x'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((20, 24), 40000, np.uint16)).save(deep)
    assert Image.open(deep).mode.startswith("I")
    assert cli.main(["predict", "--model-path", model, "--input", str(deep),
                     "--output-dir", str(tmp_path / "out")]) == 2
    assert "16-bit or float pixels" in capsys.readouterr().err

    assert cli.main(["predict", "--model-path", str(trained), "--input", str(deep),
                     "--output-dir", str(tmp_path / "out")]) == 2
    assert "is a directory; expected a .keras file" in capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [
    (["--num-train-images", "0"], "`num_train_images` must be None or an integer ≥ 1"),
    (["--num-classes", "0"], "`num_classes` must be None or an integer ≥ 1"),
])
def test_zero_images_or_classes_are_refused(flags, message, tmp_path, capsys):
    assert cli.main(["train", *SMALL, *flags, "--output-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
