"""Mirrored (2 logical CPUs) and multi-worker (2 local processes) steps equal one device."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

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


def _far_off(weights, tolerance):
    """Weights whose difference between the two runs is not small beside their own change
    in the step (each weight against itself: a backbone kernel's update of 1e-5 is not
    hidden behind a BatchNorm variance's change of 2)."""
    off = {path: figures for path, figures in weights.items()
           if figures["diff"] > tolerance * figures["change"] + 1e-7}
    unchanged = [path for path, figures in weights.items() if figures["change"] == 0]
    return off, unchanged


@pytest.mark.slow
def test_mirrored_first_step_equals_one_device_float32():
    # SyncBN + the same global batch: only float summation order differs.
    figures = mirrored_vs_one_device("float32")
    assert figures["init_diff"] == 0.0
    off, unchanged = _far_off(figures["weights"], 1e-3)
    assert not off and not unchanged, (off, unchanged)


@pytest.mark.slow
def test_mirrored_first_step_equals_one_device_mixed_bfloat16():
    # bf16 compute rounds differently per replica split: 3 significant bits of 8 can move.
    figures = mirrored_vs_one_device("mixed_bfloat16")
    assert figures["init_diff"] == 0.0
    off, unchanged = _far_off(figures["weights"], 5e-2)
    assert not off and not unchanged, (off, unchanged)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_two_workers(args):
    """Starts `python ARGS(index)` as the 2 workers of a local cluster."""
    workers = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = dict(ENV, TF_CONFIG=json.dumps(tf_config), TF_NUM_INTRAOP_THREADS="1")
        processes.append(subprocess.Popen(
            [sys.executable, *args(index)], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        ))
    return processes


def finish(processes, returncode=0):
    """Waits for the workers; checks their exit status; returns their outputs."""
    try:
        outputs = [p.communicate(timeout=500)[0] for p in processes]
    finally:
        for p in processes:
            p.kill()
    for process, out in zip(processes, outputs):
        assert process.returncode == returncode, out[-3000:]
    return outputs


def run_two_workers(args):
    return finish(start_two_workers(args))


def cli_train(output_dir, *extra):
    """The 2-worker CLI command (a function of the worker index) for `start_two_workers`."""
    return lambda index: [
        "-m", "keras_lk.cli", "train", "--strategy", "multi_worker", "--backbone", "resnet18",
        "--model-option", "k=3", "--crop-size", "32", "--image-size", "48", "--num-train-images", "8",
        "--batch-size", "4", "--learning-rate", "0.001", "--verbose", "2",
        "--no-tensorboard", "--output-dir", str(output_dir), *extra,
    ]


def trainable_weights(path):
    import keras

    import keras_lk  # noqa: F401  (registers the custom objects for loading)

    model = keras.saving.load_model(path, safe_mode=True)
    return [(w.path, w.numpy()) for w in model.trainable_weights]


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
    changes = [float(np.abs(a - b).max()) for a, b in zip(one["after"], one["before"])]
    for index in range(2):
        worker = {when: step_weights(tmp_path / f"worker_{index}.npz", when)
                  for when in ("before", "after")}
        assert all(np.array_equal(a, b) for a, b in zip(worker["before"], one["before"]))
        diffs = [float(np.abs(a - b).max()) for a, b in zip(worker["after"], one["after"])]
        weights = {i: {"diff": d, "change": c} for i, (d, c) in enumerate(zip(diffs, changes))}
        off, unchanged = _far_off(weights, 1e-3)
        assert not off and not unchanged, (index, off, unchanged)


@pytest.mark.slow
def test_multi_worker_two_local_processes(tmp_path):
    run = tmp_path / "run"
    outputs = run_two_workers(cli_train(run, "--steps", "4", "--steps-per-epoch", "2"))
    for out in outputs:
        assert "trained to step 4" in out, out[-3000:]
    # Synchronous training: both workers hold the same trainable weights at the end (BN
    # moving statistics are each worker's own without --use-sync-bn).
    chief = trainable_weights(run / "model.keras")
    worker = trainable_weights(run / "worker_1" / "model.keras")
    for (name, a), (_, b) in zip(chief, worker):
        np.testing.assert_array_equal(a, b, err_msg=name)


def backed_up_epochs(run):
    epochs = []
    for path in (run / "backup", run / "worker_1" / "backup"):
        try:
            epochs.append(json.loads((path / "training_metadata.json").read_text())["epoch"])
        except (OSError, ValueError):  # not yet, or being written
            epochs.append(-1)
    return epochs


def kill_when_backed_up(processes, run, epoch, timeout=300):
    """Freezes both workers once both backed up `epoch` or later; kills them if their
    backups agree (else lets them run on and retries); returns the backed-up epoch."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if min(backed_up_epochs(run)) >= epoch:
            for p in processes:
                p.send_signal(signal.SIGSTOP)
            epochs = backed_up_epochs(run)
            if epochs[0] == epochs[1]:
                for p in processes:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                return epochs[0]
            for p in processes:
                p.send_signal(signal.SIGCONT)
        for p in processes:
            assert p.poll() is None, p.stdout.read()[-3000:]
        time.sleep(0.05)
    pytest.fail(f"no backup at epoch {epoch} within {timeout} s")


@pytest.mark.slow
def test_multi_worker_kill_and_resume(tmp_path):
    schedule = ("--steps", "12", "--steps-per-epoch", "2", "--seed", "3", "--deterministic")
    run_two_workers(cli_train(tmp_path / "reference", *schedule))

    victim = tmp_path / "victim"
    processes = start_two_workers(cli_train(victim, *schedule))
    epoch = kill_when_backed_up(processes, victim, epoch=2)
    assert not (victim / "model.keras").exists()

    # A worker that lost its backup must not resume out of sync with the other.
    lost = tmp_path / "lost"
    shutil.copytree(victim, lost)
    shutil.rmtree(lost / "worker_1" / "backup")
    for out in finish(start_two_workers(cli_train(lost, *schedule)), returncode=2):
        assert f"backups are at different epochs [0, {epoch}]" in out, out[-3000:]

    # Worker 1 killed before writing its last backup (as its previous one says): the
    # chief rolls back one epoch, both resume there, and the run ends as if never killed.
    backup = victim / "worker_1" / "backup"
    for name in ("latest.weights.h5", "training_metadata.json"):
        shutil.copyfile(backup / f"{name}.bkp", backup / name)
    outputs = run_two_workers(cli_train(victim, *schedule))
    assert "rolled back to its previous backup" in outputs[0], outputs[0][-3000:]
    for out in outputs:
        assert f"resuming from the backup at step {2 * (epoch - 1)}" in out, out[-3000:]
        assert "trained to step 12" in out, out[-3000:]
    reference = trainable_weights(tmp_path / "reference" / "model.keras")
    for path in (victim / "model.keras", victim / "worker_1" / "model.keras"):
        for (name, a), (_, b) in zip(trainable_weights(path), reference):
            np.testing.assert_array_equal(a, b, err_msg=f"{path}: {name}")


@pytest.mark.slow
def test_multi_worker_lost_worker_is_one_line_error(tmp_path):
    run = tmp_path / "run"
    chief, worker = start_two_workers(cli_train(run, "--steps", "400", "--steps-per-epoch", "2"))
    deadline = time.time() + 300
    while backed_up_epochs(run)[0] < 1:
        assert time.time() < deadline and chief.poll() is None, chief.stdout.read()[-3000:]
        time.sleep(0.05)
    worker.kill()
    worker.wait()
    out = chief.communicate(timeout=120)[0]  # the heartbeat check ends the chief's wait
    assert chief.returncode == 2, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("keras-lk: error:")]
    assert len(errors) == 1 and "a worker of the cluster is gone" in errors[0], out[-3000:]
    assert "Traceback" not in out
