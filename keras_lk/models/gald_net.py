"""GALD-Net (Li et al., "Global Aggregation then Local Distribution", Fig. 2).

A dilated ResNet (output stride 8, rates 2 and 4) followed by the GALD head::

    res-5 ─ 3x3 conv 512 + BN + ReLU ─ [GA] ─ [LD] ─ concat(res-5) ─ 3x3 conv 512 + BN
          + ReLU ─ dropout 0.1 ─ 1x1 classifier ─ bilinear x8 ─ crop        → "logits"
    res-4 ─ 3x3 conv 256 + BN + ReLU ─ dropout 0.1 ─ 1x1 ─ x8 ─ crop  → "aux_logits"

GA is CGNL (8 groups, on a stride-2 depthwise-downsampled map as GALD does), Non-local
(also on the downsampled map), PSP pyramid pooling (1, 2, 3, 6) or ASPP (12, 24, 36);
LD is `keras_lk.layers.LocalDistribution` (rate 8). Arrangements of Table 1(c):
"gald" (GA then LD), "ldga" (LD then GA), "parallel" (concat of GA and LD outputs).
``ga=None, ld=True`` is Table 1(b)'s "+LD" row; ``ga=None, ld=False`` the FCN baseline.
The auxiliary head's loss weight is ``aux_loss_weight`` (default `AUX_LOSS_WEIGHT`, 0.4,
as GALD's public code); `GALDNet.compile(loss="auto")` applies it.

``variant="official"`` is the head of GALD's public code (``GALDHead``, ``GALDBlock``)
instead of the paper's Eq. (3), for CGNL + LD in the GALD arrangement::

    res-5 ─ 3x3 conv 512 + BN + ReLU ─ G = up(CGNL(ReLU(BN(dw3x3/2 valid, bias)))) ─
          LD_official(G) + G ─ 3x3 conv 512 + BN + ReLU ─ concat(res-5) ─ 3x3 conv 512
          + BN + ReLU ─ 1x1 classifier ─ bilinear (align corners)          → "logits"
    res-4 ─ 3x3 conv 512 (bias) + BN + ReLU ─ spatial dropout 0.1 ─ 1x1 ─ bilinear
          (align corners)                                                 → "aux_logits"

so its GA-LD block returns M ⊙ G + 2G (the paper's F_GALD = M ⊙ G + G plus the block's
own residual), a 3×3 convolution follows it, the main head has no dropout, CGNL's
affinity is unscaled (``use_scale=False``), every BatchNorm has PyTorch's epsilon 1e-5
and momentum 0.1, and every upsampling aligns corners. Both variants' heads (GA and LD
modules included) start as the public code's does: PyTorch's default initialisation and
BatchNorm/GroupNorm settings (`INITIALIZATION`). The official backbone (a ResNet
with a three-convolution stem) is not part of the variant: pass any backbone.

Reference:
    Li et al., "Global Aggregation then Local Distribution in Fully Convolutional
    Networks", BMVC 2019, Sec. 3-4, Fig. 2-3, Table 1.
"""

import keras
from keras import layers

from keras_lk import layers as lk_layers
from keras_lk.backbones import get_backbone
from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.layers.initializers import (
    INITIALIZATIONS,
    TORCH_BATCH_NORM,
    TorchConvUniform,
    conv_initializers,
    norm_options,
)
from keras_lk.layers.local_distribution import DOWNSAMPLERS
from keras_lk.layers.normalization import conv_norm_act, norm_activation, norm_name
from keras_lk.layers.spatial import CropToMatch, ResizeToMatch
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel

AUX_LOSS_WEIGHT = 0.4
AUX_LOGITS = "aux_logits"

# The head starts as GALD's public (PyTorch) code starts it, in both variants: PyTorch's
# default convolution initialisation (depth-wise fan-in k·k, biases included) and
# BatchNorm/GroupNorm epsilon 1e-5, momentum 0.1 (`keras_lk.layers.initializers`).
INITIALIZATION = "torch"
TORCH_NORM = norm_options(INITIALIZATION)

