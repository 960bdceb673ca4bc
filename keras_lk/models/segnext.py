"""SegNeXt (Guo et al., NeurIPS 2022): the MSCAN encoder and the light Hamburger decoder.

Read top to bottom like the paper's Fig. 3 and the official ``LightHamHead``::

    image ─ MSCAN ─┬ res3 (1/8) ───────────────┐
                   ├ res4 (1/16) ─ resize ─────┼ concat ─ squeeze: 1×1 + GN + ReLU
                   └ res5 (1/32) ─ resize ─────┘
      ─ Hamburger: h = ReLU(1×1 (bias)); h = NMF(h); h = GN(1×1(h)); ReLU(x + h)
      ─ align: 1×1 + GN + ReLU ─ dropout 0.1 ─ 1×1 classifier ─ resize to the input

Stage 1 (res2) is not used, as the paper says (its features are too low-level and
cost much at 1/4). Resizes are bilinear with half-pixel centres (``align_corners=
False``, as the official config). The NMF is `keras_lk.layers.NMF2D` (rank 16 in
SegNeXt-T's config, 6 steps in training and 7 at inference, backpropagated through
every step as the official code does; ``nmf_gradient="one_step"`` is HamNet's
one-step gradient).

Fidelity to the official code (``mmseg/models/decode_heads/ham_head.py`` and mmcv's
``ConvModule``): the head's convolutions followed by a norm have no bias, ``ham_in``
has one; GroupNorm has 32 groups and PyTorch's epsilon 1e-5; the 1×1 convolutions start
as mmcv's ``kaiming_init`` (N(0, 2 / fan_out), zero bias), the classifier as
``BaseDecodeHead``'s ``normal_init(std=0.01)``; the dropout is ``nn.Dropout2d`` (whole
channels, `SpatialDropout2D`).

Reference:
    Guo et al., "SegNeXt: Rethinking Convolutional Attention Design for Semantic
    Segmentation", NeurIPS 2022, Sec. 3.2, Fig. 3; official
    https://github.com/Visual-Attention-Network/SegNeXt
    (``local_configs/segnext/tiny/segnext.tiny.512x512.ade.160k.py``); Geng et al.,
    "Is Attention Better Than Matrix Decomposition?", ICLR 2021.
"""

import keras
from keras import layers

from keras_lk.backbones import get_backbone
from keras_lk.layers._validation import check_choice, check_positive_int
from keras_lk.layers.nmf2d import GRADIENTS, NMF2D
from keras_lk.layers.spatial import ResizeToMatch
from keras_lk.models.segmentation_model import LOGITS, SegmentationModel

DECODER_STAGES = ("res3", "res4", "res5")  # the official in_index=[1, 2, 3]
SCORE_STRIDE = 8  # the decoder's score map is at res3's stride
_GROUP_NORM_EPSILON = 1e-5  # nn.GroupNorm's default


def _kaiming_fan_out():
    # mmcv's kaiming_init (mode="fan_out", nonlinearity="relu", normal): N(0, 2 / fan_out).
    return keras.initializers.VarianceScaling(2.0, mode="fan_out",
                                              distribution="untruncated_normal")


def _conv_group_norm(x, filters, groups, name, activation="relu"):
    """mmcv ``ConvModule(k=1, norm_cfg=GN)``: 1×1 conv without bias → GroupNorm → act."""
    x = layers.Conv2D(filters, 1, use_bias=False, kernel_initializer=_kaiming_fan_out(),
                      name=f"{name}_conv")(x)
    x = layers.GroupNormalization(groups, epsilon=_GROUP_NORM_EPSILON, name=f"{name}_gn")(x)
    return x if activation is None else layers.Activation(activation,
                                                          name=f"{name}_{activation}")(x)


def _hamburger(x, rank, train_steps, eval_steps, gradient, groups, seed):
    """The official ``Hamburger``: lower bread, NMF ham, upper bread, residual."""
    h = layers.Conv2D(x.shape[-1], 1, kernel_initializer=_kaiming_fan_out(),
                      name="ham_in_conv")(x)
    h = layers.Activation("relu", name="ham_in_relu")(h)
    h = NMF2D(rank=rank, train_steps=train_steps, eval_steps=eval_steps, gradient=gradient,
              seed=seed, name="ham_nmf")(h)
    h = _conv_group_norm(h, x.shape[-1], groups, "ham_out", activation=None)
    h = layers.Add(name="ham_add")([x, h])
    return layers.Activation("relu", name="ham_relu")(h)


