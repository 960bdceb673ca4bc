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

from keras_lk.backbones import get_backbone
from keras_lk.layers._validation import check_odd_kernel_size, check_positive_int
from keras_lk.layers.spatial import CropToMatch
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel


def fcrn_field_of_view(output_stride, kernel_size, dilation):
    """Field of view of FCRN's classifier in input pixels (FCRN Tables 1-2)."""
    return output_stride * ((kernel_size - 1) * dilation + 1)


@keras.saving.register_keras_serializable(package="keras_lk")
class FCRN(SegmentationModel):
    """FCRN; one row of FCRN Table 1, 2 or 4 per configuration.

    Args:
        num_classes: number of classes (21 for PASCAL VOC, 19 for Cityscapes).
        backbone: a name of `keras_lk.backbones.BACKBONES`: ``"resnet50"``,
            ``"resnet101"``, ``"resnet152"`` (the paper's depths), or ``"resnet18"`` /
            ``"resnet10_narrow"`` (small, CPU runs); or a keras-hub ``Backbone`` with pyramid outputs P2..P5 (an instance, or
            ``"keras_hub:<preset name or directory>"``; see `keras_lk.backbones.hub`).
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
        use_sync_bn: synchronized BatchNormalization (every BatchNorm of the model).
        class_names: optional names of the classes.
        palette: optional RGB colour per class.
        normalization: input normalization; default the backbone's.
        ignore_label: label of void pixels.
        input_shape: input shape without batch axis.
        name: model name.

    Call arguments:
        images ``(batch, H, W, 3)``, normalized as ``normalization`` says.

    Returns:
        float32 logits; the FoV is ``model.field_of_view`` (also `fcrn_field_of_view`).

    Example:
    >>> model = keras_lk.models.FCRN(21, backbone="resnet101", output_stride=8,
    ...                              kernel_size=5, dilation=12)
    >>> model.field_of_view
    392

    Reference:
        Wu et al., "High-performance Semantic Segmentation Using Very Deep Fully
        Convolutional Networks", 2016, Tables 1, 2 and 4.
    """

    def __init__(
        self,
        num_classes=21,
        backbone="resnet101",
        output_stride=8,
        kernel_size=5,
        dilation=12,
        dropout=False,
        dropout_rate=0.5,
        num_dropout_blocks=3,
        upsample_logits=True,
        backbone_weights=None,
        use_sync_bn=False,
        class_names=None,
        palette=None,
        normalization=None,
        ignore_label=255,
        input_shape=(None, None, 3),
        name="fcrn",
        **kwargs,
    ):
        check_odd_kernel_size("kernel_size", kernel_size)
        check_positive_int("dilation", dilation)
        class_names, palette, normalization, backbone = self._check_segmentation_args(
            num_classes, class_names, palette, normalization, ignore_label, backbone)

        # === Functional Model ===
        model_backbone = get_backbone(
            backbone,
            weights=backbone_weights,
            input_shape=input_shape,
            output_stride=output_stride,
            use_sync_bn=use_sync_bn,
            dropout_rate=dropout_rate if dropout else 0.0,
            num_dropout_blocks=num_dropout_blocks if dropout else 0,
        )
        inputs = model_backbone.input
        logits = layers.Conv2D(
            num_classes, kernel_size, dilation_rate=dilation, padding="same",
            name="classifier",
        )(model_backbone.output["res5"])
        if upsample_logits:
            logits = layers.UpSampling2D(output_stride, interpolation="bilinear",
                                         name="upsample")(logits)
            logits = CropToMatch(name="crop")([logits, inputs])
        # float32 logits under mixed precision (the loss' softmax needs them).
        logits = layers.Activation("linear", dtype="float32", name=LOGITS)(logits)
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)

        # === Config ===
        self._set_segmentation_config(
            num_classes=num_classes, class_names=class_names, palette=palette,
            normalization=normalization, ignore_label=ignore_label, backbone=backbone,
            use_sync_bn=use_sync_bn, input_shape=input_shape)
        self.output_stride = output_stride
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.dropout = dropout
        self.dropout_rate = dropout_rate
        self.num_dropout_blocks = num_dropout_blocks
        self.upsample_logits = upsample_logits

    @property
    def score_stride(self):
        """How many logits pixels a pixel of the classifier's score map spans, per side:
        `output_stride` when the logits are upsampled to the input, else 1."""
        return self.output_stride if self.upsample_logits else 1

    @property
    def field_of_view(self):
        """The classifier's field of view in input pixels (FCRN Tables 1-2)."""
        return fcrn_field_of_view(self.output_stride, self.kernel_size, self.dilation)

    def get_config(self):
        return {
            **self._segmentation_config(),
            "output_stride": self.output_stride,
            "kernel_size": self.kernel_size,
            "dilation": self.dilation,
            "dropout": self.dropout,
            "dropout_rate": self.dropout_rate,
            "num_dropout_blocks": self.num_dropout_blocks,
            "upsample_logits": self.upsample_logits,
        }
