"""`TrainConfig`: every knob of a training run, frozen, JSON round-trippable."""

from __future__ import annotations

import dataclasses
import json

from keras_lk.models.gcn_seg import HEADS as GCN_HEADS
from keras_lk.training.losses import LOSSES
from keras_lk.training.precision import PRECISIONS
from keras_lk.training.strategy import STRATEGIES

MODELS = ("gcn", "gald", "fcrn")
DATASETS = ("scenes", "voc_sbd", "cityscapes_train_ids/fine", "cityscapes_train_ids/coarse",
            "coco_voc")
SCHEDULES = ("poly", "step", "constant")
OPTIMIZERS = ("sgd", "adam")
# The valid values of the fields that name a choice (also the CLI's `choices`).
CHOICES = {
    "model": MODELS, "dataset": DATASETS, "schedule": SCHEDULES, "loss": LOSSES,
    "head": GCN_HEADS, "optimizer": OPTIMIZERS, "precision": PRECISIONS,
    "strategy": STRATEGIES,
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults: a tiny GCN on the built-in scenes, CPU-sized.

    Args:
        output_dir: run directory: `model.keras`, `checkpoints/`, `backup/`, `logs/`
            (TensorBoard), `training_log.csv`, `config.json`.
        model: `"gcn"` (GCNSeg), `"gald"` (GALDNet) or `"fcrn"` (FCRN).
        backbone: `"resnet18"`, `"resnet50"`, `"resnet101"`, `"resnet152"`,
            `"resnet50_gcn"` (GCN only); FCRN takes the depth from the name.
        k: GCN kernel size.
        head: GCN head, `"gcn"`, `"conv1x1"`, `"conv_kxk"` or `"stack3x3"` (GCN Tables 1-4).
        boundary_refine: GCN Boundary Refinement blocks (Table 5).
        use_sync_bn: synchronised BatchNorm across replicas.
        dataset: `"scenes"` (built-in) or a TFDS builder of `keras_lk.data.BUILDER_NAMES`.
        data_dir, manual_dir: TFDS directories (TFDS datasets only).
        train_split: split to train on (default per dataset).
        num_train_images, image_size: size of the built-in scenes split.
        crop_size, scale_range, flip, normalization: `keras_lk.data.train_pipeline`.
        batch_size: global batch size, split across replicas.
        steps: total optimizer steps.
        steps_per_epoch: steps between backups (a Keras "epoch"); a killed run resumes
            from the last multiple of it.
        checkpoint_every: save `checkpoints/step_NNNNNN.keras` every this many steps (0: off).
        optimizer: `"sgd"` (the papers': SGD with momentum and L2 on kernels) or `"adam"`
            (for training small models from scratch in CPU minutes, e.g. `make demo`;
            it takes neither `l2` nor `head_lr_multiplier`: set `l2=0`).
        learning_rate, momentum, l2: SGD with momentum and L2 on kernels.
        schedule: `"poly"` (power `poly_power`), `"step"` (`step_size`, `step_gamma`)
            or `"constant"`; `warmup_steps` of linear warm-up.
        head_lr_multiplier: learning-rate factor of the non-backbone variables.
        loss: `"cross_entropy"` or `"ohem"` (`ohem_mode`, `ohem_threshold`, `ohem_min_kept`).
        aux_weight: weight of GALD's auxiliary loss (paper: 0.4).
        precision: `"float32"`, `"mixed_float16"`, `"mixed_bfloat16"` or `"auto"`.
        jit_compile: XLA (float32 only).
        strategy: `"default"`, `"mirrored"`, `"multi_worker"` or `"tpu"`.
        num_cpu_devices: logical CPU devices for `"mirrored"` without GPU.
        seed: seeds Python, NumPy, TensorFlow, the weights and the data order.
        deterministic: `tf.config.experimental.enable_op_determinism()`.
        ignore_label: void label.
        num_classes: override the dataset's number of classes (None: the dataset's).
        tensorboard: write TensorBoard logs (needs the `tensorboard` package).
        verbose: Keras progress-bar verbosity.
    """

    output_dir: str = "runs/default"
    model: str = "gcn"
    backbone: str = "resnet18"
    k: int = 7
    head: str = "gcn"
    boundary_refine: bool = True
    use_sync_bn: bool = False
    dataset: str = "scenes"
    data_dir: str | None = None
    manual_dir: str | None = None
    train_split: str | None = None
    num_train_images: int = 64
    image_size: int = 64
    crop_size: int = 64
    scale_range: tuple[float, float] | None = (0.75, 1.25)
    flip: bool = True
    normalization: str = "caffe"
    batch_size: int = 4
    steps: int = 100
    steps_per_epoch: int = 20
    checkpoint_every: int = 0
    optimizer: str = "sgd"
    learning_rate: float = 0.001
    momentum: float = 0.9
    l2: float = 5e-4
    schedule: str = "poly"
    poly_power: float = 0.9
    step_size: int = 1000
    step_gamma: float = 0.1
    warmup_steps: int = 0
    head_lr_multiplier: float = 1.0
    loss: str = "cross_entropy"
    ohem_mode: str = "gald"
    ohem_threshold: float = 0.7
    ohem_min_kept: int = 100_000
    aux_weight: float = 0.4
    precision: str = "float32"
    jit_compile: bool = False
    strategy: str = "default"
    num_cpu_devices: int | None = None
    seed: int = 0
    deterministic: bool = False
    ignore_label: int = 255
    num_classes: int | None = None
    tensorboard: bool = True
    verbose: int = 1

    def __post_init__(self):
        for field, valid in CHOICES.items():
            if getattr(self, field) not in valid:
                raise ValueError(
                    f"`{field}` must be one of {valid}, received {getattr(self, field)!r}."
                )
        for field in ("batch_size", "steps", "steps_per_epoch", "crop_size", "k"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{field}` must be an integer ≥ 1, received {value!r}.")
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
        if self.dataset != "scenes" and not self.data_dir:
            raise ValueError(f"`data_dir` is required for dataset {self.dataset!r}.")

    @property
    def epochs(self) -> int:
        return self.steps // self.steps_per_epoch

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        values = json.loads(text)
        if values.get("scale_range") is not None:
            values["scale_range"] = tuple(values["scale_range"])
        return cls(**values)
