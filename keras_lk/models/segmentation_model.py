"""`SegmentationModel`: what the three families share once built.

GCNSeg, GALDNet and FCRN are functional-model classes (keras-hub style): ``__init__``
builds the graph, calls ``super().__init__(inputs=..., outputs=...)`` and stores its
arguments, which ``get_config()`` returns, so a reloaded ``.keras`` file is the same class
with the same settings. This base holds the settings every family has and the tools
read from a model instead of asking the user again:

- ``num_classes``, ``class_names``, ``palette`` (RGB per class), ``ignore_label``;
- ``normalization``: how input images are normalized (a name of
  `keras_lk.data.NORMALIZATIONS`; default the backbone's, see `keras_lk.backbones.BACKBONES`);
- the outputs and their loss weights (`output_loss_weights`): ``"logits"`` first,
  auxiliary outputs (GALD's ``"aux_logits"``) after it;
- ``compile(loss="auto", metrics="auto")``: the family's losses with their weights and
  the mIoU of the main output, as keras-hub's ``ImageSegmenter.compile`` does.
"""

from __future__ import annotations

import keras

from keras_lk.layers._validation import check_positive_int
from keras_lk.layers.preprocessing import NORMALIZATIONS
from keras_lk.losses import SegmentationCrossEntropy
from keras_lk.metrics import SegmentationMeanIoU

LOGITS = "logits"  # name of every family's main output


def _check_class_names(class_names, num_classes):
    if class_names is None:
        return None
    class_names = [str(name) for name in class_names]
    if len(class_names) != num_classes:
        raise ValueError(
            f"`class_names` must have `num_classes`={num_classes} names, received "
            f"{len(class_names)}: {class_names!r}."
        )
    return class_names


def _check_palette(palette, num_classes):
    if palette is None:
        return None
    rows = [list(color) for color in palette]
    if len(rows) < num_classes or any(
        len(c) != 3 or any(isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 255
                           for v in c) for c in rows):
        raise ValueError(
            f"`palette` must hold at least `num_classes`={num_classes} RGB triples of "
            f"integers in [0, 255], received {palette!r}."
        )
    return rows


def _check_normalization(normalization):
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"`normalization` must be one of {NORMALIZATIONS}, received {normalization!r}."
        )
    return normalization


class SegmentationModel(keras.Model):
    """Base of the keras_lk segmentation families; not built on its own.

    A subclass builds its graph, calls ``super().__init__(inputs=..., outputs=...)``,
    then `_set_segmentation_config` and its own config attributes, and returns all its
    arguments from ``get_config()`` (starting from `_segmentation_config`).
    """

    def _set_segmentation_config(self, *, num_classes, class_names, palette, normalization,
                                 ignore_label, backbone, use_sync_bn, input_shape):
        self.num_classes = num_classes
        self.class_names = class_names
        self.palette = palette
        self.normalization = normalization
        self.ignore_label = ignore_label
        from keras_lk.backbones import hub

        # A keras-hub backbone is kept as its architecture's config (see `hub`).
        self.backbone_name = hub.serialize(backbone) if hub.is_hub_backbone(backbone) \
            else backbone
        self.use_sync_bn = use_sync_bn
        self.image_shape = tuple(input_shape)  # `input_shape` is a Functional property

    @staticmethod
    def _check_segmentation_args(num_classes, class_names, palette, normalization,
                                 ignore_label, backbone):
        """Validates the shared arguments; returns (class_names, palette, normalization,
        backbone), the backbone resolved once if it is a keras-hub one (a preset loads
        here, not again when the model is built)."""
        from keras_lk.backbones import backbone_normalization, hub

        check_positive_int("num_classes", num_classes)
        if hub.is_hub_backbone(backbone):
            backbone = hub.resolve(backbone)
        default_normalization = backbone_normalization(backbone)
        if isinstance(ignore_label, bool) or not isinstance(ignore_label, int) or (
                0 <= ignore_label < num_classes):
            raise ValueError(
                f"`ignore_label` must be an integer outside [0, {num_classes}), received "
                f"{ignore_label!r}."
            )
        return (_check_class_names(class_names, num_classes),
                _check_palette(palette, num_classes),
                _check_normalization(normalization or default_normalization), backbone)

    def _segmentation_config(self):
        return {
            "num_classes": self.num_classes,
            "class_names": self.class_names,
            "palette": self.palette,
            "normalization": self.normalization,
            "ignore_label": self.ignore_label,
            "backbone": self.backbone_name,
            # Weights are in the saved file: a reloaded model must not load them again.
            "backbone_weights": None,
            "use_sync_bn": self.use_sync_bn,
            "input_shape": self.image_shape,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # === What tools read from a model ===

    def call(self, inputs, training=None, mask=None):
        # An empty image would fail deep in a convolution with a traceback; the static
        # shape is known in eager calls and `predict`, so refuse it here.
        shape = getattr(inputs, "shape", None)
        if shape is not None and len(shape) == 4 and any(d == 0 for d in shape[1:]):
            raise ValueError(f"`images` must be (batch, H, W, 3) with H, W ≥ 1 and 3 channels, "
                             f"received shape {tuple(shape)}.")
        return super().call(inputs, training=training, mask=mask)

    def output_loss_weights(self) -> dict:
        """``{output name: loss weight}``, the main ``"logits"`` first."""
        return {LOGITS: 1.0}

    def targets(self, labels):
        """The training targets for `labels`, in the structure of the outputs."""
        names = self.output_loss_weights()
        return {name: labels for name in names} if len(names) > 1 else labels

    @staticmethod
    def main_logits(outputs):
        """The main logits of a call's `outputs` (a tensor, or a dict of outputs)."""
        return outputs[LOGITS] if isinstance(outputs, dict) else outputs

    def compile(self, optimizer="auto", loss="auto", metrics="auto", loss_weights="auto",
                **kwargs):
        """Compiles with the family's losses, loss weights and the main output's mIoU.

        Args:
            optimizer: a Keras optimizer; ``"auto"``: SGD, momentum 0.9, lr 1e-3.
            loss: ``"auto"`` (`keras_lk.losses.SegmentationCrossEntropy` ignoring
                ``ignore_label``), or one loss for every output (e.g. `OHEMLoss`), or a
                dict by output name.
            metrics: ``"auto"``: the mean IoU of ``"logits"`` ignoring ``ignore_label``
                (`keras_lk.metrics.SegmentationMeanIoU`).
            loss_weights: ``"auto"``: `output_loss_weights` (GALD: aux 0.4).
            **kwargs: passed to `keras.Model.compile` (``jit_compile``...).
        """
        names = self.output_loss_weights()
        multi = len(names) > 1
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(1e-3, momentum=0.9)
        if loss == "auto":
            loss = SegmentationCrossEntropy(ignore_label=self.ignore_label)
        if multi and not isinstance(loss, dict):
            loss = {name: loss for name in names}
        if loss_weights == "auto":
            loss_weights = dict(names) if multi else None
        if metrics == "auto":
            miou = SegmentationMeanIoU(self.num_classes, ignore_label=self.ignore_label)
            metrics = {LOGITS: [miou]} if multi else [miou]
        super().compile(optimizer=optimizer, loss=loss, loss_weights=loss_weights,
                        metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Recompiles a loaded model with what `compile` resolved when it was saved
        (Keras skips models whose `compile` is overridden unless they define this)."""
        config = keras.saving.deserialize_keras_object(config)
        super().compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)
