"""GCN segmentation network (Peng et al., "Large Kernel Matters", Fig. 2A).

Read top to bottom like the figure::

    image ─ pad to a multiple of 32 ─ ResNet ─┬ res-2 ─ head ─ BR ───────────────┐
                                              ├ res-3 ─ head ─ BR ─────────┐     │
                                              ├ res-4 ─ head ─ BR ───┐     │     │
                                              └ res-5 ─ head ─ BR ─ deconv ─ + ─ BR ─ deconv
                                                                   ... + ─ BR ─ deconv ─ BR
                                                                   ─ deconv ─ BR ─ crop

The head on each stage is GCN (Fig. 2B, default) or one of the baselines of GCN
Tables 1-4 ("conv1x1", "conv_kxk" = Fig. 4C, "stack3x3" = Fig. 4D). Score maps are
upsampled by deconvolution (kernel 4, stride 2, no bias, bilinear initialisation). The
input is zero-padded to a multiple of 32 and the logits cropped back, so any input size
works; logits are float32 (a `logits` layer casts them under mixed precision).

Reference:
    Peng et al., "Large Kernel Matters -- Improve Semantic Segmentation by Global
    Convolutional Network", CVPR 2017, Sec. 3.3, Fig. 2, Tables 1-5.
"""

import keras
from keras import layers

from keras_lk import layers as lk_layers
from keras_lk.backbones import get_backbone
from keras_lk.layers import BilinearUpsampleInitializer, CropToMatch, PadToMultiple
from keras_lk.layers._validation import check_choice, check_odd_kernel_size
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel

STAGES = ("res2", "res3", "res4", "res5")


# === The heads of GCN Tables 1-4 and of the large-kernel line after GCN, by name ===
# A head is `factory(num_classes, k, stack_channels, name) -> layer`; adding one is its
# layer file plus one line here.
def _context_head(context):
    return lambda c, k, m, name: lk_layers.ContextHead(c, context=context, kernel_size=k,
                                                       name=name)


HEADS = {
    "gcn": lambda c, k, m, name: lk_layers.GlobalConv(c, kernel_size=k, name=name),
    "conv1x1": lambda c, k, m, name: lk_layers.LargeKernelConv(c, kernel_size=1, name=name),
    "conv_kxk": lambda c, k, m, name: lk_layers.LargeKernelConv(c, kernel_size=k, name=name),
    "stack3x3": lambda c, k, m, name: lk_layers.ConvStack3x3(
        c, kernel_size=k, intermediate_filters=m, name=name),
    # The large-kernel line after GCN: a depth-wise context block of size k, then 1×1.
    **{context: _context_head(context) for context in lk_layers.CONTEXTS},
}
STACK_CHANNELS = 2048  # default width m of the 3x3 stack (GCN Table 4)


def _refine(x, boundary_refine, name):
    return lk_layers.BoundaryRefine(name=name)(x) if boundary_refine else x


def _deconv(x, num_classes, name):
    return layers.Conv2DTranspose(
        num_classes, 4, strides=2, padding="same", use_bias=False,
        kernel_initializer=BilinearUpsampleInitializer(), name=name,
    )(x)


