"""A backup is resumed from only if it is intact and was written by the same
configuration (issue 10 cases 1-5): a deleted, truncated or bit-flipped file falls back
to the previous backup, a changed configuration is refused by name, the final model is
saved atomically before the backup is removed."""

import csv
import json
import os
import shutil

import pytest

from keras_lk.training import TrainConfig, train
from keras_lk.training import trainer as trainer_module
from keras_lk.training.callbacks import (
    BACKUP_WEIGHTS,
    INTEGRITY,
    TRAINING_LOG,
    logged_training_seconds,
)


def _config(output_dir, **changes):
    values = {"output_dir": str(output_dir), "model": "gcn", "backbone": "resnet10_local",
                  "model_options": {"k": 3, "boundary_refine": False}, "crop_size": 32,
                  "image_size": 32, "num_train_images": 4, "batch_size": 2, "steps": 4,
                  "steps_per_epoch": 2, "tensorboard": False, "verbose": 0, "learning_rate": 1e-3}
    values.update(changes)
    return TrainConfig(**values)


@pytest.fixture(scope="module")
def _kept_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("kept")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer_module.shutil, "rmtree", lambda *a, **k: None)
        train(_config(run))
    return run


@pytest.fixture
def kept_backup(_kept_run, tmp_path):
    """A finished run whose backup was kept (as if killed right after the final save):
    latest = epoch 2, previous (.bkp) = epoch 1. A private copy per test."""
    run = tmp_path / "run"
    shutil.copytree(_kept_run, run)
    assert json.loads((run / "backup" / INTEGRITY).read_text())["epoch"] == 2
    # The configs name their output directory: point this copy's at itself.
    config = json.loads((run / "config.json").read_text())
    config["output_dir"] = str(run)
    (run / "config.json").write_text(json.dumps(config))
    return run


def _logged_step_times(run):
    with open(run / TRAINING_LOG, newline="") as f:
        return [float(row["step_time"]) for row in csv.DictReader(f)]


def _damage(path, how):
    if how == "deleted":
        os.remove(path)
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:  # one flipped bit in the middle of the weights
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["deleted", "truncated", "bit-flipped"])
def test_a_damaged_backup_falls_back_to_the_previous_one(kept_backup, how):
    _damage(kept_backup / "backup" / BACKUP_WEIGHTS, how)
    first_epoch = _logged_step_times(kept_backup)[0]
    with pytest.warns(UserWarning, match="resuming from the previous one, epoch 1"):
        result = train(_config(kept_backup))
    assert result.initial_step == 2 and result.step == 4
    # The one epoch kept from the first call counts: its 2 steps at its logged step time.
    assert result.resumed_seconds == pytest.approx(2 * first_epoch)
    assert not (kept_backup / "backup").exists()  # removed after the final save


def test_no_intact_backup_is_an_error(kept_backup):
    for suffix in ("", ".bkp"):
        _damage(kept_backup / "backup" / (BACKUP_WEIGHTS + suffix), "truncated")
    with pytest.raises(ValueError, match="is damaged .* no intact previous backup"):
        train(_config(kept_backup))


def test_a_changed_configuration_is_refused_by_name(kept_backup):
    before = (kept_backup / "config.json").read_text()
    with pytest.raises(ValueError, match=r"learning_rate: 0\.001 → 0\.002.*steps: 4 → 6"):
        train(_config(kept_backup, learning_rate=2e-3, steps=6))
    assert (kept_backup / "config.json").read_text() == before  # a refused run writes nothing
    result = train(_config(kept_backup, learning_rate=2e-3, steps=6), allow_config_change=True)
    assert result.initial_step == 4 and result.step == 6
    assert json.loads((kept_backup / "config.json").read_text())["steps"] == 6


def test_the_final_model_is_saved_atomically_and_then_the_backup_removed(tmp_path):
    result = train(_config(tmp_path))
    assert result.initial_step == 0 and result.resumed_seconds == 0.0
    assert os.path.getsize(result.model_path) > 0
    assert sorted(os.listdir(tmp_path)) == ["config.json", "model.keras", "training_log.csv"]


def test_a_kill_during_the_final_save_resumes_to_a_complete_model(tmp_path, monkeypatch):
    import keras

    real_save = keras.Model.save

    def killed_while_saving(model, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half a file")  # what a kill -9 mid-write leaves
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr(keras.Model, "save", killed_while_saving)
    with pytest.raises(KeyboardInterrupt):
        train(_config(tmp_path))
    monkeypatch.setattr(keras.Model, "save", real_save)
    assert not (tmp_path / "model.keras").exists()  # no partial final model
    assert (tmp_path / "backup" / BACKUP_WEIGHTS).exists()  # the backup is still there

    step_times = _logged_step_times(tmp_path)
    result = train(_config(tmp_path))
    assert result.initial_step == 4 and result.step == 4  # nothing trained twice
    assert result.resumed_seconds == pytest.approx(2 * sum(step_times))
    assert len(step_times) == 2 and min(step_times) > 0
    model = keras.saving.load_model(result.model_path, safe_mode=True)
    assert model.num_classes == result.model.num_classes
    log = (tmp_path / "training_log.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["0", "1"]  # each epoch once


def test_logged_training_seconds_counts_the_kept_epochs_with_a_known_step_time(tmp_path):
    (tmp_path / TRAINING_LOG).write_text(
        "epoch,loss,step_time\n0,1.0,0.5\n1,0.9,NA\n2,0.8,nan\n3,0.7,0.25\n4,0.6,9.0\n5\n")
    assert logged_training_seconds(tmp_path, 4, 10) == pytest.approx(10 * (0.5 + 0.25))
    assert logged_training_seconds(tmp_path, 9, 10) == pytest.approx(10 * (0.5 + 0.25 + 9.0))
    assert logged_training_seconds(tmp_path, 0, 10) == 0.0
    assert logged_training_seconds(tmp_path / "elsewhere", 3, 10) == 0.0