# LD's depth-wise kernels by `ld_initialization`: PyTorch's start (LD's default, fan-in
# k·k), or Keras's glorot_uniform, which counts the fan-in as k·k·C and starts them
# (C + 1)/6 times smaller in variance (keras_lk's start before the fidelity rules).
LD_DEPTHWISE_INITIALIZERS = {"torch": None, "keras": "glorot_uniform"}


def _on_downsampled(module):
    """CGNL and Non-local run on a 2x depthwise-downsampled map, as GALD's code does."""

    def apply(x, norm, cgnl_groups):
        y = layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False,
                                   depthwise_initializer=TorchConvUniform(depthwise=True),
                                   name="ga_downsample_conv")(x)
        y = norm_activation(y, name="ga_downsample", norm=norm, **TORCH_NORM)
        y = module(norm, cgnl_groups)(y)
        y = layers.UpSampling2D(2, interpolation="bilinear", name="ga_upsample")(y)
        return CropToMatch(name="ga_crop")([y, x])

    return apply


# === The GA modules of GALD Table 1(a), by name ===
# `apply(features, norm, cgnl_groups) -> features`; adding one is its layer file plus one
# line here.
GA_MODULES = {
    "cgnl": _on_downsampled(
        lambda norm, groups: lk_layers.CGNL(groups=groups, initialization=INITIALIZATION,
                                            name="ga_cgnl")),
    "nonlocal": _on_downsampled(
        lambda norm, groups: lk_layers.NonLocal(norm=norm, initialization=INITIALIZATION,
                                                name="ga_nonlocal")),
    "psp": lambda x, norm, groups: lk_layers.PyramidPooling(
        norm=norm, initialization=INITIALIZATION, name="ga_psp")(x),
    "aspp": lambda x, norm, groups: lk_layers.ASPP(
        norm=norm, initialization=INITIALIZATION, name="ga_aspp")(x),
}

# === The arrangements of GALD Table 1(c), by name: `arrange(x, ga, ld) -> x` ===
ARRANGEMENTS = {
    "gald": lambda x, ga, ld: ld(ga(x)),
    "ldga": lambda x, ga, ld: ga(ld(x)),
    "parallel": lambda x, ga, ld: layers.Concatenate(name="ga_ld_concat")([ga(x), ld(x)]),
}


VARIANTS = ("paper", "official")
def _classifier(x, num_classes, name):
    """The 1×1 classifier (with bias, PyTorch-initialised)."""
    return layers.Conv2D(num_classes, 1, name=name,
                         **conv_initializers(INITIALIZATION, fan_in=x.shape[-1]))(x)


def _depthwise_initializers(kernel_size):
    return {"depthwise_initializer": TorchConvUniform(depthwise=True),
            "bias_initializer": TorchConvUniform(fan_in=kernel_size * kernel_size)}


