"""SGD with momentum as the papers train: L2 on kernels only, per-layer lr multipliers.

Caffe/PyTorch "weight decay" is an L2 term: `grad += weight_decay · w` before the
momentum update (GCN: 5e-4 with momentum 0.99; GALD/FCRN: momentum 0.9). Keras's own
`weight_decay` argument is the decoupled (AdamW-style) variant, which differs under
momentum; `SegmentationSGD` adds the L2 term to the (all-reduced) gradient instead, for
kernels only: BatchNorm `gamma`/`beta` and biases are not decayed.

Learning-rate multipliers (new heads ×10 vs the pretrained backbone, DeepLab/FCN
practice) are `{regex: factor}` matched with `re.search` against each variable's path
(e.g. `"conv4_block3_2_conv/kernel"`); the first match wins, unmatched variables get 1.
"""

from __future__ import annotations

import re

import keras
from keras import ops

from keras_lk.training.schedules import make_schedule

BACKBONE_PATTERN = r"^(conv[1-5]_|pool1_|backbone_)"
"""Paths of the backbone variables: keras_lk ResNets' (`conv4_block6_2_conv/kernel`) and
keras-hub backbones' copies (`backbone_stack2_block0_1_conv/kernel`, see
`keras_lk.backbones.hub`)."""


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationSGD(keras.optimizers.SGD):
    """SGD with momentum, coupled L2 on kernels, and per-variable lr multipliers.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `PolyDecay`).
        momentum: 0.99 for GCN, 0.9 for GALD/FCRN.
        l2: L2 coefficient added to the gradient of decayed variables (5e-4 in GCN).
        decay_pattern: regex on the variable path selecting the decayed variables;
            default: every kernel (`kernel`, `depthwise_kernel`, `conv1_kernel`, ...).
        lr_multipliers: `{regex: factor}` per-variable learning-rate factors.
        nesterov: Nesterov momentum.
        **kwargs: the other `keras.optimizers.Optimizer` arguments (`clipnorm`, ...).

    Example:
    >>> opt = keras_lk.training.SegmentationSGD(
    ...     0.01, momentum=0.9, l2=1e-4, lr_multipliers={"^(?!conv[1-5]_|pool1_)": 10.0})
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.9,
        l2=0.0,
        decay_pattern="kernel",
        lr_multipliers=None,
        nesterov=False,
        name="segmentation_sgd",
        **kwargs,
    ):
        if kwargs.get("weight_decay"):
            raise ValueError(
                "`SegmentationSGD` applies L2 through `l2`; do not pass `weight_decay` "
                f"(decoupled decay), received weight_decay={kwargs['weight_decay']!r}."
            )
        kwargs.pop("weight_decay", None)
        super().__init__(
            learning_rate=learning_rate, momentum=momentum, nesterov=nesterov, name=name,
            **kwargs,
        )
        if l2 < 0:
            raise ValueError(f"`l2` must be ≥ 0, received {l2!r}.")
        self.l2 = float(l2)
        self.decay_pattern = decay_pattern
        self.lr_multipliers = dict(lr_multipliers or {})
        for pattern, factor in self.lr_multipliers.items():
            re.compile(pattern)
            if factor < 0:
                raise ValueError(
                    f"`lr_multipliers[{pattern!r}]` must be ≥ 0, received {factor!r}."
                )
        self._decay_flags = {}
        self._multipliers = {}

    def multiplier_for(self, path: str) -> float:
        """The learning-rate factor of the variable with this path."""
        for pattern, factor in self.lr_multipliers.items():
            if re.search(pattern, path):
                return float(factor)
        return 1.0

    def decays(self, path: str) -> bool:
        """Whether the variable with this path gets the L2 term."""
        return bool(self.decay_pattern) and re.search(self.decay_pattern, path) is not None

    def build(self, variables):
        super().build(variables)
        for variable in variables:
            key = self._var_key(variable)
            self._decay_flags[key] = self.decays(variable.path)
            self._multipliers[key] = self.multiplier_for(variable.path)

    def update_step(self, gradient, variable, learning_rate):
        key = self._var_key(variable)
        gradient = ops.cast(gradient, variable.dtype)
        if self.l2 and self._decay_flags.get(key, False):
            gradient = gradient + ops.cast(self.l2, variable.dtype) * variable
        factor = self._multipliers.get(key, 1.0)
        if factor != 1.0:
            learning_rate = ops.cast(learning_rate, variable.dtype) * factor
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.pop("weight_decay", None)
        config.update(
            {
                "l2": self.l2,
                "decay_pattern": self.decay_pattern,
                "lr_multipliers": dict(self.lr_multipliers),
            }
        )
        return config


# The variables `TrainConfig.l2` decays, by `TrainConfig.l2_on`, as `decay_pattern`s:
# "kernels" as Caffe/MXNet prototxts do (biases and BatchNorm scales and shifts have a
# decay multiplier of 0), "all" as PyTorch's `SGD(weight_decay=...)` over every
# parameter does (GALD's public training script).
L2_TARGETS = {"kernels": "kernel", "all": "."}


def _sgd(config):
    multipliers = {}
    if config.head_lr_multiplier != 1.0:
        # Everything that is not a backbone variable is a (new) head.
        multipliers[f"^(?!{BACKBONE_PATTERN[1:]})"] = config.head_lr_multiplier
    return SegmentationSGD(make_schedule(config), momentum=config.momentum, l2=config.l2,
                           decay_pattern=L2_TARGETS[config.l2_on],
                           lr_multipliers=multipliers)


def _adam(config):
    return keras.optimizers.Adam(make_schedule(config))


# The optimizer of each `TrainConfig.optimizer`, by name: `config` → optimizer.
OPTIMIZERS = {"sgd": _sgd, "adam": _adam}


def make_optimizer(config):
    """The optimizer of a `keras_lk.training.TrainConfig`, on its schedule."""
    return OPTIMIZERS[config.optimizer](config)
