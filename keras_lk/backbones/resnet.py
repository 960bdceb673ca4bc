"""Dilated ResNet v1 backbones (ResNet-18/50/101/152) and ResNet50-GCN.

The ResNets are the original (v1, post-activation) networks used by GCN, GALD and
FCRN, built as functional `keras.Model`s whose outputs are the features of the four
residual stages, ``{"res2": ..., "res3": ..., "res4": ..., "res5": ...}``.

* Layer names equal those of `keras.applications.ResNet50/101/152`
  (``conv1_conv``, ``conv4_block6_out``, ...), so the official Keras ImageNet weights
  load by name (``weights="imagenet"``) and local legacy ``.h5`` files too.
* ``output_stride`` 32, 16 or 8: the later stages trade their stride 2 for a dilation
  (DeepLab style: every block of a dilated stage uses the stage's rate, the stride of
  the first block becomes 1). ``multi_grid`` multiplies the rate of each res-5 block.
* ``use_sync_bn=True`` builds ``BatchNormalization(synchronized=True)`` layers for
  multi-replica training (GALD trains with SyncBN).
* The ImageNet weights expect caffe-style inputs: RGB 0..255 converted to BGR with the
  ImageNet mean subtracted. The data pipelines normalize so (``"caffe"``), or
  ``include_preprocessing=True`` puts a `keras_lk.layers.CaffePreprocessing` layer in
  the model.

ResNet50-GCN follows GCN Appendix A (Table 11) and Fig. 5B: the 1x1 and 3x3 convs of
every res-4 (k=5, 85 channels) and res-5 (k=7, 128 channels) bottleneck are replaced
by a GCN module (two branches 1xk→kx1 and kx1→1xk, summed), with BatchNorm and ReLU
after each convolution as the paper says. Its conv FLOPs at 224x224 are within 5% of
ResNet50's (see `tests/backbones/test_resnet.py`). No pretrained weights exist.

Reference:
    - He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    - Peng et al., "Large Kernel Matters", CVPR 2017, Appendix A.
    - Chen et al., "Rethinking Atrous Convolution" (multi-grid), 2017.
"""

import os

import keras
from keras import layers

from keras_lk._moved import moved_attributes
from keras_lk.layers.normalization import conv_norm_act, norm_layer, norm_name
from keras_lk.layers.preprocessing import CaffePreprocessing

IMAGENET_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# Hashes of the official `*_weights_tf_dim_ordering_tf_kernels_notop.h5` files
# (the same files `keras.applications` downloads).
IMAGENET_NOTOP_HASHES = {
    "resnet50": "4d473c1dd8becc155b73f8504c6f6626",
    "resnet101": "88cf7a10940856eca736dc7b7e228a21",
    "resnet152": "ee4c566cf9a93f14d82f913c2dc6dd0c",
}
STAGE_NAMES = ("res2", "res3", "res4", "res5")
_BN_EPSILON = 1.001e-5


def _bn(x, name, norm):
    return norm_layer(norm, name, epsilon=_BN_EPSILON)(x)


def _stem(x, norm, use_bias=True, filters=64):
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
    x = conv_norm_act(x, filters, 7, strides=2, padding="valid", use_bias=use_bias, name="conv1",
                      norm=norm, epsilon=_BN_EPSILON)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _shortcut(x, channels, stride, needed, use_bias, norm, name):
    if not needed:
        return x
    shortcut = layers.Conv2D(
        channels, 1, strides=stride, use_bias=use_bias, name=f"{name}_0_conv"
    )(x)
    return _bn(shortcut, f"{name}_0_bn", norm)


