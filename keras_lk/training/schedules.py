"""Learning-rate schedules of the papers: "poly", step decay and constant, with linear
warm-up.

- poly (DeepLab; GALD, FCRN): lr = base · (1 − step / decay_steps)^power, power 0.9.
- step: lr = base · gamma^(step // step_size) (GCN's Caffe "step" policy).
- warm-up: the first `warmup_steps` steps ramp linearly from `base · warmup_factor`
  to the scheduled value.

All are `keras.optimizers.schedules.LearningRateSchedule`s registered with Keras, so a
compiled model saved as `.keras` reloads with `safe_mode=True`.
"""

from __future__ import annotations

import keras
from keras import ops


def _warmup(lr, step, warmup_steps, warmup_factor):
    if not warmup_steps:
        return lr
    fraction = ops.minimum(step / float(warmup_steps), 1.0)
    factor = warmup_factor + (1.0 - warmup_factor) * fraction
    return ops.where(step < warmup_steps, lr * factor, lr)


def _check(initial_learning_rate, warmup_steps, warmup_factor):
    if not initial_learning_rate > 0:
        raise ValueError(
            f"`initial_learning_rate` must be > 0, received {initial_learning_rate!r}."
        )
    if warmup_steps < 0:
        raise ValueError(f"`warmup_steps` must be ≥ 0, received {warmup_steps!r}.")
    if not 0 <= warmup_factor <= 1:
        raise ValueError(f"`warmup_factor` must be in [0, 1], received {warmup_factor!r}.")


@keras.saving.register_keras_serializable(package="keras_lk")
class PolyDecay(keras.optimizers.schedules.LearningRateSchedule):
    """"Poly" decay: `lr = initial · (1 − min(step, decay_steps) / decay_steps)^power + end`.

    Args:
        initial_learning_rate: base learning rate (GALD 0.01, FCRN 0.0016).
        decay_steps: total training steps; the rate reaches `end_learning_rate` there.
        power: 0.9 in the papers.
        end_learning_rate: floor added after the decay (0 in the papers).
        warmup_steps: linear warm-up length (0: none).
        warmup_factor: the warm-up starts at `initial_learning_rate · warmup_factor`.

    Example:
    >>> schedule = keras_lk.training.PolyDecay(0.01, decay_steps=100)
    >>> float(schedule(50))  # 0.01 * 0.5 ** 0.9
    0.005358...
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        power=0.9,
        end_learning_rate=0.0,
        warmup_steps=0,
        warmup_factor=0.1,
    ):
        _check(initial_learning_rate, warmup_steps, warmup_factor)
        if decay_steps < 1:
            raise ValueError(f"`decay_steps` must be ≥ 1, received {decay_steps!r}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)
        self.power = float(power)
        self.end_learning_rate = float(end_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.warmup_factor = float(warmup_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        progress = ops.minimum(step, float(self.decay_steps)) / float(self.decay_steps)
        lr = (
            self.initial_learning_rate - self.end_learning_rate
        ) * ops.power(1.0 - progress, self.power) + self.end_learning_rate
        return _warmup(lr, step, self.warmup_steps, self.warmup_factor)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "power": self.power,
            "end_learning_rate": self.end_learning_rate,
            "warmup_steps": self.warmup_steps,
            "warmup_factor": self.warmup_factor,
        }


@keras.saving.register_keras_serializable(package="keras_lk")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Step decay: `lr = initial · gamma^(step // step_size)`.

    Args:
        initial_learning_rate: base learning rate.
        step_size: steps between two decays.
        gamma: decay factor (0.1 in Caffe's "step" policy).
        warmup_steps: linear warm-up length (0: none).
        warmup_factor: the warm-up starts at `initial_learning_rate · warmup_factor`.

    Example:
    >>> float(keras_lk.training.StepDecay(0.1, step_size=10)(25))
    0.001...
    """

    def __init__(self, initial_learning_rate, step_size, gamma=0.1, warmup_steps=0,
                 warmup_factor=0.1):
        _check(initial_learning_rate, warmup_steps, warmup_factor)
        if step_size < 1:
            raise ValueError(f"`step_size` must be ≥ 1, received {step_size!r}.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.step_size = int(step_size)
        self.gamma = float(gamma)
        self.warmup_steps = int(warmup_steps)
        self.warmup_factor = float(warmup_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = self.initial_learning_rate * ops.power(
            self.gamma, ops.floor(step / float(self.step_size))
        )
        return _warmup(lr, step, self.warmup_steps, self.warmup_factor)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "gamma": self.gamma,
            "warmup_steps": self.warmup_steps,
            "warmup_factor": self.warmup_factor,
        }


@keras.saving.register_keras_serializable(package="keras_lk")
class ConstantSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A constant learning rate after an optional linear warm-up.

    Args:
        initial_learning_rate: the learning rate.
        warmup_steps: linear warm-up length (0: none).
        warmup_factor: the warm-up starts at `initial_learning_rate · warmup_factor`.

    Example:
    >>> float(keras_lk.training.ConstantSchedule(0.1, warmup_steps=10)(5))
    0.055...
    """

    def __init__(self, initial_learning_rate, warmup_steps=0, warmup_factor=0.1):
        _check(initial_learning_rate, warmup_steps, warmup_factor)
        self.initial_learning_rate = float(initial_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.warmup_factor = float(warmup_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = ops.convert_to_tensor(self.initial_learning_rate, "float32")
        return _warmup(lr, step, self.warmup_steps, self.warmup_factor)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "warmup_steps": self.warmup_steps,
            "warmup_factor": self.warmup_factor,
        }


# The learning-rate schedule of each `TrainConfig.schedule`, by name: `config` → schedule.
SCHEDULES = {
    "poly": lambda c: PolyDecay(c.learning_rate, c.steps, power=c.poly_power,
                                warmup_steps=c.warmup_steps, warmup_factor=c.warmup_factor),
    "step": lambda c: StepDecay(c.learning_rate, c.step_size, gamma=c.step_gamma,
                                warmup_steps=c.warmup_steps, warmup_factor=c.warmup_factor),
    "constant": lambda c: ConstantSchedule(c.learning_rate, warmup_steps=c.warmup_steps,
                                           warmup_factor=c.warmup_factor),
}


def make_schedule(config):
    """The learning-rate schedule of a `keras_lk.training.TrainConfig`."""
    return SCHEDULES[config.schedule](config)
