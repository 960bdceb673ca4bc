"""MSCAN, SegNeXt's encoder: a convolutional network whose attention is MSCA.

Four stages at strides 4, 8, 16, 32 (SegNeXt Sec. 3.1, Fig. 2, Table 2's settings;
official ``mmseg/models/backbones/mscan.py``, ``MSCAN``)::

    image ─ stem: 3×3/2 conv (C₁/2) + BN + GELU, 3×3/2 conv (C₁) + BN ─ stage 1 ─ norm ─ res2
          ─ embed: 3×3/2 conv (C₂) + BN ─ stage 2 ─ norm ─ res3 ─ ... ─ res5

    block(x) = x + drop_path(γ₁ ⊙ SA(BN(x))) then x + drop_path(γ₂ ⊙ MLP(BN(x)))
    SA(u)    = u + 1×1(MSCA(GELU(1×1(u))))         (the shortcut is inside, as official)
    MLP(u)   = 1×1(GELU(DW3×3(1×1(u))))             (hidden width C·mlp_ratio)

MSCA is `keras_lk.layers.StripConvAttention`; γ are `keras_lk.layers.LayerScale`
(1e-2); "norm" ends each stage with a LayerNorm over the channels. Stochastic depth
grows linearly from 0 to `drop_path_rate` over all blocks (the official ``dpr``) and
drops a residual branch per sample, scaling the kept ones by 1/(1 − rate) (mmcv's
``DropPath``: a `Dropout` with noise shape ``(batch, 1, 1, 1)``).

Fidelity to the official code: every convolution has a bias; strided convolutions
pad one pixel on each side as PyTorch does (``ZeroPadding2D(1)`` then "valid": Keras's
"same" would pad bottom/right only on even sizes); GELU is the exact (erf) one, as
``nn.GELU``; BatchNorm has PyTorch's epsilon 1e-5 and momentum 0.1 (Keras 0.9),
LayerNorm epsilon 1e-5; ``MSCAN.init_weights`` (its random initialisation, used when
no pretrained file is given) draws every convolution's kernel from N(0, 2 / fan_out),
fan_out = kh·kw·C_out / groups, with zero biases; norms start at 1 and 0.

Layer names start with ``backbone_`` (``backbone_stage2_block1_attn_msca``), so
`keras_lk.training.BACKBONE_PATTERN`'s backbone learning rate and
``freeze_batch_norm`` reach them as they reach a keras-hub backbone's copies.

No ImageNet weights ship with keras_lk (the official ones are PyTorch checkpoints).

Reference:
    Guo et al., "SegNeXt: Rethinking Convolutional Attention Design for Semantic
    Segmentation", NeurIPS 2022, Sec. 3.1; official
    https://github.com/Visual-Attention-Network/SegNeXt ``mmseg/models/backbones/mscan.py``
    and ``local_configs/_base_/models/mscan.py``.
"""

import keras
import numpy as np
from keras import layers

from keras_lk.layers.layer_scale import LayerScale
from keras_lk.layers.normalization import norm_layer, norm_name
from keras_lk.layers.strip_conv_attention import StripConvAttention

STAGE_NAMES = ("res2", "res3", "res4", "res5")
LAYER_PREFIX = "backbone_"
LAYER_SCALE_INIT = 1e-2  # the official Block's layer_scale_init_value
_TORCH_BN = {"epsilon": 1e-5, "momentum": 0.9}  # PyTorch BatchNorm2d defaults
_LAYER_NORM_EPSILON = 1e-5  # nn.LayerNorm's default

# MSCAN-T (official local_configs/_base_/models/mscan.py, which the tiny configs use).
MSCAN_T = {"embed_dims": (32, 64, 160, 256), "depths": (3, 3, 5, 2),
           "mlp_ratios": (8, 8, 4, 4), "drop_path_rate": 0.1}


def _fan_out_normal():
    # MSCAN.init_weights: N(0, 2 / fan_out), fan_out = kh·kw·C_out / groups; Keras's
    # fan_out of a depth-wise (kh, kw, C, 1) kernel is kh·kw, the official's too.
    return keras.initializers.VarianceScaling(2.0, mode="fan_out",
                                              distribution="untruncated_normal")


