"""Mirrored (2 logical CPUs) and multi-worker (2 local processes) steps equal one device."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", TF_NUM_INTEROP_THREADS="1")


CHECK = os.path.join(REPO, "tests", "training", "distribution_check.py")


def mirrored_vs_one_device(precision):
    result = subprocess.run(
        [sys.executable, CHECK, "mirrored", precision], check=False, env=ENV,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_mirrored_first_step_equals_one_device_float32():
    # SyncBN + the same global batch: only float summation order differs.
    figures = mirrored_vs_one_device("float32")
    assert figures["init_diff"] == 0.0
    assert figures["diff"] < 1e-4 * figures["change"], figures


@pytest.mark.slow
def test_mirrored_first_step_equals_one_device_mixed_bfloat16():
    # bf16 compute rounds differently per replica split: 3 significant bits of 8 can move.
    figures = mirrored_vs_one_device("mixed_bfloat16")
    assert figures["init_diff"] == 0.0
    assert figures["diff"] < 1e-2 * figures["change"], figures


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_workers(args):
    """Runs `python ARGS` as the 2 workers of a local cluster; returns their outputs."""
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(ENV, TF_CONFIG=json.dumps(tf_config), TF_NUM_INTRAOP_THREADS="1")
        processes.append(subprocess.Popen(
            [sys.executable, *args(index)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        ))
    try:
        outputs = [p.communicate(timeout=500)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    for process, out in zip(processes, outputs):
        assert process.returncode == 0, out[-3000:]
    return outputs


def step_weights(path, when):
    saved = np.load(path)
    return [saved[f"{when}_{i}"] for i in range(len(saved.files) // 2)]


@pytest.mark.slow
def test_multi_worker_first_step_equals_one_device(tmp_path):
    # Each worker must take its half of the global batch (auto-shard), SyncBN and the
    # gradient all-reduce must span both processes: then a step equals one device's.
    run_two_workers(lambda i: [CHECK, "multi_worker", str(tmp_path / f"worker_{i}.npz")])
    subprocess.run([sys.executable, CHECK, "default", str(tmp_path / "one.npz")], env=ENV,
                   check=True, capture_output=True, timeout=300)
    assert int(np.load(tmp_path / "worker_0.npz")["replicas"]) == 2
    one = {when: step_weights(tmp_path / "one.npz", when) for when in ("before", "after")}
    change = max(np.abs(a - b).max() for a, b in zip(one["after"], one["before"]))
    for index in range(2):
        worker = {when: step_weights(tmp_path / f"worker_{index}.npz", when)
                  for when in ("before", "after")}
        for when in ("before", "after"):
            diff = max(np.abs(a - b).max() for a, b in zip(worker[when], one[when]))
            assert diff < 1e-4 * change, (index, when, diff, change)


@pytest.mark.slow
def test_multi_worker_two_local_processes(tmp_path):
    import keras

    import keras_lk  # noqa: F401  (registers the custom objects for loading)

    run = tmp_path / "run"
    outputs = run_two_workers(lambda i: [
        "-m", "keras_lk.cli", "train", "--strategy", "multi_worker", "--backbone", "resnet18",
        "--k", "3", "--crop-size", "32", "--image-size", "48", "--num-train-images", "8",
        "--batch-size", "4", "--steps", "4", "--steps-per-epoch", "2",
        "--learning-rate", "0.001", "--verbose", "2", "--no-tensorboard",
        "--output-dir", str(run),
    ])
    for out in outputs:
        assert "trained to step 4" in out, out[-3000:]
    chief = keras.saving.load_model(run / "model.keras", safe_mode=True)
    worker = keras.saving.load_model(run / "worker_1" / "model.keras", safe_mode=True)
    # Synchronous training: both workers hold the same trainable weights at the end (BN
    # moving statistics are each worker's own without --use-sync-bn).
    for a, b in zip(chief.trainable_weights, worker.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
