"""The papers' optimizers: SGD with momentum and coupled L2 (GCN, GALD, FCRN), AdamW
with decoupled weight decay (SegNeXt); both with per-variable lr multipliers.

Caffe/PyTorch "weight decay" is an L2 term: `grad += weight_decay · w` before the
momentum update (GCN: 5e-4 with momentum 0.99; GALD/FCRN: momentum 0.9). Keras's own
`weight_decay` argument is the decoupled (AdamW-style) variant, which differs under
momentum; `SegmentationSGD` adds the L2 term to the (all-reduced) gradient instead, for
kernels only: BatchNorm `gamma`/`beta` and biases are not decayed.

Learning-rate multipliers (new heads ×10 vs the pretrained backbone, DeepLab/FCN
practice) are `{regex: factor}` matched with `re.search` against each variable's path
(e.g. `"conv4_block3_2_conv/kernel"`); the first match wins, unmatched variables get 1.

AdamW (`SegmentationAdamW`) is PyTorch's ``torch.optim.AdamW`` under mmcv's
``paramwise_cfg`` (SegNeXt's official configs): ``w ← w − lr·m·wd·w`` on the decayed
variables, then the Adam step, both at the variable's learning rate (lr · multiplier m).
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


class _VariableRules:
    """What `SegmentationSGD` and `SegmentationAdamW` decide per variable, from its path:
    whether it is decayed (`decay_pattern`) and its learning-rate factor
    (`lr_multipliers`)."""

    def _set_rules(self, decay_pattern, lr_multipliers):
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
        """Whether the variable with this path gets the weight decay."""
        return bool(self.decay_pattern) and re.search(self.decay_pattern, path) is not None

    def build(self, variables):
        super().build(variables)
        self._remember_rules(variables)

    def _remember_rules(self, variables):
        for variable in variables:
            key = self._var_key(variable)
            self._decay_flags[key] = self.decays(variable.path)
            self._multipliers[key] = self.multiplier_for(variable.path)


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationSGD(_VariableRules, keras.optimizers.SGD):
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
        self._set_rules(decay_pattern, lr_multipliers)

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


@keras.saving.register_keras_serializable(package="keras_lk")
class SegmentationAdamW(_VariableRules, keras.optimizers.Adam):
    """AdamW as ``torch.optim.AdamW`` with mmcv's per-parameter rules (SegNeXt's configs).

    Each step, for a variable with learning rate ``lr_v = lr · multiplier``::

        w ← w − lr_v · weight_decay · w                      (decayed variables only)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
        w ← w − lr_v / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    PyTorch's formula and defaults (ε = 1e-8 inside the bias-corrected denominator);
    Keras's `AdamW` differs in three ways that matter here: its ε (1e-7) is added to
    √v before the bias correction, its decay uses the optimizer's learning rate (not the
    variable's multiplied one), and it has no learning-rate multipliers.

    Args:
        learning_rate: float or `LearningRateSchedule` (e.g. `PolyDecay`).
        weight_decay: the decoupled decay coefficient (SegNeXt: 0.01).
        beta_1, beta_2: Adam's moment decays (SegNeXt: 0.9, 0.999).
        epsilon: PyTorch's ε (1e-8).
        decay_pattern: regex on the variable path selecting the decayed variables;
            default: every variable.
        lr_multipliers: `{regex: factor}` per-variable learning-rate factors.
        **kwargs: the other `keras.optimizers.Optimizer` arguments (`clipnorm`, ...).

    Example:
    >>> opt = keras_lk.training.SegmentationAdamW(
    ...     6e-5, weight_decay=0.01, lr_multipliers={"^(?!backbone_)": 10.0})
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.01, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, decay_pattern=".", lr_multipliers=None,
                 name="segmentation_adamw", **kwargs):
        if kwargs.pop("amsgrad", False):
            raise ValueError("`SegmentationAdamW` has no AMSGrad variant, received "
                             "amsgrad=True.")
        # Keras's own `weight_decay` would decay again, at the optimizer's rate: ours is
        # applied in `update_step`.
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, weight_decay=None, name=name, **kwargs)
        if weight_decay < 0:
            raise ValueError(f"`weight_decay` must be ≥ 0, received {weight_decay!r}.")
        self.decoupled_weight_decay = float(weight_decay)
        self._set_rules(decay_pattern, lr_multipliers)

    def update_step(self, gradient, variable, learning_rate):
        key = self._var_key(variable)
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype) * self._multipliers.get(key, 1.0)
        gradient = ops.cast(gradient, dtype)
        if self.decoupled_weight_decay and self._decay_flags.get(key, False):
            self.assign_sub(variable, variable * (lr * self.decoupled_weight_decay))
        step = ops.cast(self.iterations + 1, dtype)
        bias_1 = 1 - ops.power(ops.cast(self.beta_1, dtype), step)
        bias_2 = 1 - ops.power(ops.cast(self.beta_2, dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        self.assign_add(v, (ops.square(gradient) - v) * (1 - self.beta_2))
        denominator = ops.sqrt(v) / ops.sqrt(bias_2) + self.epsilon
        self.assign_sub(variable, (lr / bias_1) * m / denominator)

    def get_config(self):
        config = super().get_config()
        config.pop("amsgrad", None)
        config.update({"weight_decay": self.decoupled_weight_decay,
                       "decay_pattern": self.decay_pattern,
                       "lr_multipliers": dict(self.lr_multipliers)})
        return config


# The variables `TrainConfig.l2` decays, by `TrainConfig.l2_on`, as `decay_pattern`s:
# "kernels" as Caffe/MXNet prototxts do (biases and BatchNorm scales and shifts have a
# decay multiplier of 0), "all" as PyTorch's `SGD(weight_decay=...)` over every
# parameter does (GALD's public training script).
# "segnext" as SegNeXt's official configs (``paramwise_cfg``: ``decay_mult=0`` for every
# PyTorch parameter named "norm": MSCAN's patch-embedding BatchNorms, its blocks'
# norm1/norm2 and its stages' LayerNorms; the stem's BatchNorms, named ``proj.1``/``proj.4``
# there, and the decoder's GroupNorms, which match "head" first, are decayed; so are
# biases and layer scales).
SEGNEXT_NO_DECAY = r"^backbone_stage\d+_(embed_bn|block\d+_norm[12]|norm)/"
L2_TARGETS = {"kernels": "kernel", "all": ".", "segnext": f"^(?!{SEGNEXT_NO_DECAY[1:]})"}


def _head_multipliers(config):
    if config.head_lr_multiplier == 1.0:
        return {}
    # Everything that is not a backbone variable is a (new) head.
    return {f"^(?!{BACKBONE_PATTERN[1:]})": config.head_lr_multiplier}


def _sgd(config):
    return SegmentationSGD(make_schedule(config), momentum=config.momentum, l2=config.l2,
                           decay_pattern=L2_TARGETS[config.l2_on],
                           lr_multipliers=_head_multipliers(config))


def _adamw(config):
    # `l2` is the decoupled weight decay here (torch AdamW's `weight_decay`).
    return SegmentationAdamW(make_schedule(config), weight_decay=config.l2,
                             decay_pattern=L2_TARGETS[config.l2_on],
                             lr_multipliers=_head_multipliers(config))


def _adam(config):
    return keras.optimizers.Adam(make_schedule(config))


# The optimizer of each `TrainConfig.optimizer`, by name: `config` → optimizer.
OPTIMIZERS = {"sgd": _sgd, "adam": _adam, "adamw": _adamw}


def make_optimizer(config):
    """The optimizer of a `keras_lk.training.TrainConfig`, on its schedule."""
    return OPTIMIZERS[config.optimizer](config)
