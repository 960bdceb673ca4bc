"""The branches of strategy and precision selection that CPU runs never take (GPUs, TPUs),
with TensorFlow's device queries replaced; and the training paths this suite had not run:
`train(strategy="mirrored")` for GALD with OHEM and SyncBN, and `jit_compile=True`."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_lk.training import TrainConfig, make_strategy, precision, resolve_precision, train

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fake_devices(monkeypatch, gpus=(), tpus=(), capability=(8, 0)):
    physical = {"GPU": [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU")
                        for i in range(len(gpus))]}
    real_physical = tf.config.list_physical_devices
    real_logical = tf.config.list_logical_devices
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: physical["GPU"] if kind == "GPU" else real_physical(kind))
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: list(tpus) if kind == "TPU" else real_logical(kind))
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"compute_capability": capability,
                                        "device_name": "Fake GPU"})


@pytest.mark.parametrize("gpus, tpus, capability, expected", [
    ((), ("tpu",), (0, 0), "mixed_bfloat16"),   # TPUs compute in bfloat16
    (("gpu",), (), (8, 0), "mixed_bfloat16"),   # Ampere and later
    (("gpu",), (), (7, 5), "mixed_float16"),    # Turing, Volta: float16 tensor cores
])
def test_auto_precision_on_accelerators(monkeypatch, gpus, tpus, capability, expected):
    _fake_devices(monkeypatch, gpus, tpus, capability)
    assert resolve_precision("auto") == expected


def test_auto_precision_on_cpus_follows_their_bfloat16_support(monkeypatch):
    _fake_devices(monkeypatch)
    for has_bf16, expected in ((True, "mixed_bfloat16"), (False, "float32")):
        monkeypatch.setattr(precision, "_cpu_has_bfloat16", lambda has_bf16=has_bf16: has_bf16)
        assert resolve_precision("auto") == expected


def test_mirrored_takes_every_local_gpu_and_ignores_cpu_devices(monkeypatch):
    _fake_devices(monkeypatch, gpus=("gpu", "gpu"))
    made = []
    monkeypatch.setattr(tf.distribute, "MirroredStrategy",
                        lambda devices=None: made.append(devices) or "strategy")
    assert make_strategy("mirrored", num_cpu_devices=2) == "strategy"
    assert made == [None]  # all GPUs, as MirroredStrategy() finds them


def test_tpu_strategy_without_a_tpu_is_a_one_line_error():
    with pytest.raises(ValueError, match="found no TPU"):
        make_strategy("tpu")


MIRRORED_GALD = """
import json, sys
import numpy as np
from keras_lk.training import TrainConfig, train
config = TrainConfig(output_dir=sys.argv[1], model="gald", backbone="resnet10_narrow",
                     model_options={"head_channels": 16}, crop_size=32, image_size=48,
                     num_train_images=8, batch_size=4, steps=2, steps_per_epoch=1,
                     loss="ohem", ohem_min_kept=64, use_sync_bn=True, strategy="mirrored",
                     num_cpu_devices=2, tensorboard=False, verbose=0)
result = train(config)
model = result.model
sync = [l.name for l in model._flatten_layers() if getattr(l, "synchronized", False)]
print(json.dumps({"replicas": model.distribute_strategy.num_replicas_in_sync,
                  "optimizer_steps": result.optimizer_steps, "loss": result.history["loss"],
                  "sync_bn": len(sync), "finite": bool(all(np.isfinite(w.numpy()).all()
                                                           for w in model.weights))}))
"""


@pytest.mark.slow
def test_train_mirrored_gald_with_ohem_and_sync_bn(tmp_path):
    result = subprocess.run([sys.executable, "-c", MIRRORED_GALD, str(tmp_path / "run")],
                            env=dict(os.environ, PYTHONPATH=REPO), capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["replicas"] == 2 and figures["optimizer_steps"] == 2, figures
    assert figures["sync_bn"] > 0 and figures["finite"], figures
    assert all(np.isfinite(figures["loss"])), figures
    assert (tmp_path / "run" / "model.keras").exists()


def test_train_with_jit_compile(tmp_path):
    config = TrainConfig(output_dir=str(tmp_path), backbone="resnet10_narrow",
                         model_options={"k": 3, "boundary_refine": False}, crop_size=32,
                         batch_size=2, steps=2, steps_per_epoch=1, jit_compile=True,
                         tensorboard=False, verbose=0)
    result = train(config)
    assert result.optimizer_steps == 2 and np.isfinite(result.history["loss"]).all()
    assert result.model.jit_compile is True
