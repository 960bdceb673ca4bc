"""Global Convolutional Network block (GCN), Peng et al. 2017, Fig. 2B.

"Large Kernel Matters -- Improve Semantic Segmentation by Global Convolutional
Network", https://arxiv.org/abs/1703.02719
"""

import keras
from keras import ops

from keras_lk.layers._conv_base import ConvWeightsLayer
from keras_lk.layers._validation import check_choice, check_odd_kernel_size, check_positive_int
from keras_lk.layers.global_conv_choice import rule_implementation, tuned_implementation

IMPLEMENTATIONS = ("auto", "conv", "transpose", "matmul")


@keras.saving.register_keras_serializable(package="keras_lk")
class GlobalConv(ConvWeightsLayer):
    """Large separable kernel: (k×1 → 1×k) + (1×k → k×1), no nonlinearity.

    Branch "left" is a k×1 convolution followed by a 1×k convolution; branch
    "right" is a 1×k convolution followed by a k×1 convolution; the output is
    their sum. With "same" padding the spatial size is preserved for any input
    size. Each of the four convolutions has its own kernel (and bias when
    `use_bias`), stored in the `keras.layers.Conv2D` layout so weights can be
    exchanged with a pair of stock Conv2D layers.

    Parameters: `2 * k * filters * (C_in + filters)` kernel weights, against
    `k * k * C_in * filters` for a trivial k×k convolution (GCN Table 2).

    The four implementations compute the same function and gradients (equal to
    float rounding) and differ only in speed:

    - `"conv"`: four stock convolutions, as written in the paper.
    - `"transpose"`: every 1×k convolution runs as a k×1 convolution of the
      H↔W-transposed tensor. On TensorFlow's CPU kernels the filter gradient of a
      1×k kernel on a wide input is 3-6× slower than that of a k×1 kernel; this
      moves all work onto the fast path.
    - `"matmul"`: both wide first convolutions become one matrix product
      `x @ [W_left | W_right]` (per-tap outputs), followed by a shift-and-sum
      along H (left) or W (right) done with a diagonal-skew reshape. Fastest
      when the feature map is small and wide (res-5, res-4 of a ResNet).
    - `"auto"` (default): the fastest of the three on this machine for this
      shape, dtype and mode (training or inference), as measured by
      `keras_lk.layers.tune_global_conv` and recorded in the tuning file
      (`keras_lk.layers.global_conv_choice`; `keras_lk.training.train` tunes
      before training); at an untuned shape, `rule_implementation`: `"matmul"`
      when `H * W <= C_in`, else on TensorFlow's CPU kernels `"transpose"` with
      AVX-512 and `"matmul"` without, `"conv"` elsewhere.

    Args:
        filters: int, number of output channels (classes for a score map).
        kernel_size: odd int >= 1, the k of the paper.
        use_bias: bool, whether each convolution has a bias.
        implementation: one of `"auto"`, `"conv"`, `"transpose"`, `"matmul"`.
        kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as in `keras.layers.Conv2D`, applied to all four
            convolutions.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, height, width, channels)`.

    Returns:
        Tensor `(batch, height, width, filters)`.

    Example:
    >>> layer = keras_lk.layers.GlobalConv(filters=21, kernel_size=15)
    >>> layer(np.zeros((1, 32, 48, 256), "float32")).shape
    (1, 32, 48, 21)

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017, Sec. 3.1 and Fig. 2B.
    """

    def __init__(
        self,
        filters,
        kernel_size=15,
        use_bias=True,
        implementation="auto",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            **kwargs,
        )
        check_positive_int("filters", filters)
        check_odd_kernel_size("kernel_size", kernel_size)
        check_choice("implementation", implementation, IMPLEMENTATIONS)
        self.filters = filters
        self.kernel_size = kernel_size
        self.implementation = implementation

    def build(self, input_shape):
        channels = self._channels(input_shape)
        k, f = self.kernel_size, self.filters
        self._add_conv("left_kx1", (k, 1, channels, f))
        self._add_conv("left_1xk", (1, k, f, f))
        self._add_conv("right_1xk", (1, k, channels, f))
        self._add_conv("right_kx1", (k, 1, f, f))
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    # -- building blocks -------------------------------------------------
    def _conv_as_transposed(self, x_t, name):
        """A 1×k convolution of x, computed on x_t = x with H and W swapped.

        Returns the result still transposed: k×1 conv of x_t with the kernel's
        two spatial axes swapped.
        """
        kernel = ops.transpose(self._kernels[name], (1, 0, 2, 3))
        return self._bias(ops.conv(x_t, kernel, padding="same"), name)

    def _resolve_implementation(self, inputs, training=None):
        """The formulation of this call: the fixed one, or for `"auto"` the one the
        tuning file records for this shape, dtype and mode, else `rule_implementation`."""
        if self.implementation != "auto":
            return self.implementation
        mode = "train" if training else "infer"
        tuned = tuned_implementation(tuple(inputs.shape), self.filters, self.kernel_size,
                                     self.compute_dtype, mode)
        return tuned or rule_implementation(*inputs.shape[1:4])

    # -- the three formulations -------------------------------------------
    def call_conv(self, inputs, convolution=None):
        """The `"conv"` formulation: (1×k → k×1) + (k×1 → 1×k), each 1-D convolution
        with its bias.

        Args:
            inputs: float tensor `(batch, height, width, channels)`.
            convolution: computes one 'same', stride-1 convolution without bias,
                ``convolution(x, kernel)`` with `kernel` in Conv2D layout (k×1 or 1×k);
                None: `keras.ops.conv`. An exact rewrite of the convolution (e.g. for
                export, `keras_lk.export.layer_rewrites`) gives the layer's function on
                the layer's own weights.

        Returns:
            Tensor `(batch, height, width, filters)`.
        """
        def conv(x, name):
            if convolution is None:
                return self._conv(x, name)
            return self._bias(convolution(x, self._kernels[name]), name)

        # Right branch first: on JAX's XLA CPU backend this order makes the
        # backward pass ~25% faster than left-first (benchmarks/global_conv.py).
        right = conv(conv(inputs, "right_1xk"), "right_kx1")
        left = conv(conv(inputs, "left_kx1"), "left_1xk")
        return left + right

    def _call_transpose(self, x):
        swap = (0, 2, 1, 3)
        left = self._conv(x, "left_kx1")
        left = ops.transpose(self._conv_as_transposed(ops.transpose(left, swap), "left_1xk"), swap)
        right = ops.transpose(self._conv_as_transposed(ops.transpose(x, swap), "right_1xk"), swap)
        right = self._conv(right, "right_kx1")
        return left + right

    def _call_matmul(self, x):
        k, f = self.kernel_size, self.filters
        batch, height, width = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        channels = x.shape[-1]
        # Per-tap weights of both wide convolutions as one (C, 2·k·F) matrix,
        # tap-major: column j·F + f holds tap j of output channel f.
        left_w = ops.reshape(ops.transpose(self._kernels["left_kx1"][:, 0], (1, 0, 2)), (channels, k * f))
        right_w = ops.reshape(ops.transpose(self._kernels["right_1xk"][0], (1, 0, 2)), (channels, k * f))
        taps = ops.matmul(x, ops.concatenate([left_w, right_w], axis=-1))
        taps = ops.reshape(taps, (batch, height, width, 2, k, f))
        # Left: sum taps along H -> (B, W, F, H); right: along W -> (B, H, F, W).
        left = _shift_sum(ops.transpose(taps[:, :, :, 0], (0, 2, 4, 3, 1)), k)
        right = _shift_sum(ops.transpose(taps[:, :, :, 1], (0, 1, 4, 3, 2)), k)
        # left as (B, W, H, F) is the H↔W-transposed map: its 1×k conv is a k×1 conv there.
        left = self._bias(ops.transpose(left, (0, 1, 3, 2)), "left_kx1")
        left = ops.transpose(self._conv_as_transposed(left, "left_1xk"), (0, 2, 1, 3))
        right = self._bias(ops.transpose(right, (0, 1, 3, 2)), "right_1xk")
        right = self._conv(right, "right_kx1")
        return left + right

    def call(self, inputs, training=None):
        implementation = self._resolve_implementation(inputs, training)
        if implementation == "matmul":
            return self._call_matmul(inputs)
        if implementation == "transpose":
            return self._call_transpose(inputs)
        return self.call_conv(inputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "implementation": self.implementation,
            }
        )
        return config


def _shift_sum(taps, k):
    """"Same"-padded 1-D correlation from per-tap products.

    `taps[..., j, n]` is tap j's contribution computed at position n. Returns
    `out[..., n] = sum_j taps[..., j, n + j - (k - 1) // 2]` (zero outside).

    Done without k slices: pad the position axis to R = n + k - 1, flatten
    (tap, position), append k zeros and view as (k, R + 1). Row j of that view
    starts j elements later than row j of the (k, R) layout, so column n of
    row j is position n + j: the diagonal becomes a column.
    """
    pad = (k - 1) // 2
    shape = ops.shape(taps)
    lead, length = shape[:-2], shape[-1]
    padded = ops.pad(taps, [(0, 0)] * (len(taps.shape) - 1) + [(pad, pad)])
    flat = ops.reshape(padded, (-1, k * (length + 2 * pad)))
    flat = ops.pad(flat, [(0, 0), (0, k)])
    skewed = ops.reshape(flat, (-1, k, length + 2 * pad + 1))[:, :, :length]
    return ops.reshape(ops.sum(skewed, axis=1), (*lead, length))