def _conv(x, filters, kernel_size, name, strides=1):
    """A conv with bias as PyTorch's ``nn.Conv2d(padding=kernel_size // 2)``."""
    if strides > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
    return layers.Conv2D(filters, kernel_size, strides=strides,
                         padding="valid" if strides > 1 else "same",
                         kernel_initializer=_fan_out_normal(), name=name)(x)


def _batch_norm(x, norm, name):
    return norm_layer(norm, name, **_TORCH_BN)(x)


def _gelu(x, name):
    return layers.Activation("gelu", name=name)(x)  # exact (erf) GELU, as nn.GELU()


def _residual(x, branch, rate, name):
    """``x + drop_path(γ ⊙ branch)``."""
    branch = LayerScale(LAYER_SCALE_INIT, name=f"{name}_scale")(branch)
    if rate > 0:
        branch = layers.Dropout(rate, noise_shape=(None, 1, 1, 1),
                                name=f"{name}_drop_path")(branch)
    return layers.Add(name=f"{name}_add")([x, branch])


def mscan_block(x, mlp_ratio, drop_path_rate, norm, name):
    """One MSCAN block (the official ``Block``): spatial attention, then the MLP."""
    channels = x.shape[-1]
    u = _batch_norm(x, norm, f"{name}_norm1")
    a = layers.Conv2D(channels, 1, kernel_initializer=_fan_out_normal(),
                      name=f"{name}_attn_proj1")(u)
    a = _gelu(a, f"{name}_attn_gelu")
    a = StripConvAttention(name=f"{name}_attn_msca")(a)
    a = layers.Conv2D(channels, 1, kernel_initializer=_fan_out_normal(),
                      name=f"{name}_attn_proj2")(a)
    a = layers.Add(name=f"{name}_attn_shortcut")([a, u])
    x = _residual(x, a, drop_path_rate, f"{name}_attn")

    m = _batch_norm(x, norm, f"{name}_norm2")
    m = layers.Conv2D(int(channels * mlp_ratio), 1, kernel_initializer=_fan_out_normal(),
                      name=f"{name}_mlp_fc1")(m)
    m = layers.DepthwiseConv2D(3, padding="same", depthwise_initializer=_fan_out_normal(),
                               name=f"{name}_mlp_dwconv")(m)
    m = _gelu(m, f"{name}_mlp_gelu")
    m = layers.Conv2D(channels, 1, kernel_initializer=_fan_out_normal(),
                      name=f"{name}_mlp_fc2")(m)
    return _residual(x, m, drop_path_rate, f"{name}_mlp")


def _check_sequence(name, values, length, kind):
    values = tuple(values)
    if len(values) != length or any(isinstance(v, bool) or not isinstance(v, kind)
                                    or v <= 0 for v in values):
        raise ValueError(f"`{name}` must hold {length} positive numbers, received {values!r}.")
    return values


