"""The config → optimizer → schedule wiring, through `train()`: the learning rate applied
at every step (first, mid-run, last) equals the closed form of the configured schedule
and warm-up, and GCNSeg's head learning-rate multiplier reaches exactly the variables
that are not its backbone's."""

import keras
import numpy as np
import pytest

from keras_lk import backbones, models
from keras_lk.training import TrainConfig, train, trainer
from keras_lk.training.optimizers import make_optimizer

BASE = 0.01
STEPS, PER_EPOCH = 6, 2


class _RecordLearningRate(keras.callbacks.Callback):
    def __init__(self, record):
        super().__init__()
        self.record = record

    def on_train_batch_begin(self, batch, logs=None):
        self.record.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))


def _warmup(step, warmup_steps, factor=0.1):
    if step >= warmup_steps:
        return 1.0
    return factor + (1 - factor) * step / warmup_steps


CLOSED_FORMS = {
    "poly": lambda step: (1 - step / STEPS) ** 0.9,
    "step": lambda step: 0.1 ** (step // 4),  # step_size 4
    "constant": lambda step: 1.0,
}


@pytest.mark.parametrize("schedule, warmup_steps", [("poly", 2), ("step", 3), ("constant", 2)])
def test_the_rate_of_every_step_follows_the_configured_schedule(schedule, warmup_steps,
                                                                 tmp_path, monkeypatch):
    record = []
    make_callbacks = trainer.make_callbacks
    monkeypatch.setattr(trainer, "make_callbacks", lambda *args, **kwargs: [
        *make_callbacks(*args, **kwargs), _RecordLearningRate(record)])
    train(TrainConfig(output_dir=str(tmp_path), backbone="resnet10_narrow",
                      model_options={"k": 3, "boundary_refine": False}, crop_size=32,
                      batch_size=2, steps=STEPS, steps_per_epoch=PER_EPOCH,
                      learning_rate=BASE, schedule=schedule, step_size=4,
                      warmup_steps=warmup_steps, tensorboard=False, verbose=0))
    expected = [BASE * CLOSED_FORMS[schedule](step) * _warmup(step, warmup_steps)
                for step in range(STEPS)]
    np.testing.assert_allclose(record, expected, rtol=1e-5)


@pytest.mark.slow
def test_a_staged_run_restarts_its_schedule(tmp_path):
    """GCN's stages: a run started from another run's model (`init_from`) begins its own
    schedule at step 0, whatever the first run's optimizer had reached."""
    common = {"backbone": "resnet10_narrow", "model_options": {"k": 3, "boundary_refine": False},
              "crop_size": 32, "batch_size": 2, "steps": 2, "steps_per_epoch": 1,
              "learning_rate": BASE, "tensorboard": False, "verbose": 0}
    first = train(TrainConfig(output_dir=str(tmp_path / "stage1"), **common))
    second = train(TrainConfig(output_dir=str(tmp_path / "stage2"),
                               init_from=first.model_path, **common))
    assert second.initial_step == 0 and int(second.model.optimizer.iterations.numpy()) == 2


def test_the_head_multiplier_reaches_the_non_backbone_variables_of_gcn_seg():
    model = models.GCNSeg(num_classes=3, k=3, backbone="resnet10_narrow")
    backbone_paths = {w.path for w in backbones.get_backbone("resnet10_narrow").weights}
    optimizer = make_optimizer(TrainConfig(learning_rate=0.1, momentum=0.0, l2=0.0,
                                           schedule="constant", head_lr_multiplier=10.0))
    variables = model.trainable_variables
    before = [v.numpy() for v in variables]
    optimizer.apply([np.ones(v.shape, "float32") for v in variables], variables)
    head = []
    for variable, old in zip(variables, before):
        in_backbone = variable.path in backbone_paths
        factor = 1.0 if in_backbone else 10.0
        np.testing.assert_allclose(variable.numpy(), old - 0.1 * factor, rtol=1e-6,
                                   err_msg=variable.path)
        head += [] if in_backbone else [variable.path]
    assert len(head) < len(variables)
    assert any("gcn" in path for path in head) and any("refine" in path or "br" in path
                                                          for path in head), head
