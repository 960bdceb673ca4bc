"""NMF2D: non-negative matrix factorization of a feature map, the "ham" of Hamburger.

Geng et al., "Is Attention Better Than Matrix Decomposition?", ICLR 2021
(https://arxiv.org/abs/2109.04553), as SegNeXt's light Hamburger head uses it (Guo et
al., NeurIPS 2022, Sec. 3.2; official ``mmseg/models/decode_heads/ham_head.py``,
``NMF2D`` and ``_MatrixDecomposition2DBase``).
"""

import keras
import numpy as np
from keras import ops

from keras_lk.layers._validation import check_choice, check_known_channels, check_positive_int

GRADIENTS = ("unrolled", "one_step")
"""How the gradient reaches the input through the multiplicative updates:
``"unrolled"`` backpropagates through every update (SegNeXt's official code: its
``@torch.no_grad()`` over ``local_inference`` is commented out); ``"one_step"`` treats
the factors the updates reach as constants and backpropagates through the last
coefficient update and the reconstruction only (HamNet's one-step gradient, Geng et al.
Sec. 2.3)."""

EPSILON = 1e-6  # added to every denominator of the updates, as the official code
_NORM_EPSILON = 1e-12  # F.normalize's floor on a basis column's norm


def _transpose(x):
    return ops.transpose(x, (0, 2, 1))


