"""Kernel initializers of keras_lk's layers and heads."""

import math

import keras
import numpy as np

# PyTorch's BatchNorm2d defaults, which the PyTorch reference code of a layer relies on
# (GALD's public code): epsilon 1e-5, running-average momentum 0.1, which is Keras's
# momentum 0.9 (Keras weighs the old average, PyTorch the new batch).
TORCH_BATCH_NORM = {"epsilon": 1e-5, "momentum": 0.9}

INITIALIZATIONS = ("keras", "torch")
"""How a layer of a PyTorch reference starts: ``"keras"`` (Keras's defaults:
`glorot_uniform` kernels, zero biases, BatchNorm epsilon 1e-3 and momentum 0.99) or
``"torch"`` (PyTorch's defaults, which its authors' code relied on: `TorchConvUniform`
kernels and biases, BatchNorm and GroupNorm epsilon 1e-5, BatchNorm momentum 0.1)."""


def conv_initializers(initialization, fan_in=None, depthwise=False) -> dict:
    """``kernel_initializer`` / ``bias_initializer`` of a convolution under
    `initialization` (one of `INITIALIZATIONS`); `fan_in` (its kernel's) sets the
    PyTorch bias bound, and a convolution without bias may leave it None."""
    if initialization == "keras":
        return {}
    if initialization != "torch":
        raise ValueError(f"`initialization` must be one of {INITIALIZATIONS}, received "
                         f"{initialization!r}.")
    options = {"kernel_initializer": TorchConvUniform(depthwise=depthwise)}
    if fan_in is not None:
        options["bias_initializer"] = TorchConvUniform(fan_in=fan_in)
    return options


def norm_options(initialization) -> dict:
    """BatchNorm epsilon and momentum under `initialization` (`INITIALIZATIONS`)."""
    return dict(TORCH_BATCH_NORM) if initialization == "torch" else {}


@keras.saving.register_keras_serializable(package="keras_lk")
class TorchConvUniform(keras.initializers.RandomUniform):
    """PyTorch's default initialisation of a convolution's kernel or bias.

    ``torch.nn.Conv2d.reset_parameters`` draws both from U(−b, b) with b = 1/√fan_in
    (``kaiming_uniform_(a=√5)`` for the kernel), where fan_in is the number of input
    values one output sums over: kh·kw·C_in for a full convolution, kh·kw for a
    depth-wise one. Keras's own initializers count a depth-wise ``(kh, kw, C, 1)``
    kernel's fan-in as kh·kw·C, which starts it (C + 1)/6 times smaller in variance than
    `glorot_uniform` with the right fan would (and C times smaller than PyTorch's).

    Args:
        depthwise: the kernel is a depth-wise ``(kh, kw, C, multiplier)`` kernel, whose
            fan-in is kh·kw.
        fan_in: the fan-in to use instead of the shape's: a bias (its shape says nothing
            of the kernel it follows) takes its kernel's fan-in.
        seed: as Keras initializers' `seed`.

    Example:
    >>> init = keras_lk.layers.TorchConvUniform(depthwise=True)
    >>> kernel = init((3, 3, 64, 1))      # U(-1/3, 1/3): std 1/(3·√3)
    >>> bias = keras_lk.layers.TorchConvUniform(fan_in=9)((64,))

    Reference:
        PyTorch, ``torch.nn.modules.conv._ConvNd.reset_parameters``.
    """

    def __init__(self, depthwise=False, fan_in=None, seed=None):
        if fan_in is not None and (isinstance(fan_in, bool) or not isinstance(fan_in, int)
                                   or fan_in < 1):
            raise ValueError(f"`fan_in` must be None or an integer ≥ 1, received {fan_in!r}.")
        super().__init__(minval=-1.0, maxval=1.0, seed=seed)  # the bound is the shape's
        self.depthwise = bool(depthwise)
        self.fan_in = fan_in

    def fan_in_of(self, shape) -> int:
        """The fan-in that sets the bound of a tensor of `shape`."""
        if self.fan_in is not None:
            return self.fan_in
        if len(shape) < 2:
            raise ValueError(
                f"A tensor of shape {tuple(shape)} has no fan-in of its own; pass "
                "`fan_in` (a bias takes its kernel's)."
            )
        receptive = math.prod(shape[:-2])
        return receptive if self.depthwise else receptive * shape[-2]

    def __call__(self, shape, dtype=None):
        bound = 1.0 / math.sqrt(self.fan_in_of(shape))
        return keras.random.uniform(shape, -bound, bound, dtype=dtype, seed=self.seed)

    def get_config(self):
        return {"depthwise": self.depthwise, "fan_in": self.fan_in,
                "seed": super().get_config()["seed"]}


@keras.saving.register_keras_serializable(package="keras_lk")
class BilinearUpsampleInitializer(keras.initializers.Initializer):
    """Initialises a ``Conv2DTranspose`` kernel ``(k, k, C, C)`` as per-channel bilinear
    upsampling (FCN practice), so the deconvolutions start as plain ×2 upsampling.

    Example:
    >>> init = keras_lk.layers.BilinearUpsampleInitializer()
    >>> init((4, 4, 21, 21)).shape
    TensorShape([4, 4, 21, 21])

    Reference:
        Long et al., "Fully Convolutional Networks for Semantic Segmentation", 2015.
    """

    def __call__(self, shape, dtype=None):
        kh, kw, out_channels, in_channels = shape
        if out_channels != in_channels or kh != kw:
            raise ValueError(f"Bilinear initialisation needs a (k, k, C, C) kernel, got {shape}.")
        factor = (kh + 1) // 2
        center = factor - 1 if kh % 2 == 1 else factor - 0.5
        grid = np.arange(kh, dtype="float64")
        profile = 1 - np.abs(grid - center) / factor
        kernel = np.zeros(shape, dtype="float32")
        for c in range(out_channels):
            kernel[:, :, c, c] = np.outer(profile, profile)
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self):
        return {}
