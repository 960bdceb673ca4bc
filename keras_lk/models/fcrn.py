"""FCRN: fully convolutional residual network (Wu, Shen, van den Hengel, 2016).

A dilated ResNet v1 (output stride 16 or 8) whose last pooling and classifier are
replaced by one dilated ``k x k`` convolution to the classes; the classifier's kernel
and dilation set the field of view (FoV), in input pixels::

    FoV = output_stride * ((kernel_size - 1) * dilation + 1)

which reproduces the FoV column of FCRN Tables 1 and 2 (1/8, k=3, d=6 → 104; 1/8, k=5,
d=12 → 392; 1/16, k=3, d=6 → 208). Dropout in the top-most blocks is Table 4's "Do."
column; the paper does not say which blocks or rate: we put ``Dropout(0.5)`` after each
res-5 block (our choice, adjustable).

Reference:
    Wu, Shen, van den Hengel, "High-performance Semantic Segmentation Using Very Deep
    Fully Convolutional Networks", arXiv:1604.04339, 2016.
"""

import keras
from keras import layers

from keras_lk.backbones import resnet
from keras_lk.layers._validation import check_odd_kernel_size, check_positive_int
from keras_lk.models.spatial import CropToMatch

FCRN_DEPTHS = {
    18: resnet.ResNet18,
    50: resnet.ResNet50,
    101: resnet.ResNet101,
    152: resnet.ResNet152,
}


def fcrn_field_of_view(output_stride, kernel_size, dilation):
    """Field of view of FCRN's classifier in input pixels (FCRN Tables 1-2)."""
    return output_stride * ((kernel_size - 1) * dilation + 1)


def FCRN(
    num_classes,
    depth=101,
    output_stride=8,
    kernel_size=5,
    dilation=12,
    dropout=False,
    dropout_rate=0.5,
    num_dropout_blocks=3,
    upsample_logits=True,
    backbone_weights=None,
    use_sync_bn=False,
    input_shape=(None, None, 3),
    name="fcrn",
):
    """Builds FCRN (one row of FCRN Table 1, 2 or 4 per call).

    Args:
        num_classes: number of classes (21 for PASCAL VOC, 19 for Cityscapes).
        depth: 50, 101 or 152 (the paper), or 18 (small, for tests).
        output_stride: 8 or 16 (the paper's "Resolution" 1/8, 1/16); 32 allowed.
        kernel_size: odd classifier kernel size (3, 5, 7 in the paper).
        dilation: classifier dilation (6, 12, 18 in the paper).
        dropout: Table 4 "Do.": dropout after the top-most blocks.
        dropout_rate: rate of that dropout.
        num_dropout_blocks: how many top-most blocks get it (default: the res-5 blocks).
        upsample_logits: upsample the score map bilinearly to the input size; with
            False the output is the ``1/output_stride`` score map (what the paper trains
            on, and what `HighResolutionSimulation` needs).
        backbone_weights: None, ``"imagenet"`` or a path, see `keras_lk.backbones`.
        use_sync_bn: synchronized BatchNormalization.
        input_shape: input shape without batch axis.
        name: model name.

    Returns:
        `keras.Model` from images to logits; the FoV is ``model.field_of_view``
        (also `fcrn_field_of_view`).

    Example:
    >>> model = keras_lk.models.FCRN(21, depth=101, output_stride=8, kernel_size=5,
    ...                              dilation=12)
    >>> model.field_of_view
    392

    Reference:
        Wu et al., "High-performance Semantic Segmentation Using Very Deep Fully
        Convolutional Networks", 2016, Tables 1, 2 and 4.
    """
    if depth not in FCRN_DEPTHS:
        raise ValueError(f"`depth` must be one of {sorted(FCRN_DEPTHS)}, received {depth!r}.")
    check_odd_kernel_size("kernel_size", kernel_size)
    check_positive_int("dilation", dilation)
    check_positive_int("num_classes", num_classes)
    backbone = FCRN_DEPTHS[depth](
        weights=backbone_weights,
        input_shape=input_shape,
        output_stride=output_stride,
        use_sync_bn=use_sync_bn,
        dropout_rate=dropout_rate if dropout else 0.0,
        num_dropout_blocks=num_dropout_blocks if dropout else 0,
    )
    inputs = backbone.input
    features = backbone.output["res5"]
    logits = layers.Conv2D(
        num_classes, kernel_size, dilation_rate=dilation, padding="same",
        name="classifier",
    )(features)
    if upsample_logits:
        logits = layers.UpSampling2D(output_stride, interpolation="bilinear",
                                     name="upsample")(logits)
        logits = CropToMatch(name="crop")([logits, inputs])
    # float32 logits under mixed precision (the loss' softmax needs them).
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    model = keras.Model(inputs, logits, name=name)
    model.output_stride = output_stride
    model.field_of_view = fcrn_field_of_view(output_stride, kernel_size, dilation)
    return model