def bottleneck_block(x, filters, stride, dilation, conv_shortcut, norm, name):
    """ResNet v1 bottleneck (stride on the first 1x1 conv, as Keras/Caffe)."""
    shortcut = _shortcut(x, 4 * filters, stride, conv_shortcut, True, norm, name)
    x = conv_norm_act(x, filters, 1, strides=stride, padding="valid", use_bias=True,
                      name=f"{name}_1", norm=norm, epsilon=_BN_EPSILON)
    x = conv_norm_act(x, filters, 3, dilation_rate=dilation, use_bias=True,
                      name=f"{name}_2", norm=norm, epsilon=_BN_EPSILON)
    x = conv_norm_act(x, 4 * filters, 1, padding="valid", use_bias=True, activation=None,
                      name=f"{name}_3", norm=norm, epsilon=_BN_EPSILON)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def basic_block(x, filters, stride, dilation, conv_shortcut, norm, name):
    """ResNet v1 basic block (two 3x3 convs), used by the small ResNet-18."""
    shortcut = _shortcut(x, filters, stride, conv_shortcut, False, norm, name)
    x = conv_norm_act(x, filters, 3, strides=stride, dilation_rate=dilation,
                      name=f"{name}_1", norm=norm, epsilon=_BN_EPSILON)
    x = conv_norm_act(x, filters, 3, dilation_rate=dilation, activation=None,
                      name=f"{name}_2", norm=norm, epsilon=_BN_EPSILON)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _gcn_conv_bn_relu(x, filters, kernel, stride, dilation, norm, name):
    return conv_norm_act(
        x, filters, kernel, strides=stride, use_bias=True,
        dilation_rate=dilation if stride in (1, (1, 1)) else 1, name=name, norm=norm,
        epsilon=_BN_EPSILON,
    )


def gcn_bottleneck_block(x, filters, stride, dilation, conv_shortcut, norm, name, *, k,
                         gcn_filters):
    """ResNet-GCN block (GCN Fig. 5B): GCN module (BN+ReLU after each conv) + 1x1.

    Left branch 1xk → kx1, right branch kx1 → 1xk, summed, then the 1x1 expansion.
    In the first block of a strided stage each 1-D conv strides along the axis it
    convolves (1xk: stride (1, 2); kx1: stride (2, 1)), so no input row or column is
    skipped before a kernel sees it. With this choice the conv FLOPs at 224x224 are
    97.6% of ResNet50's (Table 11 says 3700 M for both); striding both axes in the
    first conv would give 93.1%.
    """
    shortcut = _shortcut(x, 4 * filters, stride, conv_shortcut, True, norm, name)
    left = _gcn_conv_bn_relu(x, gcn_filters, (1, k), (1, stride), dilation, norm,
                             f"{name}_gcn_left_1")
    left = _gcn_conv_bn_relu(left, gcn_filters, (k, 1), (stride, 1), dilation, norm,
                             f"{name}_gcn_left_2")
    right = _gcn_conv_bn_relu(x, gcn_filters, (k, 1), (stride, 1), dilation, norm,
                              f"{name}_gcn_right_1")
    right = _gcn_conv_bn_relu(right, gcn_filters, (1, k), (1, stride), dilation, norm,
                              f"{name}_gcn_right_2")
    x = layers.Add(name=f"{name}_gcn_add")([left, right])
    x = conv_norm_act(x, 4 * filters, 1, padding="valid", use_bias=True, activation=None,
                      name=f"{name}_3", norm=norm, epsilon=_BN_EPSILON)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def resnet_gcn_block(x, filters, stride, dilation, conv_shortcut, norm, name):
    """ResNet50-GCN's block of each stage: GCN blocks in res-4 (k=5, 85 channels) and
    res-5 (k=7, 128 channels), bottlenecks elsewhere (GCN Table 11)."""
    stage = name.split("_")[0]
    if stage == "conv4":
        return gcn_bottleneck_block(x, filters, stride, dilation, conv_shortcut, norm, name,
                                    k=5, gcn_filters=85)
    if stage == "conv5":
        return gcn_bottleneck_block(x, filters, stride, dilation, conv_shortcut, norm, name,
                                    k=7, gcn_filters=128)
    return bottleneck_block(x, filters, stride, dilation, conv_shortcut, norm, name)


# The residual blocks a `ResNetBackbone` can stack, by name (its config keeps the name).
def local_block(x, filters, stride, dilation, conv_shortcut, norm, name):
    """A basic block whose only spatial convolution is the one that strides or dilates.

    A 3×3 first convolution where the block changes the resolution (``stride > 1``) or
    dilates (``dilation > 1``), 1×1 convolutions otherwise: a network of such blocks
    has the strides of a ResNet but a small field of view (67 px at res-5 for
    `ResNet10Local`), so objects can be larger than what its deepest stage sees: the
    regime of GCN Sec. 3.1 at CPU scale.
    """
    kernel = 3 if stride > 1 or dilation > 1 else 1
    shortcut = _shortcut(x, filters, stride, conv_shortcut, False, norm, name)
    x = conv_norm_act(x, filters, kernel, strides=stride, dilation_rate=dilation,
                      name=f"{name}_1", norm=norm, epsilon=_BN_EPSILON)
    x = conv_norm_act(x, filters, 1, activation=None, name=f"{name}_2", norm=norm,
                      epsilon=_BN_EPSILON)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


