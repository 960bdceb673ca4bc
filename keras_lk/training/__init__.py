"""keras_lk.training: the training engine every recipe calls.

- `TrainConfig` + `train(config)`: strategy scope, precision, SGD with the papers'
  schedules, losses, callbacks, resumable `model.fit`;
- `make_strategy` (default, mirrored, multi_worker, tpu), `prepare_multi_worker_fit`
  (mends Keras 3 `fit` under MultiWorkerMirroredStrategy), `set_precision`
  (float32, mixed_float16, mixed_bfloat16, auto);
- `SegmentationSGD` (momentum, L2 on kernels, lr multipliers), `SegmentationAdamW`
  (PyTorch's AdamW, decoupled decay, lr multipliers), `PolyDecay`, `StepDecay`,
  `ConstantSchedule`;
- callbacks: `DivergenceGuard`, `StepCheckpoint`, `StepTimer`, `make_callbacks`;
- `onednn.check_onednn_pointwise_gradients`: the warning `train` gives before training a
  layer whose gradient TensorFlow's oneDNN kernels can corrupt the heap with.
"""

from keras_lk._moved import moved_attributes
from keras_lk.training.callbacks import (
    DivergenceGuard,
    StepCheckpoint,
    StepTimer,
    TrainingDivergedError,
    make_callbacks,
)
from keras_lk.training.config import TrainConfig
from keras_lk.training.multi_worker import prepare_multi_worker_fit
from keras_lk.training.optimizers import (
    BACKBONE_PATTERN,
    SegmentationAdamW,
    SegmentationSGD,
)
from keras_lk.training.precision import PRECISIONS, resolve_precision, set_precision
from keras_lk.training.schedules import SCHEDULES, ConstantSchedule, PolyDecay, StepDecay
from keras_lk.training.strategy import STRATEGIES, configure_cpu_devices, make_strategy
from keras_lk.training.trainer import (
    TrainResult,
    build_model,
    compile_model,
    seed_everything,
    train,
)

__all__ = [
    "BACKBONE_PATTERN",
    "PRECISIONS",
    "SCHEDULES",
    "STRATEGIES",
    "ConstantSchedule",
    "DivergenceGuard",
    "PolyDecay",
    "SegmentationAdamW",
    "SegmentationSGD",
    "StepCheckpoint",
    "StepDecay",
    "StepTimer",
    "TrainConfig",
    "TrainResult",
    "TrainingDivergedError",
    "build_model",
    "compile_model",
    "configure_cpu_devices",
    "make_callbacks",
    "make_strategy",
    "prepare_multi_worker_fit",
    "resolve_precision",
    "seed_everything",
    "set_precision",
    "train",
]

__getattr__ = moved_attributes(__name__)
