"""Global aggregation (GA) modules used by GALD: CGNL, Non-local, PSP pooling, ASPP.

Each module maps ``(batch, H, W, C)`` features to ``(batch, H, W, filters)`` (default
``filters = C``) so that GALD's Local Distribution can follow it (GALD Fig. 2, 3).
All four work for any input size (pooling and upsampling are built from ``keras.ops``
on the dynamic shape, no resize with a static size).

Reference:
    - Li et al., "Global Aggregation then Local Distribution in Fully Convolutional
      Networks" (GALD), BMVC 2019, Sec. 3.1 and Table 1(a).
    - Yue et al., "Compact Generalized Non-local Network" (CGNL), NeurIPS 2018.
    - Wang et al., "Non-local Neural Networks", CVPR 2018.
    - Zhao et al., "Pyramid Scene Parsing Network" (PSP), CVPR 2017.
    - Chen et al., "Rethinking Atrous Convolution" (ASPP, DeepLab v3), 2017.
"""

import keras
from keras import layers, ops

from keras_lk.layers._resize import bilinear_neighbours
from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.layers.initializers import INITIALIZATIONS, conv_initializers, norm_options
from keras_lk.layers.normalization import NORMS, conv_norm_act_block, norm_layer


def _check_int_tuple(name, values):
    if (not isinstance(values, (list, tuple)) or not values
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values)):
        raise ValueError(
            f"`{name}` must be a non-empty tuple of positive integers, received {values!r}."
        )
    return tuple(values)


def _adaptive_pool_matrix(length, bins, dtype):
    """(bins, length) matrix averaging PSP's adaptive bins [floor(iL/b), ceil((i+1)L/b))."""
    positions = ops.arange(length, dtype="int32")[None, :]
    index = ops.arange(bins, dtype="int32")[:, None]
    start = (index * length) // bins
    end = ((index + 1) * length + bins - 1) // bins
    mask = ops.cast((positions >= start) & (positions < end), dtype)
    return mask / ops.sum(mask, axis=1, keepdims=True)


def _bilinear_matrix(length, bins, dtype):
    """(length, bins) matrix of bilinear (half-pixel) upsampling from bins to length."""
    low, high, frac = bilinear_neighbours(bins, length, "float32")
    weights = (ops.one_hot(low, bins) * (1.0 - frac)[:, None]
               + ops.one_hot(high, bins) * frac[:, None])
    return ops.cast(weights, dtype)