def _official_conv_bn_relu(x, filters, kernel_size, name, norm, use_bias=False):
    fan_in = kernel_size * kernel_size * x.shape[-1]
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=use_bias,
                      name=f"{name}_conv", **conv_initializers(INITIALIZATION, fan_in))(x)
    x = lk_layers.norm_layer(norm, f"{name}_bn", **TORCH_BATCH_NORM)(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _official_head(features, inputs, num_classes, head_channels, cgnl_groups, norm,
                   aux_head, ld_initialization):
    """GALD's public ``GALDHead`` (+ its ``dsn`` auxiliary head), see the module doc."""
    x = _official_conv_bn_relu(features["res5"], head_channels, 3, "head_reduce", norm)
    g = layers.DepthwiseConv2D(3, strides=2, padding="valid", use_bias=True,
                               **_depthwise_initializers(3), name="ga_downsample_conv")(x)
    g = lk_layers.norm_layer(norm, "ga_downsample_bn", **TORCH_BATCH_NORM)(g)
    g = layers.Activation("relu", name="ga_downsample_relu")(g)
    g = lk_layers.CGNL(groups=cgnl_groups, use_scale=False, initialization=INITIALIZATION,
                       name="ga_cgnl")(g)
    g = ResizeToMatch(align_corners=True, name="ga_upsample")([g, x])
    x = lk_layers.LocalDistribution(
        variant="official", batch_norm=True, relu=True, norm=norm, name="ld",
        depthwise_initializer=LD_DEPTHWISE_INITIALIZERS[ld_initialization])(g)
    x = layers.Add(name="gald_residual")([x, g])
    x = _official_conv_bn_relu(x, head_channels, 3, "head_convb", norm)
    x = layers.Concatenate(name="head_concat")([features["res5"], x])
    x = _official_conv_bn_relu(x, head_channels, 3, "head_fuse", norm)
    x = _classifier(x, num_classes, "classifier")
    logits = _resize_logits(x, inputs, LOGITS)
    if not aux_head:
        return logits
    aux = _official_conv_bn_relu(features["res4"], head_channels, 3, "aux", norm,
                                 use_bias=True)
    aux = layers.SpatialDropout2D(0.1, name="aux_dropout")(aux)
    aux = _classifier(aux, num_classes, "aux_classifier")
    return {LOGITS: logits, AUX_LOGITS: _resize_logits(aux, inputs, AUX_LOGITS)}


def _resize_logits(x, reference, name):
    x = ResizeToMatch(align_corners=True, name=f"{name}_upsample")([x, reference])
    return layers.Activation("linear", dtype="float32", name=name)(x)


def _upsample_logits(x, factor, reference, name):
    x = layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_upsample")(x)
    x = CropToMatch(name=f"{name}_crop")([x, reference])
    return layers.Activation("linear", dtype="float32", name=name)(x)


def _paper_head(features, inputs, num_classes, ga, ld, arrangement, ld_downsample,
                ld_downsample_rate, aux_head, head_channels, cgnl_groups, output_stride, norm,
                ld_initialization):
    """The head of the module doc's first diagram (GALD Eq. 3)."""
    torch = {**conv_initializers(INITIALIZATION), **TORCH_NORM}
    x = conv_norm_act(features["res5"], head_channels, 3, name="head_reduce", norm=norm,
                      **torch)

    def global_aggregation(t):
        return GA_MODULES[ga](t, norm, cgnl_groups)

    def local_distribution(t):
        return lk_layers.LocalDistribution(
            downsample_rate=ld_downsample_rate, downsample=ld_downsample, norm=norm,
            depthwise_initializer=LD_DEPTHWISE_INITIALIZERS[ld_initialization], name="ld",
        )(t)

    if ga is not None and ld:
        x = ARRANGEMENTS[arrangement](x, global_aggregation, local_distribution)
    elif ga is not None:
        x = global_aggregation(x)
    elif ld:
        x = local_distribution(x)

    x = layers.Concatenate(name="head_concat")([features["res5"], x])
    x = conv_norm_act(x, head_channels, 3, name="head_fuse", norm=norm, **torch)
    x = layers.Dropout(0.1, name="head_dropout")(x)
    x = _classifier(x, num_classes, "classifier")
    outputs = _upsample_logits(x, output_stride, inputs, LOGITS)
    if aux_head:
        aux = conv_norm_act(features["res4"], head_channels // 2, 3, name="aux",
                            norm=norm, **torch)
        aux = layers.Dropout(0.1, name="aux_dropout")(aux)
        aux = _classifier(aux, num_classes, "aux_classifier")
        aux = _upsample_logits(aux, min(output_stride, 16), inputs, AUX_LOGITS)
        outputs = {LOGITS: outputs, AUX_LOGITS: aux}
    return outputs


@keras.saving.register_keras_serializable(package="keras_lk")
class GALDNet(SegmentationModel):
    """GALD-Net; each row of GALD Table 1(a)-(e) is one configuration.

    Args:
        num_classes: number of classes (19 for Cityscapes).
        backbone: a name of `keras_lk.backbones.BACKBONES`: ``"resnet50"`` (Table 1),
            ``"resnet101"`` (Table 1(d)), or ``"resnet18"`` / ``"resnet10_narrow"``
            (small, CPU runs); or a keras-hub ``Backbone`` with pyramid outputs P2..P5
            (an instance, or ``"keras_hub:<preset name or directory>"``; dilated to
            `output_stride`, see `keras_lk.backbones.hub`).
        ga: ``"cgnl"``, ``"nonlocal"``, ``"psp"``, ``"aspp"`` or None (Table 1(a)).
        ld: add Local Distribution (Table 1(b)).
        arrangement: ``"gald"``, ``"ldga"`` or ``"parallel"`` (Table 1(c)); used when
            both `ga` and `ld` are set.
        ld_downsample: ``"depthwise"``, ``"bilinear"`` or ``"average"`` (Table 1(e)).
        ld_downsample_rate: LD's downsampling rate (8 in the paper).
        ld_initialization: how LD's depth-wise kernels start: ``"torch"`` (default,
            GALD's public code: PyTorch's U(±1/√(k·k))) or ``"keras"`` (Keras's
            glorot_uniform, whose fan-in k·k·C starts them (C + 1)/6 times smaller in
            variance; keras_lk's start before it followed the public code, kept to
            measure what that change does). Only with LD's depth-wise downsampler.
        aux_head: add the auxiliary FCN head on res-4; the model then returns a dict
            ``{"logits", "aux_logits"}`` (trained with loss weights 1 and
            `aux_loss_weight`).
        aux_loss_weight: weight of the auxiliary loss (0.4, GALD's public code).
        head_channels: channels of the head convs (512).
        cgnl_groups: CGNL groups (8).
        variant: ``"paper"`` (Eq. 3, default) or ``"official"`` (the public code's head
            for CGNL + LD; see the module doc).
        backbone_weights: None, ``"imagenet"`` or a path, see `keras_lk.backbones`.
        output_stride: backbone output stride (8 in the paper; 16 or 32 for speed).
        use_sync_bn: synchronized BatchNormalization (every BatchNorm: backbone, head,
            GA and LD modules), as GALD trains.
        class_names: optional names of the classes.
        palette: optional RGB colour per class.
        normalization: input normalization; default the backbone's.
        ignore_label: label of void pixels.
        input_shape: input shape without batch axis.
        name: model name.

    Call arguments:
        images ``(batch, H, W, 3)``, normalized as ``normalization`` says.

    Returns:
        float32 logits ``(batch, H, W, num_classes)``, or a dict with ``"logits"`` and
        ``"aux_logits"`` when ``aux_head=True``.

    Example:
    >>> model = keras_lk.models.GALDNet(19, backbone="resnet18", ga="cgnl", ld=True)
    >>> model(np.zeros((1, 64, 64, 3)))["logits"].shape
    TensorShape([1, 64, 64, 19])

    Reference:
        Li et al., "Global Aggregation then Local Distribution in Fully Convolutional
        Networks", BMVC 2019, Fig. 2 and Table 1.
    """

    def __init__(
        self,
        num_classes=19,
        backbone="resnet50",
        ga="cgnl",
        ld=True,
        arrangement="gald",
        ld_downsample="depthwise",
        ld_downsample_rate=8,
        ld_initialization="torch",
        aux_head=True,
        aux_loss_weight=AUX_LOSS_WEIGHT,
        head_channels=512,
        cgnl_groups=8,
        variant="paper",
        backbone_weights=None,
        output_stride=8,
        use_sync_bn=False,
        class_names=None,
        palette=None,
        normalization=None,
        ignore_label=255,
        input_shape=(None, None, 3),
        name="gald_net",
        **kwargs,
    ):
        check_choice("ga", ga, (*GA_MODULES, None))
        check_choice("arrangement", arrangement, ARRANGEMENTS)
        check_choice("ld_downsample", ld_downsample, DOWNSAMPLERS)
        check_choice("variant", variant, VARIANTS)
        if variant == "official" and (ga, ld, arrangement, ld_downsample, ld_downsample_rate) \
                != ("cgnl", True, "gald", "depthwise", 8):
            raise ValueError(
                "`variant='official'` is the official code's CGNL + LD head: it needs "
                "ga='cgnl', ld=True, arrangement='gald', ld_downsample='depthwise', "
                f"ld_downsample_rate=8; received ga={ga!r}, ld={ld!r}, "
                f"arrangement={arrangement!r}, ld_downsample={ld_downsample!r}, "
                f"ld_downsample_rate={ld_downsample_rate!r}.")
        check_choice("ld_initialization", ld_initialization, INITIALIZATIONS)
        if ld_initialization != "torch" and not (ld and ld_downsample == "depthwise"):
            raise ValueError(
                "`ld_initialization` sets how LD's depth-wise kernels start: it needs "
                f"ld=True and ld_downsample='depthwise', received ld={ld!r}, "
                f"ld_downsample={ld_downsample!r} with "
                f"ld_initialization={ld_initialization!r}.")
        check_positive_int("head_channels", head_channels)
        check_positive_int("cgnl_groups", cgnl_groups)
        if not isinstance(aux_loss_weight, (int, float)) or aux_loss_weight < 0:
            raise ValueError(
                f"`aux_loss_weight` must be a number >= 0, received {aux_loss_weight!r}."
            )
        class_names, palette, normalization, backbone = self._check_segmentation_args(
            num_classes, class_names, palette, normalization, ignore_label, backbone)
        norm = norm_name(use_sync_bn)

        # === Functional Model ===
        inputs = keras.Input(shape=input_shape, name="image")
        features = get_backbone(
            backbone, weights=backbone_weights, input_tensor=inputs,
            output_stride=output_stride, use_sync_bn=use_sync_bn,
        ).output
        if variant == "official":
            outputs = _official_head(features, inputs, num_classes, head_channels,
                                     cgnl_groups, norm, aux_head, ld_initialization)
        else:
            outputs = _paper_head(
                features, inputs, num_classes, ga, ld, arrangement, ld_downsample,
                ld_downsample_rate, aux_head, head_channels, cgnl_groups, output_stride, norm,
                ld_initialization)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)


        # === Config ===
        self._set_segmentation_config(
            num_classes=num_classes, class_names=class_names, palette=palette,
            normalization=normalization, ignore_label=ignore_label, backbone=backbone,
            use_sync_bn=use_sync_bn, input_shape=input_shape)
        self.ga = ga
        self.ld = ld
        self.arrangement = arrangement
        self.ld_downsample = ld_downsample
        self.ld_downsample_rate = ld_downsample_rate
        self.ld_initialization = ld_initialization
        self.aux_head = aux_head
        self.aux_loss_weight = float(aux_loss_weight)
        self.head_channels = head_channels
        self.cgnl_groups = cgnl_groups
        self.variant = variant
        self.output_stride = output_stride

    @property
    def score_stride(self):
        """How many logits pixels a pixel of the head's score map spans, per side: the
        logits are the 1/`output_stride` map upsampled to the input."""
        return self.output_stride

    def output_loss_weights(self):
        if not self.aux_head:
            return {LOGITS: 1.0}
        return {LOGITS: 1.0, AUX_LOGITS: self.aux_loss_weight}

    def get_config(self):
        return {
            **self._segmentation_config(),
            "ga": self.ga,
            "ld": self.ld,
            "arrangement": self.arrangement,
            "ld_downsample": self.ld_downsample,
            "ld_downsample_rate": self.ld_downsample_rate,
            "ld_initialization": self.ld_initialization,
            "aux_head": self.aux_head,
            "aux_loss_weight": self.aux_loss_weight,
            "head_channels": self.head_channels,
            "cgnl_groups": self.cgnl_groups,
            "variant": self.variant,
            "output_stride": self.output_stride,
        }