BLOCKS = {
    "basic": basic_block,
    "local": local_block,
    "bottleneck": bottleneck_block,
    "resnet_gcn": resnet_gcn_block,
}


def _stage_strides_and_rates(output_stride):
    """Strides and dilation rates of conv2..conv5 for an output stride."""
    if output_stride == 32:
        return (1, 2, 2, 2), (1, 1, 1, 1)
    if output_stride == 16:
        return (1, 2, 2, 1), (1, 1, 1, 2)
    if output_stride == 8:
        return (1, 2, 1, 1), (1, 1, 2, 4)
    raise ValueError(f"`output_stride` must be 32, 16 or 8, received {output_stride!r}.")


def _load_weights(model, weights, weights_name):
    if weights is None:
        return
    if weights == "imagenet":
        if weights_name not in IMAGENET_NOTOP_HASHES:
            raise ValueError(
                f"No ImageNet weights exist for `{model.name}`; use `weights=None` or a "
                "path to a weights file."
            )
        file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels_notop.h5"
        url = IMAGENET_WEIGHTS_URL + file_name
        try:
            path = keras.utils.get_file(
                file_name, url, cache_subdir="models",
                file_hash=IMAGENET_NOTOP_HASHES[weights_name],
            )
        except Exception as error:  # network errors differ across Python versions
            raise OSError(
                f"Could not download the ImageNet weights of {weights_name} from {url} "
                f"({type(error).__name__}: {error}). This machine may be offline: "
                f"download the file elsewhere, then pass `weights=\"/path/to/{file_name}\"` "
                "or put it in ~/.keras/models/."
            ) from error
        model.load_weights(path, by_name=True)
        return
    path = os.fspath(weights)
    if not os.path.exists(path):
        raise ValueError(
            "`weights` must be None, 'imagenet' or the path of an existing weights file, "
            f"received {weights!r}."
        )
    if path.endswith(".weights.h5"):
        model.load_weights(path)
    elif path.endswith((".h5", ".hdf5")):
        # Legacy Keras 2 files (the official ImageNet files): matched by layer name.
        model.load_weights(path, by_name=True)
    else:
        raise ValueError(
            "`weights` file must end with '.weights.h5' (Keras 3) or '.h5' (legacy, "
            f"loaded by layer name), received {weights!r}."
        )