@keras.saving.register_keras_serializable(package="keras_lk")
class GCNSeg(SegmentationModel):
    """The GCN network of Fig. 2A; each row of GCN Tables 1-5 is one configuration.

    Args:
        num_classes: number of classes (21 for PASCAL VOC, 19 for Cityscapes).
        k: kernel size of the heads (odd; 15 on VOC, 25 on Cityscapes; any size works).
        backbone: a name of `keras_lk.backbones.BACKBONES`: ``"resnet152"`` (the paper),
            ``"resnet101"``, ``"resnet50"``, ``"resnet50_gcn"`` (Table 6), ``"resnet18"``
            or ``"resnet10_narrow"`` (small, CPU runs); or a keras-hub ``Backbone`` with pyramid outputs P2..P5 (an instance, or
            ``"keras_hub:<preset name or directory>"``; see `keras_lk.backbones.hub`).
        head: ``"gcn"`` (Fig. 2B), ``"conv1x1"`` (Table 1 "base"), ``"conv_kxk"``
            (Fig. 4C, Tables 2-3) or ``"stack3x3"`` (Fig. 4D, Table 4); or a
            `keras_lk.layers.ContextHead` of size k, the large-kernel line after GCN:
            ``"msca"`` (SegNeXt's attention alone), ``"msca_block"`` (in SegNeXt's
            residual unit), ``"replk"`` (RepLKNet), ``"dilated_reparam"``
            (UniRepLKNet); see `HEADS`.
        boundary_refine: use the BR blocks (Table 5); False gives Tables 1-4's model.
        stack_channels: intermediate channels of ``"stack3x3"`` (Table 4 "m");
            default 2048.
        backbone_weights: None, ``"imagenet"`` or a path, see `keras_lk.backbones`;
            loaded when the model is built (a reloaded model keeps its trained weights).
        output_stride: backbone output stride; the decoder needs 32 (default).
        use_sync_bn: synchronized BatchNormalization (every BatchNorm of the model).
        class_names: optional names of the classes (``num_classes`` of them).
        palette: optional RGB colour per class, for masks and plots.
        normalization: input normalization (`keras_lk.data.NORMALIZATIONS`); default the
            backbone's (``"caffe"`` for the ResNets).
        ignore_label: label of void pixels, excluded from losses and metrics.
        input_shape: input shape without batch axis.
        name: model name.

    Call arguments:
        images ``(batch, H, W, 3)``, normalized as ``normalization`` says.

    Returns:
        float32 logits ``(batch, H, W, num_classes)``.

    Example:
    >>> model = keras_lk.models.GCNSeg(num_classes=21, k=15, backbone="resnet18")
    >>> model(np.zeros((2, 97, 131, 3))).shape
    TensorShape([2, 97, 131, 21])

    Reference:
        Peng et al., "Large Kernel Matters", CVPR 2017, Fig. 2A.
    """

    def __init__(
        self,
        num_classes=21,
        k=15,
        backbone="resnet152",
        head="gcn",
        boundary_refine=True,
        stack_channels=None,
        backbone_weights=None,
        output_stride=32,
        use_sync_bn=False,
        class_names=None,
        palette=None,
        normalization=None,
        ignore_label=255,
        input_shape=(None, None, 3),
        name="gcn_seg",
        **kwargs,
    ):
        check_choice("head", head, HEADS)
        check_odd_kernel_size("k", k)
        class_names, palette, normalization, backbone = self._check_segmentation_args(
            num_classes, class_names, palette, normalization, ignore_label, backbone)
        if output_stride != 32:
            raise ValueError(
                f"`output_stride` must be 32 for the GCN decoder, received {output_stride!r}."
            )
        if head != "stack3x3" and stack_channels is not None:
            raise ValueError(
                f"`stack_channels` applies to head='stack3x3' only, received "
                f"{stack_channels!r} with head={head!r}."
            )
        width = STACK_CHANNELS if stack_channels is None else stack_channels

        # === Functional Model ===
        inputs = keras.Input(shape=input_shape, name="image")
        padded = PadToMultiple(32, name="pad")(inputs)
        features = get_backbone(
            backbone, weights=backbone_weights, input_tensor=padded, use_sync_bn=use_sync_bn
        ).output
        # One head + BR per stage (Fig. 2A, left column).
        scores = {
            stage: _refine(
                HEADS[head](num_classes, k, width, f"{stage}_{head}")(features[stage]),
                boundary_refine, f"{stage}_br",
            )
            for stage in STAGES
        }
        # Coarse to fine: deconv x2, add the finer stage's score map, BR.
        x = scores["res5"]
        for coarse, fine in (("res5", "res4"), ("res4", "res3"), ("res3", "res2")):
            x = _deconv(x, num_classes, f"{coarse}_deconv")
            x = layers.Add(name=f"{fine}_add")([scores[fine], x])
            x = _refine(x, boundary_refine, f"{fine}_fuse_br")
        # Two more x2 deconvolutions with BR to the input resolution.
        for i in (1, 2):
            x = _deconv(x, num_classes, f"up{i}_deconv")
            x = _refine(x, boundary_refine, f"up{i}_br")
        x = CropToMatch(name="crop")([x, inputs])
        logits = layers.Activation("linear", dtype="float32", name=LOGITS)(x)
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)

        # === Config ===
        self._set_segmentation_config(
            num_classes=num_classes, class_names=class_names, palette=palette,
            normalization=normalization, ignore_label=ignore_label, backbone=backbone,
            use_sync_bn=use_sync_bn, input_shape=input_shape)
        self.k = k
        self.head = head
        self.boundary_refine = boundary_refine
        self.stack_channels = stack_channels
        self.output_stride = output_stride

    def get_config(self):
        return {
            **self._segmentation_config(),
            "k": self.k,
            "head": self.head,
            "boundary_refine": self.boundary_refine,
            "stack_channels": self.stack_channels,
            "output_stride": self.output_stride,
        }