@keras.saving.register_keras_serializable(package="keras_lk")
class MSCANBackbone(keras.Model):
    """MSCAN as a functional model; `MSCANT` builds SegNeXt-T's.

    Args:
        embed_dims: channels of the four stages.
        depths: blocks of the four stages.
        mlp_ratios: MLP hidden width per stage, as a multiple of its channels.
        drop_path_rate: stochastic depth of the last block (linear from 0).
        weights: None, or the path of a ``.weights.h5`` file of this architecture.
        input_shape: input shape without the batch axis.
        input_tensor: optional Keras tensor used as the input (the backbone's layers
            then join the tensor's graph, as the segmentation models build it).
        output_stride: must be 32: MSCAN has no dilated variant.
        use_sync_bn: synchronized BatchNormalization (the official trains with SyncBN).
        dropout_rate, num_dropout_blocks: must be 0 (FCRN's dropout needs a ResNet).
        name: model name.

    Returns:
        A model whose output is ``{"res2", "res3", "res4", "res5"}`` (strides 4-32).

    Example:
    >>> backbone = keras_lk.backbones.MSCANT()
    >>> backbone(np.zeros((1, 64, 64, 3)))["res5"].shape
    TensorShape([1, 2, 2, 256])

    Reference:
        Guo et al., "SegNeXt", NeurIPS 2022, Sec. 3.1 and Table 2; official ``MSCAN``.
    """

    def __init__(
        self,
        embed_dims=MSCAN_T["embed_dims"],
        depths=MSCAN_T["depths"],
        mlp_ratios=MSCAN_T["mlp_ratios"],
        drop_path_rate=MSCAN_T["drop_path_rate"],
        weights=None,
        input_shape=(None, None, 3),
        input_tensor=None,
        output_stride=32,
        use_sync_bn=False,
        dropout_rate=0.0,
        num_dropout_blocks=0,
        name="mscan",
        **kwargs,
    ):
        embed_dims = _check_sequence("embed_dims", embed_dims, 4, int)
        depths = _check_sequence("depths", depths, 4, int)
        mlp_ratios = _check_sequence("mlp_ratios", mlp_ratios, 4, (int, float))
        if isinstance(drop_path_rate, bool) or not isinstance(drop_path_rate, (int, float)) \
                or not 0.0 <= drop_path_rate < 1.0:
            raise ValueError(f"`drop_path_rate` must be in [0, 1), received {drop_path_rate!r}.")
        if output_stride != 32:
            raise ValueError(f"`output_stride` must be 32 for MSCAN (it has no dilated "
                             f"variant), received {output_stride!r}.")
        if dropout_rate or num_dropout_blocks:
            raise ValueError("Dropout after backbone blocks (FCRN's `dropout`) needs a "
                             "keras_lk ResNet; MSCAN has stochastic depth instead "
                             "(`drop_path_rate`).")
        norm = norm_name(use_sync_bn)
        rates = np.linspace(0.0, drop_path_rate, sum(depths)).tolist()

        # === Functional Model ===
        if input_tensor is None:
            inputs = keras.Input(shape=input_shape, name="image")
            x = inputs
        else:
            inputs = keras.utils.get_source_inputs(input_tensor)
            inputs = inputs[0] if len(inputs) == 1 else inputs
            x = input_tensor
        p = LAYER_PREFIX
        x = _conv(x, embed_dims[0] // 2, 3, f"{p}stem_conv1", strides=2)
        x = _batch_norm(x, norm, f"{p}stem_bn1")
        x = _gelu(x, f"{p}stem_gelu")
        x = _conv(x, embed_dims[0], 3, f"{p}stem_conv2", strides=2)
        x = _batch_norm(x, norm, f"{p}stem_bn2")
        features = {}
        block = 0
        for stage, (channels, depth, ratio) in enumerate(zip(embed_dims, depths, mlp_ratios)):
            stage_name = f"{p}stage{stage + 1}"
            if stage > 0:  # OverlapPatchEmbed: 3×3 stride 2, BN
                x = _conv(x, channels, 3, f"{stage_name}_embed_conv", strides=2)
                x = _batch_norm(x, norm, f"{stage_name}_embed_bn")
            for i in range(depth):
                x = mscan_block(x, ratio, rates[block], norm, f"{stage_name}_block{i + 1}")
                block += 1
            x = layers.LayerNormalization(epsilon=_LAYER_NORM_EPSILON,
                                          name=f"{stage_name}_norm")(x)
            features[STAGE_NAMES[stage]] = x
        super().__init__(inputs=inputs, outputs=features, name=name, **kwargs)

        # === Config ===
        self.embed_dims = embed_dims
        self.depths = depths
        self.mlp_ratios = mlp_ratios
        self.drop_path_rate = float(drop_path_rate)
        self.image_shape = tuple(input_shape)
        self.use_sync_bn = use_sync_bn
        if weights is not None:
            if not str(weights).endswith(".weights.h5"):
                raise ValueError("`weights` must be None or the path of a '.weights.h5' "
                                 f"file of this architecture, received {weights!r}.")
            self.load_weights(weights)

    def get_config(self):
        # `weights` are in the saved file, not in the config; `input_tensor` is a graph.
        return {
            "embed_dims": self.embed_dims,
            "depths": self.depths,
            "mlp_ratios": self.mlp_ratios,
            "drop_path_rate": self.drop_path_rate,
            "input_shape": self.image_shape,
            "use_sync_bn": self.use_sync_bn,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def MSCANT(name="mscan_t", **kwargs):
    """MSCAN-T, SegNeXt-T's encoder: channels (32, 64, 160, 256), depths (3, 3, 5, 2),
    MLP ratios (8, 8, 4, 4), drop path 0.1 (official ``_base_/models/mscan.py``); the
    arguments of `MSCANBackbone` otherwise. No ImageNet weights ship with keras_lk.
    """
    return MSCANBackbone(**{**MSCAN_T, **kwargs}, name=name)