@keras.saving.register_keras_serializable(package="keras_lk")
class ResNetBackbone(keras.Model):
    """Dilated ResNet v1 as a functional model; behind `ResNet18/50/101/152/ResNet50GCN`.

    Args:
        block: name of the residual block in `BLOCKS` (``"basic"``, ``"bottleneck"``,
            ``"resnet_gcn"``).
        blocks_per_stage: four integers, blocks of res-2..res-5.
        filters_per_stage: four integers, bottleneck widths.
        stem_filters: channels of the 7×7 stem convolution (64 in every ImageNet ResNet).
        weights: None, ``"imagenet"`` or a path (``.weights.h5`` or legacy ``.h5``);
            loaded once when the model is built, not part of its config.
        weights_name: key of the ImageNet file, e.g. ``"resnet50"`` (None: none exist).
        input_shape: input shape without the batch axis.
        input_tensor: optional Keras tensor used as the input: the backbone's layers
            then join the graph of the tensor's model (how the segmentation models
            build it); such a backbone is not saved on its own.
        output_stride: 32, 16 or 8.
        multi_grid: optional tuple, one multiplier of the res-5 rate per res-5 block,
            e.g. ``(1, 2, 4)``.
        use_sync_bn: build synchronized BatchNormalization layers.
        include_preprocessing: prepend a `CaffePreprocessing` layer (inputs RGB 0..255).
        dropout_rate: dropout applied after each of the last ``num_dropout_blocks``
            blocks (FCRN Table 4); layers named ``{block}_dropout``.
        num_dropout_blocks: number of top-most blocks followed by dropout.
        name: model name.

    Returns:
        A model whose output is the dict ``{"res2", "res3", "res4", "res5"}``.

    Example:
    >>> backbone = keras_lk.backbones.ResNetBackbone("basic", (2, 2, 2, 2))
    >>> backbone(np.zeros((1, 64, 64, 3)))["res5"].shape
    TensorShape([1, 2, 2, 512])

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
    """

    def __init__(
        self,
        block,
        blocks_per_stage,
        filters_per_stage=(64, 128, 256, 512),
        stem_filters=64,
        weights=None,
        weights_name=None,
        input_shape=(None, None, 3),
        input_tensor=None,
        output_stride=32,
        multi_grid=None,
        use_sync_bn=False,
        include_preprocessing=False,
        dropout_rate=0.0,
        num_dropout_blocks=0,
        name="resnet",
        **kwargs,
    ):
        if block not in BLOCKS:
            raise ValueError(f"`block` must be one of {tuple(BLOCKS)}, received {block!r}.")
        strides, rates = _stage_strides_and_rates(output_stride)
        blocks_per_stage = tuple(blocks_per_stage)
        filters_per_stage = tuple(filters_per_stage)
        if len(blocks_per_stage) != 4 or len(filters_per_stage) != 4:
            raise ValueError(
                "`blocks_per_stage` and `filters_per_stage` must have 4 entries, received "
                f"{blocks_per_stage} and {filters_per_stage}."
            )
        num_res5 = blocks_per_stage[3]
        multi_grid = (1,) * num_res5 if multi_grid is None else tuple(int(m) for m in multi_grid)
        if len(multi_grid) != num_res5 or min(multi_grid) < 1:
            raise ValueError(
                f"`multi_grid` must have {num_res5} positive integers (one per res-5 block), "
                f"received {multi_grid!r}."
            )
        if not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1), received {dropout_rate!r}.")
        total_blocks = sum(blocks_per_stage)
        if not 0 <= num_dropout_blocks <= total_blocks:
            raise ValueError(
                f"`num_dropout_blocks` must be in [0, {total_blocks}], "
                f"received {num_dropout_blocks!r}."
            )
        norm = norm_name(use_sync_bn)
        block_fn = BLOCKS[block]

        # === Functional Model ===
        if input_tensor is None:
            inputs = keras.Input(shape=input_shape, name="image")
            x = inputs
        else:
            # The model starts at the source Input(s) of `input_tensor`, so a builder can
            # put layers (padding) before the backbone and keep all layers in one graph.
            inputs = keras.utils.get_source_inputs(input_tensor)
            inputs = inputs[0] if len(inputs) == 1 else inputs
            x = input_tensor
        if include_preprocessing:
            x = CaffePreprocessing(name="preprocessing")(x)
        x = _stem(x, norm, use_bias=block not in ("basic", "local"), filters=stem_filters)

        expansion = 1 if block == "basic" else 4
        features = {}
        block_index = 0
        for stage, (num_blocks, filters, stride, rate) in enumerate(
            zip(blocks_per_stage, filters_per_stage, strides, rates)
        ):
            stage_name = f"conv{stage + 2}"
            for i in range(num_blocks):
                dilation = rate * (multi_grid[i] if stage == 3 else 1)
                conv_shortcut = i == 0 and (stride != 1 or x.shape[-1] != filters * expansion)
                x = block_fn(
                    x, filters, stride if i == 0 else 1, dilation, conv_shortcut, norm,
                    f"{stage_name}_block{i + 1}",
                )
                block_index += 1
                if dropout_rate > 0 and block_index > total_blocks - num_dropout_blocks:
                    x = layers.Dropout(dropout_rate,
                                       name=f"{stage_name}_block{i + 1}_dropout")(x)
            features[STAGE_NAMES[stage]] = x
        super().__init__(inputs=inputs, outputs=features, name=name, **kwargs)

        # === Config ===
        self.block = block
        self.blocks_per_stage = blocks_per_stage
        self.filters_per_stage = filters_per_stage
        self.stem_filters = stem_filters
        self.weights_name = weights_name
        self.image_shape = tuple(input_shape)
        self.output_stride = output_stride
        self.multi_grid = multi_grid
        self.use_sync_bn = use_sync_bn
        self.include_preprocessing = include_preprocessing
        self.dropout_rate = dropout_rate
        self.num_dropout_blocks = num_dropout_blocks
        _load_weights(self, weights, weights_name)

    def get_config(self):
        # `weights` are in the saved file, not in the config; `input_tensor` is a graph.
        return {
            "block": self.block,
            "blocks_per_stage": self.blocks_per_stage,
            "filters_per_stage": self.filters_per_stage,
            "stem_filters": self.stem_filters,
            "weights_name": self.weights_name,
            "input_shape": self.image_shape,
            "output_stride": self.output_stride,
            "multi_grid": self.multi_grid,
            "use_sync_bn": self.use_sync_bn,
            "include_preprocessing": self.include_preprocessing,
            "dropout_rate": self.dropout_rate,
            "num_dropout_blocks": self.num_dropout_blocks,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_DOC_ARGS = """
    Args:
        weights: None (random init), ``"imagenet"`` (official Keras ImageNet weights,
            downloaded; raises `OSError` with instructions when offline) or a path:
            ``*.weights.h5`` (Keras 3) or a legacy ``*.h5`` file loaded by layer name.
        input_shape: input shape without the batch axis; default ``(None, None, 3)``.
        input_tensor: optional Keras tensor to use as the model input.
        output_stride: 32, 16 or 8; later stages use dilation instead of stride.
        multi_grid: optional per-block multipliers of the res-5 rate, e.g. ``(1, 2, 4)``.
        use_sync_bn: use ``BatchNormalization(synchronized=True)``.
        include_preprocessing: prepend `CaffePreprocessing` (inputs RGB in 0..255).
        dropout_rate, num_dropout_blocks: dropout after the top-most blocks (FCRN).
        name: model name.

    Returns:
        `ResNetBackbone` mapping images to ``{"res2", "res3", "res4", "res5"}`` features
        (strides 4, 8, 16, 32 at ``output_stride=32``).
"""


def ResNet18(name="resnet18", **kwargs):
    """Small ResNet-18 v1 (basic blocks), for CPU demos and tests. No ImageNet weights.
    """
    return ResNetBackbone("basic", (2, 2, 2, 2), name=name, **kwargs)


def ResNet10Narrow(name="resnet10_narrow", **kwargs):
    """ResNet-10 v1 at a quarter of ResNet-18's widths (16-128 channels), ~0.3 M parameters.

    For CPU-minute experiments such as `make demo`, trained from scratch; no ImageNet weights.
    """
    return ResNetBackbone("basic", (1, 1, 1, 1), filters_per_stage=(16, 32, 64, 128),
                          name=name, **kwargs)


def ResNet10Local(name="resnet10_local", **kwargs):
    """`ResNet10Narrow` with `local_block`s and a 16-channel stem: res-2..res-5 see 11, 19,
    35 and 67 px (strides 4-32), against 27-195 px for `ResNet10Narrow`.

    For CPU-scale runs in the regime GCN argues about (objects larger than what the
    backbone sees, GCN Sec. 3.1): on the 128² built-in scenes, objects are 26-115 px
    across. Trained from scratch; no ImageNet weights.
    """
    return ResNetBackbone("local", (1, 1, 1, 1), filters_per_stage=(16, 32, 64, 128),
                          stem_filters=16, name=name, **kwargs)


def ResNet50(name="resnet50", **kwargs):
    """ResNet-50 v1 with Keras-applications layer names."""
    return ResNetBackbone("bottleneck", (3, 4, 6, 3), weights_name="resnet50", name=name,
                          **kwargs)


def ResNet101(name="resnet101", **kwargs):
    """ResNet-101 v1 with Keras-applications layer names."""
    return ResNetBackbone("bottleneck", (3, 4, 23, 3), weights_name="resnet101", name=name,
                          **kwargs)


def ResNet152(name="resnet152", **kwargs):
    """ResNet-152 v1 with Keras-applications layer names."""
    return ResNetBackbone("bottleneck", (3, 8, 36, 3), weights_name="resnet152", name=name,
                          **kwargs)


def ResNet50GCN(name="resnet50_gcn", **kwargs):
    """ResNet50-GCN (GCN Appendix A, Table 11): GCN modules in res-4 (k=5, 85 ch) and
    res-5 (k=7, 128 ch). Never pretrained: ``weights="imagenet"`` raises ValueError.
    """
    return ResNetBackbone("resnet_gcn", (3, 4, 6, 3), name=name, **kwargs)


for _builder in (ResNet18, ResNet50, ResNet101, ResNet152, ResNet50GCN):
    _builder.__doc__ = (_builder.__doc__ or "") + _DOC_ARGS + (
        f"""
    Example:
    >>> backbone = keras_lk.backbones.{_builder.__name__}(output_stride=8)
    >>> features = backbone(np.zeros((1, 64, 64, 3)))  # features["res5"]: (1, 8, 8, C)

    Reference:
        He et al., "Deep Residual Learning for Image Recognition", CVPR 2016.
"""
    )


__getattr__ = moved_attributes(__name__)
