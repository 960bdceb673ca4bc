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
The auxiliary head's loss weight is `AUX_LOSS_WEIGHT` (0.4, as GALD's public code).

Reference:
    Li et al., "Global Aggregation then Local Distribution in Fully Convolutional
    Networks", BMVC 2019, Sec. 3-4, Fig. 2-3, Table 1.
"""

import keras
from keras import layers

from keras_lk import layers as lk_layers
from keras_lk.backbones import get_backbone
from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.layers.local_distribution import DOWNSAMPLERS
from keras_lk.models.spatial import CropToMatch

AUX_LOSS_WEIGHT = 0.4
GA_MODULES = ("cgnl", "nonlocal", "psp", "aspp")
ARRANGEMENTS = ("gald", "ldga", "parallel")


def _conv_bn_relu(x, filters, kernel_size, name):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _global_aggregation(x, ga, groups):
    """GA module; CGNL and Non-local run on a 2x depthwise-downsampled map (GALD)."""
    if ga in ("psp", "aspp"):
        module = (lk_layers.PyramidPooling(name="ga_psp") if ga == "psp"
                  else lk_layers.ASPP(name="ga_aspp"))
        return module(x)
    y = layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False,
                               name="ga_downsample_conv")(x)
    y = layers.BatchNormalization(name="ga_downsample_bn")(y)
    y = layers.ReLU(name="ga_downsample_relu")(y)
    module = (lk_layers.CGNL(groups=groups, name="ga_cgnl") if ga == "cgnl"
              else lk_layers.NonLocal(name="ga_nonlocal"))
    y = module(y)
    y = layers.UpSampling2D(2, interpolation="bilinear", name="ga_upsample")(y)
    return CropToMatch(name="ga_crop")([y, x])


def _upsample_logits(x, factor, reference, name):
    x = layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_upsample")(x)
    x = CropToMatch(name=f"{name}_crop")([x, reference])
    return layers.Activation("linear", dtype="float32", name=name)(x)


def GALDNet(
    num_classes,
    backbone="resnet50",
    ga="cgnl",
    ld=True,
    arrangement="gald",
    ld_downsample="depthwise",
    ld_downsample_rate=8,
    aux_head=True,
    head_channels=512,
    cgnl_groups=8,
    backbone_weights=None,
    output_stride=8,
    use_sync_bn=False,
    input_shape=(None, None, 3),
    name="gald_net",
):
    """Builds GALD-Net; each row of GALD Table 1(a)-(e) is one call.

    Args:
        num_classes: number of classes (19 for Cityscapes).
        backbone: ``"resnet50"`` (Table 1), ``"resnet101"`` (Table 1(d)), or
            ``"resnet18"`` (small, for tests).
        ga: ``"cgnl"``, ``"nonlocal"``, ``"psp"``, ``"aspp"`` or None (Table 1(a)).
        ld: add Local Distribution (Table 1(b)).
        arrangement: ``"gald"``, ``"ldga"`` or ``"parallel"`` (Table 1(c)); used when
            both `ga` and `ld` are set.
        ld_downsample: ``"depthwise"``, ``"bilinear"`` or ``"average"`` (Table 1(e)).
        ld_downsample_rate: LD's downsampling rate (8 in the paper).
        aux_head: add the auxiliary FCN head on res-4; the model then returns a dict
            ``{"logits", "aux_logits"}`` (train with loss weights 1 and
            `AUX_LOSS_WEIGHT`).
        head_channels: channels of the head convs (512).
        cgnl_groups: CGNL groups (8).
        backbone_weights: None, ``"imagenet"`` or a path, see `keras_lk.backbones`.
        output_stride: backbone output stride (8 in the paper; 16 or 32 for speed).
        use_sync_bn: synchronized BatchNormalization in the backbone.
        input_shape: input shape without batch axis.
        name: model name.

    Returns:
        `keras.Model` from images to float32 logits ``(batch, H, W, num_classes)``, or a
        dict with ``"logits"`` and ``"aux_logits"`` when ``aux_head=True``.

    Example:
    >>> model = keras_lk.models.GALDNet(19, backbone="resnet18", ga="cgnl", ld=True)
    >>> model(np.zeros((1, 64, 64, 3)))["logits"].shape
    TensorShape([1, 64, 64, 19])

    Reference:
        Li et al., "Global Aggregation then Local Distribution in Fully Convolutional
        Networks", BMVC 2019, Fig. 2 and Table 1.
    """
    if ga is not None and ga not in GA_MODULES:
        raise ValueError(f"`ga` must be None or one of {GA_MODULES}, received {ga!r}.")
    check_choice("arrangement", arrangement, ARRANGEMENTS)
    check_choice("ld_downsample", ld_downsample, DOWNSAMPLERS)
    check_positive_int("num_classes", num_classes)

    inputs = keras.Input(shape=input_shape, name="image")
    model_backbone = get_backbone(
        backbone, weights=backbone_weights, input_tensor=inputs,
        output_stride=output_stride, use_sync_bn=use_sync_bn,
    )
    features = model_backbone.output

    x = _conv_bn_relu(features["res5"], head_channels, 3, "head_reduce")

    def local_distribution(t):
        return lk_layers.LocalDistribution(
            downsample_rate=ld_downsample_rate, downsample=ld_downsample, name="ld"
        )(t)

    if ga is not None and ld:
        if arrangement == "gald":
            x = local_distribution(_global_aggregation(x, ga, cgnl_groups))
        elif arrangement == "ldga":
            x = _global_aggregation(local_distribution(x), ga, cgnl_groups)
        else:
            x = layers.Concatenate(name="ga_ld_concat")(
                [_global_aggregation(x, ga, cgnl_groups), local_distribution(x)]
            )
    elif ga is not None:
        x = _global_aggregation(x, ga, cgnl_groups)
    elif ld:
        x = local_distribution(x)

    x = layers.Concatenate(name="head_concat")([features["res5"], x])
    x = _conv_bn_relu(x, head_channels, 3, "head_fuse")
    x = layers.Dropout(0.1, name="head_dropout")(x)
    x = layers.Conv2D(num_classes, 1, name="classifier")(x)
    logits = _upsample_logits(x, output_stride, inputs, "logits")
    if not aux_head:
        return keras.Model(inputs, logits, name=name)

    aux = _conv_bn_relu(features["res4"], head_channels // 2, 3, "aux")
    aux = layers.Dropout(0.1, name="aux_dropout")(aux)
    aux = layers.Conv2D(num_classes, 1, name="aux_classifier")(aux)
    aux = _upsample_logits(aux, min(output_stride, 16), inputs, "aux_logits")
    return keras.Model(inputs, {"logits": logits, "aux_logits": aux}, name=name)
