"""`TrainConfig`: every knob of a training run, frozen, JSON round-trippable.

The model's own options are not fields here: `model_options` holds them, checked
against the family's constructor (`keras_lk.models.MODELS`), so a new model option needs
no change to this file or the CLI. Facts of the dataset (classes, ignore label, splits)
come from `keras_lk.data.DATASETS`, the input normalization from the model (default: its
backbone's).
"""

from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

from keras_lk.losses import LOSSES
from keras_lk.training.optimizers import L2_TARGETS, OPTIMIZERS
from keras_lk.training.precision import PRECISIONS
from keras_lk.training.schedules import SCHEDULES
from keras_lk.training.strategy import STRATEGIES


def choices() -> dict:
    """The valid values of the fields that name a choice (also the CLI's `choices`)."""
    from keras_lk.backbones import BACKBONES
    from keras_lk.data import DATASETS
    from keras_lk.models import MODELS

    return {
        "model": MODELS.names(), "backbone": _BackboneChoices(BACKBONES.names()),
        "dataset": DATASETS.names(),
        "schedule": tuple(SCHEDULES), "loss": LOSSES, "optimizer": tuple(OPTIMIZERS),
        "precision": PRECISIONS, "strategy": STRATEGIES, "l2_on": tuple(L2_TARGETS),
    }


class _BackboneChoices(tuple):
    """The registered backbone names; ``"keras_hub:<preset>"`` is valid too."""

    def __contains__(self, value):
        from keras_lk.backbones import hub

        return super().__contains__(value) or (
            isinstance(value, str) and hub.is_hub_backbone(value))

    def __repr__(self):
        return super().__repr__()[:-1] + f", '{_HUB_CHOICE}')"


