"""Subprocess bodies of the distribution tests (each strategy needs a fresh TF).

    python tests/training/distribution_check.py mirrored PRECISION
    python tests/training/distribution_check.py default OUT.npz
    TF_CONFIG=... python tests/training/distribution_check.py multi_worker OUT.npz

`mirrored` prints one JSON line: per weight (by path), the largest difference after one
SGD step between one device and MirroredStrategy over 2 logical CPU devices (SyncBN,
same global batch), and the largest change of that weight in the step (the scale its
difference is compared with), plus the largest difference before the step.
`default` (one device) and `multi_worker` save the weights before and after that same step (for
`multi_worker`, one worker's view of the replicated weights) to OUT.npz.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from keras_lk.training import (
    TrainConfig,
    build_model,
    compile_model,
    make_strategy,
    prepare_multi_worker_fit,
    set_precision,
)


def global_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 50, (4, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 6, (4, 32, 32, 1)).astype("int32")
    return x, y


def one_step(strategy, precision="float32"):
    x, y = global_batch()
    set_precision(precision)
    keras.utils.set_random_seed(0)
    config = TrainConfig(learning_rate=0.01, momentum=0.9, l2=5e-4, steps=1,
                         steps_per_epoch=1, precision=precision, backbone="resnet18",
                         model_options={"k": 3}, use_sync_bn=True)
    with strategy.scope():
        model = build_model(config)
        compile_model(model, config)
    prepare_multi_worker_fit(model, strategy, (x, y))
    before = [w.numpy().astype(np.float64) for w in model.weights]
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    after = [w.numpy().astype(np.float64) for w in model.weights]
    return before, after, [w.path for w in model.weights]


def mirrored(precision):
    strategy = make_strategy("mirrored", num_cpu_devices=2)
    assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
    before_1, after_1, paths = one_step(make_strategy("default"), precision)
    before_2, after_2, _ = one_step(strategy, precision)
    init_diff = max(float(np.abs(a - b).max()) for a, b in zip(before_1, before_2))
    weights = {path: {"diff": float(np.abs(a - b).max()), "change": float(np.abs(a - c).max())}
               for path, a, b, c in zip(paths, after_1, after_2, before_1)}
    print(json.dumps({"init_diff": init_diff, "weights": weights}))


def save_step(strategy_name, path):
    strategy = make_strategy(strategy_name)
    before, after, _ = one_step(strategy)
    arrays = {f"before_{i}": w for i, w in enumerate(before)}
    arrays.update({f"after_{i}": w for i, w in enumerate(after)})
    np.savez(path, replicas=strategy.num_replicas_in_sync, **arrays)


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        mirrored(sys.argv[2])
    else:
        save_step(sys.argv[1], sys.argv[2])
