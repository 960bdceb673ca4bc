"""Kill -9 a CLI training run mid-epoch, rerun the same command: it resumes from the
backup, the step counter continues, and the final weights equal an uninterrupted run.

Bound: backups are written at epoch ends (`--steps-per-epoch` steps, see
`keras_lk.training.callbacks`), so the rerun recomputes the < steps_per_epoch steps lost
since the last backup from the same seeded batches; with `--deterministic` on one CPU
thread the result is bitwise equal.
"""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMAND = ["--backbone", "resnet18", "--model-option", "k=3", "--crop-size", "32", "--image-size", "48",
           "--num-train-images", "8", "--batch-size", "2", "--learning-rate", "0.001",
           "--steps", "24", "--steps-per-epoch", "4", "--seed", "3", "--deterministic",
           "--verbose", "2", "--no-tensorboard"]


def start(output_dir):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3",
               TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "keras_lk.cli", "train", *COMMAND, "--output-dir",
         str(output_dir)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def weights(path):
    from keras_lk.models import load_model  # safe_mode=True, registers keras_lk's objects

    model = load_model(str(path))
    return model, [w.numpy() for w in model.weights]


@pytest.mark.slow
def test_kill_and_resume_equals_uninterrupted(tmp_path):
    reference = start(tmp_path / "reference")
    victim = start(tmp_path / "victim")
    metadata = tmp_path / "victim" / "backup" / "training_metadata.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if metadata.exists():
            try:
                if json.loads(metadata.read_text())["epoch"] >= 2:
                    break
            except ValueError:
                pass  # being written
        assert victim.poll() is None, victim.stdout.read()
        time.sleep(0.05)
    else:
        pytest.fail("no backup at epoch 2 within 240 s")
    time.sleep(0.2)  # into the next epoch
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "victim" / "model.keras").exists()
    backed_up = json.loads(metadata.read_text())["epoch"]
    with h5py.File(tmp_path / "victim" / "backup" / "latest.weights.h5") as f:
        assert "optimizer" in f  # momenta and the step counter are backed up too

    resumed = start(tmp_path / "victim")
    out, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, out[-3000:]
    assert f"resuming from the backup at step {4 * backed_up}" in out, out[-3000:]
    assert f"Epoch {backed_up + 1}/6" in out and "Epoch 1/6" not in out
    ref_out, _ = reference.communicate(timeout=300)
    assert reference.returncode == 0, ref_out[-3000:]

    model, resumed_weights = weights(tmp_path / "victim" / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 24
    _, reference_weights = weights(tmp_path / "reference" / "model.keras")
    for a, b in zip(resumed_weights, reference_weights):
        np.testing.assert_array_equal(a, b)
    log = (tmp_path / "victim" / "training_log.csv").read_text().splitlines()
    epochs = [int(line.split(",")[0]) for line in log[1:] if line[:1].isdigit()]
    assert epochs == list(range(6))  # the killed epoch is logged once, by the resumed run