_HUB_CHOICE = "keras_hub:<preset name or directory>"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults: a tiny GCN on the built-in scenes, CPU-sized.

    Args:
        output_dir: run directory: model.keras, checkpoints/, backup/, logs/
            (TensorBoard), training_log.csv, config.json.
        model: model family of `keras_lk.models.MODELS` (gcn, gald, fcrn).
        model_options: the family's own options (its constructor's arguments, e.g.
            ``{"k": 15, "head": "gcn"}`` for gcn, ``{"ga": "cgnl"}`` for gald), checked
            against its signature.
        backbone: backbone of `keras_lk.backbones.BACKBONES`, or ``"keras_hub:<preset>"``
            (a keras-hub preset name or directory, `keras_lk.backbones.hub`).
        backbone_weights: None, "imagenet", "scenes" (packaged, see
            `keras_lk.backbones.PACKAGED_WEIGHT_NAMES`) or the path of a weights file
            (.weights.h5, or a legacy .h5 loaded by layer name) to start the backbone from.
        backbone_weights_sha256: None, or the SHA-256 the file of `backbone_weights` must
            have (`keras_lk.backbones.weights_file_sha256`): the recipes set it, so a run
            names the weights it started from and replaced packaged weights make another
            configuration, not a silent change.
        init_from: a trained model (.keras file or run directory) to start every weight
            from: a later stage of a staged schedule (GCN's VOC and Cityscapes stages);
            the model must have the same head, classes and backbone.
        freeze_batch_norm: fix the backbone's BatchNorm statistics and scales at their
            pretrained values (FCRN Sec. 3.2; batches too small for batch statistics).
        use_sync_bn: synchronized BatchNorm across replicas (every BatchNorm of the model).
        dataset: dataset of `keras_lk.data.DATASETS` (built-in scenes or a TFDS builder).
        data_dir: TFDS data directory (TFDS datasets).
        manual_dir: directory of the official archives (first use of a TFDS dataset).
        train_split: training split (default: the dataset's, e.g. train_aug for voc_sbd).
        allow_subset: prepare and use official archives that hold fewer examples than
            the official ones (a subset on purpose; refused otherwise).
        num_train_images: use only the first this many training images (None: all).
        image_size: side of the built-in scenes, pixels (None: 64); scenes only.
        crop_size: side of the square training crops.
        scale_range: random scale range MIN MAX.
        flip: random horizontal flip.
        batch_size: global batch size, split across replicas.
        steps: total training steps (a multiple of steps_per_epoch).
        steps_per_epoch: steps between backups (a Keras "epoch"); a killed run resumes
            from the last multiple of it.
        checkpoint_every: save checkpoints/step_NNNNNN.keras every this many steps (0: off).
        optimizer: sgd (the papers': momentum, L2 on kernels), adamw (SegNeXt's:
            `SegmentationAdamW`, PyTorch's AdamW with decoupled weight decay `l2`, betas
            0.9/0.999, ε 1e-8) or adam (for training small models from scratch in CPU
            minutes; takes neither l2 nor head_lr_multiplier: set l2 to 0).
        learning_rate: base learning rate.
        momentum: SGD momentum (GCN 0.99, GALD/FCRN 0.9).
        l2: L2 weight decay (GCN 5e-4), added to the gradient (Caffe/PyTorch style);
            with adamw, the decoupled decay ``w ← w − lr·l2·w`` (SegNeXt 0.01).
        l2_on: the variables `l2` decays: ``"kernels"`` (convolution kernels only, as
            Caffe and MXNet prototxts) or ``"all"`` (every trainable variable, as
            PyTorch's `SGD(weight_decay=...)`: GALD's public code) or ``"segnext"``
            (every variable but MSCAN's norms, as SegNeXt's official ``paramwise_cfg``;
            `keras_lk.training.optimizers.L2_TARGETS`).
        schedule: learning-rate schedule: poly, step or constant.
        poly_power: power of the poly schedule.
        step_size: steps between decays of the step schedule.
        step_gamma: decay factor of the step schedule.
        warmup_steps: linear warm-up steps.
        warmup_factor: the warm-up starts at the scheduled rate times this factor
            (0.1; SegNeXt's mmcv ``warmup_ratio`` 1e-6).
        head_lr_multiplier: learning-rate factor of the non-backbone (head) variables.
        loss: cross_entropy or ohem (see keras_lk.losses.OHEMLoss); with ohem, an
            auxiliary output (GALD's) takes plain cross-entropy, as GALD's script does.
        ohem_mode: fcrn or gald (see keras_lk.losses.OHEMLoss).
        ohem_threshold: OHEM probability threshold.
        ohem_min_kept: OHEM minimum kept pixels per image.
        loss_at_score_map: read the loss (and OHEM's selection) on the network's score map,
            1/`output_stride` of the crop (the logits resized to it, each cell's centre
            label; `keras_lk.losses.score_map`), as FCN and FCRN's Caffe models train;
            FCRN's K then counts score-map pixels. Needs a model whose logits
            upsample a score map (`score_stride`: FCRN, GALDNet) and crops of a
            multiple of its stride.
        precision: float32, mixed_float16, mixed_bfloat16 or auto (bf16 where supported).
        jit_compile: XLA compilation (float32 only).
        strategy: distribution strategy: default, mirrored, multi_worker or tpu.
        num_cpu_devices: logical CPU devices for the mirrored strategy without GPU.
        seed: seed of Python, NumPy, TF, the weights and the data order.
        deterministic: enable TF op determinism (bitwise-reproducible runs).
        num_classes: override the dataset's number of classes (None: the dataset's).
        tensorboard: write TensorBoard logs (needs the tensorboard package).
        verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    output_dir: str = "runs/default"
    model: str = "gcn"
    model_options: dict = dataclasses.field(default_factory=dict)
    backbone: str = "resnet18"
    backbone_weights: str | None = None
    backbone_weights_sha256: str | None = None
    init_from: str | None = None
    freeze_batch_norm: bool = False
    use_sync_bn: bool = False
    dataset: str = "scenes"
    data_dir: str | None = None
    manual_dir: str | None = None
    train_split: str | None = None
    allow_subset: bool = False
    num_train_images: int | None = None
    image_size: int | None = None
    crop_size: int = 64
    scale_range: tuple[float, float] | None = (0.75, 1.25)
    flip: bool = True
    batch_size: int = 4
    steps: int = 100
    steps_per_epoch: int = 20
    checkpoint_every: int = 0
    optimizer: str = "sgd"
    learning_rate: float = 0.001
    momentum: float = 0.9
    l2: float = 5e-4
    l2_on: str = "kernels"
    schedule: str = "poly"
    poly_power: float = 0.9
    step_size: int = 1000
    step_gamma: float = 0.1
    warmup_steps: int = 0
    warmup_factor: float = 0.1
    head_lr_multiplier: float = 1.0
    loss: str = "cross_entropy"
    ohem_mode: str = "gald"
    ohem_threshold: float = 0.7
    ohem_min_kept: int = 100_000
    loss_at_score_map: bool = False
    precision: str = "float32"
    jit_compile: bool = False
    strategy: str = "default"
    num_cpu_devices: int | None = None
    seed: int = 0
    deterministic: bool = False
    num_classes: int | None = None
    tensorboard: bool = True
    verbose: int = 1

    def __post_init__(self):
        from keras_lk.data import DATASETS
        from keras_lk.models import MODELS

        for field, valid in choices().items():
            if getattr(self, field) not in valid:
                raise ValueError(
                    f"`{field}` must be one of {valid}, received {getattr(self, field)!r}."
                )
        if not isinstance(self.model_options, dict):
            raise ValueError(  # noqa: TRY004  (one error type for every bad field)
                f"`model_options` must be a dict, received {self.model_options!r}."
            )
        # A private copy: the frozen config must not change when the caller's dict does.
        object.__setattr__(self, "model_options",
                           MODELS[self.model].check_options(self.model_options))
        for field in ("batch_size", "steps", "steps_per_epoch", "crop_size"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{field}` must be an integer ≥ 1, received {value!r}.")
        for field in ("num_classes", "num_train_images"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(
                    f"`{field}` must be None or an integer ≥ 1, received {value!r}."
                )
        if not isinstance(self.loss_at_score_map, bool):
            raise ValueError(  # noqa: TRY004  (one error type for every bad field)
                f"`loss_at_score_map` must be True or False, received "
                f"{self.loss_at_score_map!r}.")
        digest = self.backbone_weights_sha256
        if digest is not None and (
                self.backbone_weights in (None, "imagenet") or not isinstance(digest, str)
                or len(digest) != 64 or set(digest) - set("0123456789abcdef")):
            raise ValueError(
                "`backbone_weights_sha256` must be None or the 64 lower-case hex digits of "
                "the SHA-256 of a weights file named by `backbone_weights` (a packaged name "
                f"or a path), received {digest!r} with backbone_weights="
                f"{self.backbone_weights!r}.")
        if self.checkpoint_every < 0:
            raise ValueError(
                f"`checkpoint_every` must be ≥ 0, received {self.checkpoint_every!r}."
            )
        if self.steps % self.steps_per_epoch:
            raise ValueError(
                f"`steps` ({self.steps}) must be a multiple of `steps_per_epoch` "
                f"({self.steps_per_epoch})."
            )
        if not self.learning_rate > 0:
            raise ValueError(f"`learning_rate` must be > 0, received {self.learning_rate!r}.")
        if not 0 <= self.warmup_factor <= 1:
            raise ValueError(f"`warmup_factor` must be in [0, 1], received "
                             f"{self.warmup_factor!r}.")
        if self.optimizer == "adam" and (self.l2 or self.head_lr_multiplier != 1.0):
            raise ValueError(
                "`optimizer='adam'` takes neither `l2` nor `head_lr_multiplier`, received "
                f"l2={self.l2!r}, head_lr_multiplier={self.head_lr_multiplier!r}; set l2=0 "
                "and head_lr_multiplier=1, or use optimizer='sgd'."
            )
        if not 0 <= self.momentum < 1:
            raise ValueError(f"`momentum` must be in [0, 1), received {self.momentum!r}.")
        if self.jit_compile and self.precision != "float32":
            raise ValueError(
                f"`jit_compile=True` cannot be combined with `precision={self.precision!r}` "
                "(XLA fails with mixed precision here); use `precision='float32'`."
            )
        DATASETS[self.dataset].require_data_dir(self.data_dir)

    @property
    def epochs(self) -> int:
        return self.steps // self.steps_per_epoch

    # Fields that say where a run reads and writes and how it prints, not what it trains.
    IO_FIELDS = ("output_dir", "verbose", "tensorboard", "data_dir", "manual_dir")

    def training_fields(self) -> dict:
        """The fields that decide what is trained (all but `IO_FIELDS`), JSON types."""
        values = json.loads(self.to_json())
        return {key: value for key, value in values.items() if key not in self.IO_FIELDS}

    # Fields added after runs were recorded: left out of the fingerprint at their
    # defaults, so that the runs (results files, backups) recorded before keep their
    # fingerprints. A field added later belongs here.
    LATER_FIELDS: ClassVar[dict] = {"init_from": None, "freeze_batch_norm": False,
                                    "allow_subset": False, "l2_on": "kernels",
                                    "loss_at_score_map": False, "warmup_factor": 0.1,
                                    "backbone_weights_sha256": None}

    def fingerprint(self) -> str:
        """A hash of `training_fields`: two configs train the same run iff they agree."""
        import hashlib

        fields = {key: value for key, value in self.training_fields().items()
                  if key not in self.LATER_FIELDS or value != self.LATER_FIELDS[key]}
        text = json.dumps(fields, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        from keras_lk.models import MODELS

        values = json.loads(text)
        if values.get("scale_range") is not None:
            values["scale_range"] = tuple(values["scale_range"])
        # JSON has no tuples: options whose default is a tuple get theirs back.
        defaults = MODELS[values.get("model", cls.model)].options()
        values["model_options"] = {
            name: tuple(value) if isinstance(defaults.get(name), tuple)
            and isinstance(value, list) else value
            for name, value in values.get("model_options", {}).items()
        }
        return cls(**values)