@keras.saving.register_keras_serializable(package="keras_lk")
class NMF2D(keras.layers.Layer):
    """Low-rank reconstruction ``X ≈ D Cᵀ`` of a non-negative feature map by NMF.

    The map ``(batch, H, W, C)`` is read as ``X`` of shape ``C × N`` (N = H·W pixels)
    and factorised into non-negative bases ``D`` (``C × rank``) and coefficients ``C``
    (``N × rank``) by Lee and Seung's multiplicative updates; the output is the
    reconstruction ``D Cᵀ`` in the input's shape, a global context that keeps only
    `rank` directions of the features (HamNet, Sec. 2). Per image:

    - ``D`` starts uniform in [0, 1) with unit-norm columns (``rand_init=True``), drawn
      anew at every training call; ``C = softmax(Xᵀ D)`` over the rank axis
      (``inv_t = 1`` for NMF);
    - each step updates ``C ← C ⊙ XᵀD / (C DᵀD + ε)`` then
      ``D ← D ⊙ XC / (D CᵀC + ε)``, ε = 1e-6: `train_steps` steps in training,
      `eval_steps` in inference;
    - one more update of ``C`` follows (``compute_coef``), then ``D Cᵀ``.

    Every factor stays non-negative for a non-negative input (SegNeXt applies a ReLU
    before it), and no division is by less than ε, so zeros give zeros, not NaN. The
    updates run in float32 under any policy (their divisions need the precision); the
    output is cast back to the compute dtype.

    Randomness: training draws the starting bases from the layer's seed generator
    (reproducible under `keras.utils.set_random_seed` or a given `seed`), anew at every
    call and for every image, as the official code does. Inference starts every image
    from one fixed set of bases, drawn once with NumPy from `seed` (0 when None) when the
    layer is built, so predictions are reproducible and equal under XLA and eager
    execution (TensorFlow's stateless generators pick other algorithms under XLA); the
    official code draws fresh bases at inference too.

    Args:
        rank: the number of bases R (``MD_R``: 16 in SegNeXt-T's config, 64 by
            default).
        train_steps: multiplicative update steps in training (6).
        eval_steps: steps in inference (7).
        gradient: one of `GRADIENTS`: ``"unrolled"`` (the official SegNeXt code) or
            ``"one_step"`` (HamNet's one-step gradient).
        seed: int or None, the seed of the starting bases.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: non-negative float tensor ``(batch, height, width, channels)``.
        training: whether to run `train_steps` (True) or `eval_steps`.
        bases: optional starting bases ``(batch, channels, rank)`` (non-negative),
            instead of the random ones.

    Returns:
        The reconstruction, of the same shape and dtype as `inputs`.

    Example:
    >>> nmf = keras_lk.layers.NMF2D(rank=16)
    >>> nmf(np.random.rand(2, 16, 16, 64).astype("float32")).shape
    (2, 16, 16, 64)

    Reference:
        Geng et al., "Is Attention Better Than Matrix Decomposition?", ICLR 2021,
        Sec. 2; Guo et al., "SegNeXt", NeurIPS 2022, Sec. 3.2; official
        ``mmseg/models/decode_heads/ham_head.py``.
    """

    def __init__(self, rank=64, train_steps=6, eval_steps=7, gradient="unrolled", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        check_positive_int("rank", rank)
        for name, value in (("train_steps", train_steps), ("eval_steps", eval_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"`{name}` must be an integer >= 0, received {value!r}.")
        check_choice("gradient", gradient, GRADIENTS)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"`seed` must be an integer or None, received {seed!r}.")
        self.rank = rank
        self.train_steps = train_steps
        self.eval_steps = eval_steps
        self.gradient = gradient
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})
        bases = np.random.default_rng(self.seed or 0).uniform(size=(channels, self.rank))
        self.inference_bases = (bases / np.linalg.norm(bases, axis=0)).astype("float32")

    def random_bases(self, batch_size, channels, training=False):
        """Starting bases ``(batch_size, channels, rank)``: uniform, unit-norm columns;
        fresh ones in training, `inference_bases` for every image otherwise."""
        if not training:
            bases = ops.convert_to_tensor(self.inference_bases)[None]
            return ops.broadcast_to(bases, (batch_size, channels, self.rank))
        bases = keras.random.uniform((batch_size, channels, self.rank),
                                     seed=self.seed_generator)
        return bases / ops.maximum(ops.norm(bases, axis=1, keepdims=True), _NORM_EPSILON)

    @staticmethod
    def update_coefficients(x, bases, coef):
        """``C ⊙ XᵀD / (C DᵀD + ε)``; `x` is ``(batch, N, C)`` (the official ``Xᵀ``)."""
        numerator = ops.matmul(x, bases)
        denominator = ops.matmul(coef, ops.matmul(_transpose(bases), bases))
        return coef * numerator / (denominator + EPSILON)

    @staticmethod
    def update_bases(x, bases, coef):
        """``D ⊙ XC / (D CᵀC + ε)``; `x` is ``(batch, N, C)``."""
        numerator = ops.matmul(_transpose(x), coef)
        denominator = ops.matmul(bases, ops.matmul(_transpose(coef), coef))
        return bases * numerator / (denominator + EPSILON)

    def factorize(self, x, bases, steps):
        """The factors ``(bases, coef)`` after `steps` updates from `bases`; `x` is
        ``(batch, N, C)`` (the official ``local_inference``)."""
        coef = ops.softmax(ops.matmul(x, bases), axis=-1)
        for _ in range(steps):
            coef = self.update_coefficients(x, bases, coef)
            bases = self.update_bases(x, bases, coef)
        return bases, coef

    def call(self, inputs, training=None, bases=None):
        # float32: the updates divide by sums that bfloat16 would round to a few digits.
        x = ops.cast(inputs, "float32")
        channels = inputs.shape[-1]
        batch_size = ops.shape(x)[0]
        x = ops.reshape(x, (batch_size, -1, channels))
        if bases is None:
            bases = self.random_bases(batch_size, channels, training=bool(training))
        bases = ops.cast(bases, "float32")
        bases, coef = self.factorize(x, bases, self.train_steps if training else
                                     self.eval_steps)
        if self.gradient == "one_step":
            bases, coef = ops.stop_gradient(bases), ops.stop_gradient(coef)
        coef = self.update_coefficients(x, bases, coef)
        reconstruction = ops.matmul(coef, _transpose(bases))
        return ops.cast(ops.reshape(reconstruction, ops.shape(inputs)), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "rank": self.rank, "train_steps": self.train_steps,
                "eval_steps": self.eval_steps, "gradient": self.gradient, "seed": self.seed}