@keras.saving.register_keras_serializable(package="keras_lk")
class SegNeXt(SegmentationModel):
    """SegNeXt: an MSCAN encoder and the light Hamburger decoder (SegNeXt-T by default).

    Args:
        num_classes: number of classes (150 for ADE20K, 19 for Cityscapes).
        backbone: a name of `keras_lk.backbones.BACKBONES`: ``"mscan_t"`` (SegNeXt-T),
            or any backbone whose res3..res5 the decoder can read (``"resnet10_narrow"``
            for CPU runs); or a keras-hub ``Backbone`` with pyramid outputs P2..P5.
        ham_channels: channels of the squeeze conv and the Hamburger (256 for T).
        channels: channels of the align conv, the classifier's input (256 for T).
        nmf_rank: NMF bases R (``MD_R``: 16 in the T configs).
        nmf_train_steps: multiplicative updates in training (6).
        nmf_eval_steps: updates at inference (7).
        nmf_gradient: ``"unrolled"`` (the official code) or ``"one_step"`` (HamNet's
            one-step gradient); see `keras_lk.layers.nmf2d.GRADIENTS`.
        nmf_seed: seed of the NMF's starting bases (None: from Keras's global seed in
            training; inference uses `nmf_seed` or 0).
        norm_groups: GroupNorm groups of the decoder (32).
        dropout_rate: channel dropout before the classifier (0.1).
        backbone_weights: None or a path (``.weights.h5``), see `keras_lk.backbones`.
        use_sync_bn: synchronized BatchNormalization (every BatchNorm of the backbone;
            the decoder normalizes with GroupNorm).
        class_names: optional names of the classes.
        palette: optional RGB colour per class.
        normalization: input normalization; default the backbone's (``"torch"`` for
            MSCAN: ImageNet mean and std, as the official pipeline).
        ignore_label: label of void pixels.
        input_shape: input shape without batch axis.
        name: model name.

    Call arguments:
        images ``(batch, H, W, 3)``, normalized as ``normalization`` says.

    Returns:
        float32 logits ``(batch, H, W, num_classes)``.

    Example:
    >>> model = keras_lk.models.SegNeXt(150)               # SegNeXt-T on ADE20K
    >>> model(np.zeros((1, 64, 64, 3))).shape
    TensorShape([1, 64, 64, 150])

    Reference:
        Guo et al., "SegNeXt", NeurIPS 2022, Sec. 3.2, Fig. 3.
    """

    def __init__(
        self,
        num_classes=150,
        backbone="mscan_t",
        ham_channels=256,
        channels=256,
        nmf_rank=16,
        nmf_train_steps=6,
        nmf_eval_steps=7,
        nmf_gradient="unrolled",
        nmf_seed=None,
        norm_groups=32,
        dropout_rate=0.1,
        backbone_weights=None,
        use_sync_bn=False,
        class_names=None,
        palette=None,
        normalization=None,
        ignore_label=255,
        input_shape=(None, None, 3),
        name="segnext",
        **kwargs,
    ):
        check_positive_int("ham_channels", ham_channels)
        check_positive_int("channels", channels)
        check_positive_int("norm_groups", norm_groups)
        for arg, value in (("ham_channels", ham_channels), ("channels", channels)):
            if value % norm_groups:
                raise ValueError(f"`{arg}` must be a multiple of `norm_groups`={norm_groups} "
                                 f"(GroupNorm), received {value!r}.")
        check_choice("nmf_gradient", nmf_gradient, GRADIENTS)
        if isinstance(dropout_rate, bool) or not isinstance(dropout_rate, (int, float)) \
                or not 0.0 <= dropout_rate < 1.0:
            raise ValueError(f"`dropout_rate` must be in [0, 1), received {dropout_rate!r}.")
        class_names, palette, normalization, backbone = self._check_segmentation_args(
            num_classes, class_names, palette, normalization, ignore_label, backbone)
        # NMF2D checks its own arguments; built here so a bad one fails before the graph.
        NMF2D(rank=nmf_rank, train_steps=nmf_train_steps, eval_steps=nmf_eval_steps,
              gradient=nmf_gradient, seed=nmf_seed)

        # === Functional Model ===
        inputs = keras.Input(shape=input_shape, name="image")
        features = get_backbone(backbone, weights=backbone_weights, input_tensor=inputs,
                                use_sync_bn=use_sync_bn).output
        finest = features[DECODER_STAGES[0]]
        levels = [finest] + [ResizeToMatch(name=f"{stage}_resize")([features[stage], finest])
                             for stage in DECODER_STAGES[1:]]
        x = layers.Concatenate(name="decoder_concat")(levels)
        x = _conv_group_norm(x, ham_channels, norm_groups, "squeeze")
        x = _hamburger(x, nmf_rank, nmf_train_steps, nmf_eval_steps, nmf_gradient,
                       norm_groups, nmf_seed)
        x = _conv_group_norm(x, channels, norm_groups, "align")
        x = layers.SpatialDropout2D(dropout_rate, name="dropout")(x)
        x = layers.Conv2D(num_classes, 1, name="classifier",
                          kernel_initializer=keras.initializers.RandomNormal(stddev=0.01))(x)
        x = ResizeToMatch(name="upsample")([x, inputs])
        # float32 logits under mixed precision (the loss' softmax needs them).
        logits = layers.Activation("linear", dtype="float32", name=LOGITS)(x)
        super().__init__(inputs=inputs, outputs=logits, name=name, **kwargs)

        # === Config ===
        self._set_segmentation_config(
            num_classes=num_classes, class_names=class_names, palette=palette,
            normalization=normalization, ignore_label=ignore_label, backbone=backbone,
            use_sync_bn=use_sync_bn, input_shape=input_shape)
        self.ham_channels = ham_channels
        self.channels = channels
        self.nmf_rank = nmf_rank
        self.nmf_train_steps = nmf_train_steps
        self.nmf_eval_steps = nmf_eval_steps
        self.nmf_gradient = nmf_gradient
        self.nmf_seed = nmf_seed
        self.norm_groups = norm_groups
        self.dropout_rate = float(dropout_rate)

    @property
    def score_stride(self):
        """How many logits pixels a pixel of the decoder's score map spans, per side:
        the logits are the 1/8 map upsampled to the input."""
        return SCORE_STRIDE

    def get_config(self):
        return {
            **self._segmentation_config(),
            "ham_channels": self.ham_channels,
            "channels": self.channels,
            "nmf_rank": self.nmf_rank,
            "nmf_train_steps": self.nmf_train_steps,
            "nmf_eval_steps": self.nmf_eval_steps,
            "nmf_gradient": self.nmf_gradient,
            "nmf_seed": self.nmf_seed,
            "norm_groups": self.norm_groups,
            "dropout_rate": self.dropout_rate,
        }