@keras.saving.register_keras_serializable(package="keras_lk")
class CGNL(layers.Layer):
    """Compact Generalized Non-local block (dot-product kernel, grouped).

    θ, φ, g are 1x1 convs to `inter_filters` channels, split into `groups` channel
    groups. In each group the affinity over all positions *and* channels is the scalar
    ``<φ, g> / sqrt(C_g·H·W)`` (``use_scale``), and the group's output is ``θ · <φ, g>``.
    A grouped 1x1 conv back to the input channels, GroupNorm, and the residual follow:
    ``y = x + GN(W_z(θ <φ, g>))``. ``W_z``'s weight is a grouped ``Conv2D``'s kernel
    (``z/kernel``, ``(1, 1, inter_filters / groups, C)``), applied as one matmul per
    group: the same numbers, but no XLA-compiled grouped convolution (Keras's TF backend
    runs those in a ``jit_compile`` function that tf2onnx cannot convert).

    Args:
        inter_filters: channels of θ/φ/g; default half the input channels.
        groups: number of channel groups (8 in GALD); must divide `inter_filters` and
            the input channels.
        use_scale: divide the affinity by ``sqrt(C_g·H·W)``.
        initialization: ``"keras"`` (Keras's initializers and norm defaults) or
            ``"torch"`` (PyTorch's, as GALD's public code builds this module:
            `keras_lk.layers.initializers.INITIALIZATIONS`).

    Call arguments:
        inputs: ``(batch, H, W, C)``.

    Returns:
        ``(batch, H, W, C)``.

    Example:
    >>> keras_lk.layers.CGNL(groups=8)(np.zeros((1, 16, 16, 64))).shape
    (1, 16, 16, 64)

    Reference:
        Yue et al., "Compact Generalized Non-local Network", NeurIPS 2018.
    """

    def __init__(self, inter_filters=None, groups=8, use_scale=True, initialization="keras",
                 **kwargs):
        super().__init__(**kwargs)
        check_positive_int("inter_filters", inter_filters, allow_none=True)
        check_positive_int("groups", groups)
        check_choice("initialization", initialization, INITIALIZATIONS)
        self.inter_filters = inter_filters
        self.groups = groups
        self.use_scale = use_scale
        self.initialization = initialization

    def build(self, input_shape):
        channels = input_shape[-1]
        inter = self.inter_filters or channels // 2
        if inter % self.groups or channels % self.groups:
            raise ValueError(
                f"`groups`={self.groups} must divide the input channels ({channels}) and "
                f"`inter_filters` ({inter})."
            )
        self._inter = inter
        init = conv_initializers(self.initialization)
        self.theta = layers.Conv2D(inter, 1, use_bias=False, name="theta", **init)
        self.phi = layers.Conv2D(inter, 1, use_bias=False, name="phi", **init)
        self.g = layers.Conv2D(inter, 1, use_bias=False, name="g", **init)
        # `z` holds W_z's kernel (a grouped Conv2D's: path "z/kernel", its initializer);
        # `call` applies it with `_grouped_pointwise`, not by calling the Conv2D.
        self.z = layers.Conv2D(channels, 1, groups=self.groups, use_bias=False, name="z",
                               **init)
        epsilon = norm_options(self.initialization).get("epsilon", 1e-3)
        self.norm = layers.GroupNormalization(groups=self.groups, epsilon=epsilon,
                                              name="norm")
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.z.build((*input_shape[:-1], inter))
        self.norm.build(tuple(input_shape))

    def call(self, inputs):
        theta, phi, g = self.theta(inputs), self.phi(inputs), self.g(inputs)
        shape = ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]
        size = self._inter // self.groups
        # (b, H*W, groups, C_g)
        grouped = [ops.reshape(t, (batch, height * width, self.groups, size))
                   for t in (theta, phi, g)]
        theta_g, phi_g, g_g = grouped
        # Affinity in float32: a sum over C_g*H*W products.
        affinity = ops.sum(ops.cast(phi_g, "float32") * ops.cast(g_g, "float32"),
                           axis=(1, 3), keepdims=True)
        if self.use_scale:
            count = ops.cast(height * width * size, "float32")
            affinity = affinity / ops.sqrt(count)
        y = theta_g * ops.cast(affinity, theta_g.dtype)
        return inputs + self.norm(self._grouped_pointwise(y, batch, height, width))

    def _grouped_pointwise(self, y, batch, height, width):
        """``self.z`` (grouped 1x1 conv) on y ``(b, H*W, groups, C_g)`` as per-group
        matmuls with its kernel; ``(b, H, W, C)``."""
        size = self._inter // self.groups
        channels = self.z.filters
        # Grouped kernel (1, 1, C_g, C): output channels [i*C/groups, (i+1)*C/groups)
        # read input group i. → (groups, C_g, C/groups).
        kernel = ops.reshape(ops.cast(self.z.kernel, y.dtype),
                             (size, self.groups, channels // self.groups))
        kernel = ops.transpose(kernel, (1, 0, 2))
        z = ops.matmul(ops.transpose(y, (0, 2, 1, 3)), kernel)  # (b, groups, H*W, C/groups)
        z = ops.transpose(z, (0, 2, 1, 3))
        return ops.reshape(z, (batch, height, width, channels))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "inter_filters": self.inter_filters,
                "groups": self.groups, "use_scale": self.use_scale,
                "initialization": self.initialization}


@keras.saving.register_keras_serializable(package="keras_lk")
class NonLocal(layers.Layer):
    """Non-local block, embedded Gaussian: ``y = x + BN(W_z(softmax(θ φᵀ) g))``.

    Args:
        inter_filters: channels of θ/φ/g; default half the input channels.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"`` (see
            `keras_lk.layers.normalization`).
        initialization: ``"keras"`` (Keras's initializers and norm defaults) or
            ``"torch"`` (PyTorch's, as GALD's public code builds this module:
            `keras_lk.layers.initializers.INITIALIZATIONS`).

    Call arguments:
        inputs: ``(batch, H, W, C)``; memory grows as ``(H·W)²``.
        training: for BatchNorm.

    Returns:
        ``(batch, H, W, C)``.

    Example:
    >>> keras_lk.layers.NonLocal()(np.zeros((1, 8, 8, 32))).shape
    (1, 8, 8, 32)

    Reference:
        Wang et al., "Non-local Neural Networks", CVPR 2018, Eq. (1)-(6).
    """

    def __init__(self, inter_filters=None, norm="batch_norm", initialization="keras",
                 **kwargs):
        super().__init__(**kwargs)
        check_positive_int("inter_filters", inter_filters, allow_none=True)
        check_choice("norm", norm, NORMS)
        check_choice("initialization", initialization, INITIALIZATIONS)
        self.inter_filters = inter_filters
        self.norm_type = norm
        self.initialization = initialization

    def build(self, input_shape):
        channels = input_shape[-1]
        inter = self.inter_filters or max(channels // 2, 1)
        self._inter = inter
        init = conv_initializers(self.initialization, fan_in=channels)
        self.theta = layers.Conv2D(inter, 1, name="theta", **init)
        self.phi = layers.Conv2D(inter, 1, name="phi", **init)
        self.g = layers.Conv2D(inter, 1, name="g", **init)
        self.z = layers.Conv2D(channels, 1, use_bias=False, name="z",
                               **conv_initializers(self.initialization))
        # Zero-initialised BN scale: the block starts as the identity (Wang et al.).
        self.norm = norm_layer(self.norm_type, "norm", gamma_initializer="zeros",
                               **norm_options(self.initialization))
        for layer in (self.theta, self.phi, self.g):
            layer.build(input_shape)
        self.z.build((*input_shape[:-1], inter))
        self.norm.build(tuple(input_shape))

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        batch, height, width = shape[0], shape[1], shape[2]

        def flat(t):
            return ops.reshape(t, (batch, height * width, self._inter))

        theta, phi, g = flat(self.theta(inputs)), flat(self.phi(inputs)), flat(self.g(inputs))
        logits = ops.matmul(theta, ops.transpose(phi, (0, 2, 1)))
        # Softmax in float32 for mixed precision.
        attention = ops.cast(ops.softmax(ops.cast(logits, "float32"), axis=-1), g.dtype)
        y = ops.reshape(ops.matmul(attention, g), (batch, height, width, self._inter))
        return inputs + self.norm(self.z(y), training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "inter_filters": self.inter_filters,
                "norm": self.norm_type, "initialization": self.initialization}


@keras.saving.register_keras_serializable(package="keras_lk")
class PyramidPooling(layers.Layer):
    """PSP pyramid pooling: adaptive average pooling to ``b x b`` bins for each `bin`,
    1x1 conv + BN + ReLU, bilinear upsampling, concat with the input, 3x3 conv + BN +
    ReLU to `filters` channels.

    Args:
        bins: pyramid levels, default ``(1, 2, 3, 6)``.
        branch_filters: channels of each level; default ``C / len(bins)``.
        filters: output channels; default the input channels.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``.
        initialization: ``"keras"`` (Keras's initializers and norm defaults) or
            ``"torch"`` (PyTorch's, as GALD's public code builds this module:
            `keras_lk.layers.initializers.INITIALIZATIONS`).

    Call arguments:
        inputs: ``(batch, H, W, C)``.
        training: for BatchNorm.

    Returns:
        ``(batch, H, W, filters)``.

    Example:
    >>> keras_lk.layers.PyramidPooling()(np.zeros((1, 13, 9, 64))).shape
    (1, 13, 9, 64)

    Reference:
        Zhao et al., "Pyramid Scene Parsing Network", CVPR 2017, Fig. 3.
    """

    def __init__(self, bins=(1, 2, 3, 6), branch_filters=None, filters=None,
                 norm="batch_norm", initialization="keras", **kwargs):
        super().__init__(**kwargs)
        self.bins = _check_int_tuple("bins", bins)
        check_positive_int("branch_filters", branch_filters, allow_none=True)
        check_positive_int("filters", filters, allow_none=True)
        check_choice("norm", norm, NORMS)
        check_choice("initialization", initialization, INITIALIZATIONS)
        self.branch_filters = branch_filters
        self.filters = filters
        self.norm = norm
        self.initialization = initialization

    def build(self, input_shape):
        channels = input_shape[-1]
        branch = self.branch_filters or max(channels // len(self.bins), 1)
        self._filters = self.filters or channels
        options = {"norm": self.norm, "norm_options": norm_options(self.initialization),
                   **conv_initializers(self.initialization)}
        self.branches = [conv_norm_act_block(branch, 1, name=f"pool{b}", **options)
                         for b in self.bins]
        for block in self.branches:
            block.build((input_shape[0], None, None, channels))
        self.bottleneck = conv_norm_act_block(self._filters, 3, name="bottleneck", **options)
        self.bottleneck.build((*input_shape[:-1], channels + branch * len(self.bins)))

    def call(self, inputs, training=None):
        shape = ops.shape(inputs)
        height, width = shape[1], shape[2]
        outputs = [inputs]
        for bins, block in zip(self.bins, self.branches):
            pool_h = _adaptive_pool_matrix(height, bins, inputs.dtype)
            pool_w = _adaptive_pool_matrix(width, bins, inputs.dtype)
            pooled = ops.einsum("ih,bhwc,jw->bijc", pool_h, inputs, pool_w)
            pooled = block(pooled, training=training)
            up_h = _bilinear_matrix(height, bins, pooled.dtype)
            up_w = _bilinear_matrix(width, bins, pooled.dtype)
            outputs.append(ops.einsum("hi,bijc,wj->bhwc", up_h, pooled, up_w))
        return self.bottleneck(ops.concatenate(outputs, axis=-1), training=training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters or input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "bins": self.bins,
                "branch_filters": self.branch_filters, "filters": self.filters,
                "norm": self.norm, "initialization": self.initialization}


@keras.saving.register_keras_serializable(package="keras_lk")
class ASPP(layers.Layer):
    """Atrous spatial pyramid pooling (DeepLab v3): a 1x1 conv, 3x3 convs with the
    given `rates`, and image-level pooling, each with BN + ReLU, concatenated and
    projected by a 1x1 conv + BN + ReLU to `filters` channels.

    Args:
        rates: dilation rates of the 3x3 branches; ``(12, 24, 36)`` at output stride 8.
        branch_filters: channels of each branch; default 256.
        filters: output channels; default the input channels.
        norm: ``"batch_norm"`` or ``"sync_batch_norm"``.
        initialization: ``"keras"`` (Keras's initializers and norm defaults) or
            ``"torch"`` (PyTorch's, as GALD's public code builds this module:
            `keras_lk.layers.initializers.INITIALIZATIONS`).

    Call arguments:
        inputs: ``(batch, H, W, C)``.
        training: for BatchNorm.

    Returns:
        ``(batch, H, W, filters)``.

    Example:
    >>> keras_lk.layers.ASPP(rates=(2, 4), branch_filters=8)(np.zeros((1, 9, 7, 16))).shape
    (1, 9, 7, 16)

    Reference:
        Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
        2017, Sec. 3.3.
    """

    def __init__(self, rates=(12, 24, 36), branch_filters=256, filters=None,
                 norm="batch_norm", initialization="keras", **kwargs):
        super().__init__(**kwargs)
        self.rates = _check_int_tuple("rates", rates)
        check_positive_int("branch_filters", branch_filters)
        check_positive_int("filters", filters, allow_none=True)
        check_choice("norm", norm, NORMS)
        check_choice("initialization", initialization, INITIALIZATIONS)
        self.branch_filters = branch_filters
        self.filters = filters
        self.norm = norm
        self.initialization = initialization

    def build(self, input_shape):
        channels = input_shape[-1]
        def conv_block(filters, kernel_size, name, dilation_rate=1):
            return conv_norm_act_block(filters, kernel_size, name=name, norm=self.norm,
                                       norm_options=norm_options(self.initialization),
                                       dilation_rate=dilation_rate,
                                       **conv_initializers(self.initialization))

        self.branches = [conv_block(self.branch_filters, 1, "conv1x1")] + [
            conv_block(self.branch_filters, 3, f"atrous{rate}", dilation_rate=rate)
            for rate in self.rates
        ]
        for branch in self.branches:
            branch.build(tuple(input_shape))
        self.image_pool = conv_block(self.branch_filters, 1, "image_pool")
        self.image_pool.build((input_shape[0], 1, 1, channels))
        total = self.branch_filters * (len(self.rates) + 2)
        self.projection = conv_block(self.filters or channels, 1, "projection")
        self.projection.build((*input_shape[:-1], total))

    def call(self, inputs, training=None):
        outputs = [block(inputs, training=training) for block in self.branches]
        pooled = self.image_pool(ops.mean(inputs, axis=(1, 2), keepdims=True), training=training)
        outputs.append(ops.zeros_like(outputs[0]) + pooled)  # broadcast to H x W
        return self.projection(ops.concatenate(outputs, axis=-1), training=training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters or input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "rates": self.rates,
                "branch_filters": self.branch_filters, "filters": self.filters,
                "norm": self.norm, "initialization": self.initialization}
