"""The GPU check: what keras_lk promises for GPUs, run on the first GPU machine it meets.

On a machine with at least one GPU (all its GPUs under `MirroredStrategy`):

1. each family (GCNSeg, GALDNet, FCRN on ResNet-50, 512² crops, batch 2 per replica)
   trains a few steps under float32, mixed_float16 and mixed_bfloat16, XLA off, and
   under float32 with XLA on: optimizer steps applied, loss finite, and the logits of
   the trained weights within 2e-2 (of their range) of the same weights in float32;
2. images per second at 512² (inference, batch 8; training, batch 2 per replica) of
   GCNSeg-R50, GCNSeg-R101 and GALDNet-R50 beside their bare backbones, float32 and
   mixed_bfloat16;
3. GlobalConv's three formulations at GCNSeg-R50's four head shapes (forward and
   forward+backward, ms), and the formulation the untuned rule takes there.

It prints one table; it is sized for under 8 minutes on one GPU (no GPU has run it yet:
the first one to do so writes its table and time in benchmarks/README.md). Without a GPU
it says so and exits 0 (CI runs that path); ``--smoke`` runs every check at tiny sizes
on whatever device there is, so the code of the GPU path is exercised on CPUs too.

    python benchmarks/gpu_check.py            # on a GPU machine
    python benchmarks/gpu_check.py --smoke    # tiny sizes, any device (tests)
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FAMILIES = {"gcn": {"k": 15}, "gald": {}, "fcrn": {}}
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
HEAD_SHAPES = ((16, 2048), (32, 1024), (64, 512), (128, 256))  # GCNSeg-R50 at 512²


def settings(smoke):
    if smoke:
        return {"backbone": "resnet10_narrow", "size": 32, "batch": 2, "steps": 2,
                "head_shapes": ((4, 32), (8, 16)), "repeats": 1,
                "throughput": (("gcn", "resnet10_narrow"),)}
    return {"backbone": "resnet50", "size": 512, "batch": 2, "steps": 3,
            "head_shapes": HEAD_SHAPES, "repeats": 5,
            "throughput": (("gcn", "resnet50"), ("gcn", "resnet101"), ("gald", "resnet50"))}


def _config(model, backbone, size, batch, steps, precision, jit_compile, replicas):
    from keras_lk.training import TrainConfig

    options = dict(FAMILIES[model])
    if model == "gald":
        options.update(head_channels=64 if backbone == "resnet10_narrow" else 512)
    return TrainConfig(model=model, backbone=backbone, model_options=options,
                       crop_size=size, batch_size=batch * replicas, steps=steps,
                       steps_per_epoch=steps, precision=precision, jit_compile=jit_compile,
                       num_classes=21, tensorboard=False, verbose=0)


def train_check(strategy, model_name, precision, jit_compile, s):
    """One family's few training steps: applied steps, finite loss, logits vs float32."""
    import keras
    import numpy as np

    from keras_lk.export import float32_model
    from keras_lk.training import build_model, compile_model, set_precision

    replicas = strategy.num_replicas_in_sync
    config = _config(model_name, s["backbone"], s["size"], s["batch"], s["steps"], precision,
                     jit_compile, replicas)
    keras.utils.set_random_seed(0)
    set_precision(precision, jit_compile)
    try:
        with strategy.scope():
            model = build_model(config)
            compile_model(model, config)
        rng = np.random.default_rng(0)
        images = rng.normal(0, 50, (config.batch_size, s["size"], s["size"], 3)).astype("float32")
        labels = rng.integers(0, 21, (config.batch_size, s["size"], s["size"], 1)).astype("int32")
        started = time.perf_counter()
        history = model.fit(images, model.targets(labels), batch_size=config.batch_size,
                            epochs=s["steps"], verbose=0)
        seconds = time.perf_counter() - started
        logits = keras.ops.convert_to_numpy(model.main_logits(model(images[:1])))
        reference = keras.ops.convert_to_numpy(
            model.main_logits(float32_model(model)(images[:1])))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    error = float(np.abs(logits - reference).max() / max(np.abs(reference).max(), 1e-6))
    applied = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    finite = bool(np.isfinite(history.history["loss"]).all())
    ok = applied >= 1 and finite and error <= 2e-2
    return {"check": f"train {model_name}", "setting": f"{precision}, XLA {'on' if jit_compile else 'off'}",
            "result": f"{applied}/{s['steps']} steps applied, loss "
                      f"{history.history['loss'][-1]:.3f}, logits {error:.1e} of float32, "
                      f"{seconds:.1f} s", "ok": ok}


def throughput(strategy, model_name, backbone, precision, s):
    """Images per second of a family and of its bare backbone: inference and training."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_lk.backbones import get_backbone
    from keras_lk.training import build_model, compile_model, set_precision

    replicas = strategy.num_replicas_in_sync
    config = _config(model_name, backbone, s["size"], s["batch"], s["steps"], precision,
                     False, replicas)
    set_precision(precision)
    rows = []
    try:
        with strategy.scope():
            model = build_model(config)
            compile_model(model, config)
            stride = 8 if model_name in ("gald", "fcrn") else 32
            bare = get_backbone(backbone, output_stride=stride)
        images = np.random.default_rng(0).normal(0, 50, (8, s["size"], s["size"], 3)).astype(
            "float32")
        for name, net in ((f"{model_name} {backbone}", model), (f"bare {backbone} OS{stride}", bare)):
            infer = tf.function(lambda x, net=net: net(x, training=False))
            keras.tree.map_structure(lambda t: t.numpy(), infer(images))
            started = time.perf_counter()
            for _ in range(s["repeats"]):
                keras.tree.map_structure(lambda t: t.numpy(), infer(images))
            per_second = s["repeats"] * len(images) / (time.perf_counter() - started)
            rows.append({"check": f"img/s {name}", "setting": f"{precision}, inference, batch 8",
                         "result": f"{per_second:.1f}", "ok": True})
        labels = np.zeros((config.batch_size, s["size"], s["size"], 1), "int32")
        train_images = images[:1].repeat(config.batch_size, axis=0)
        model.fit(train_images, model.targets(labels), batch_size=config.batch_size, epochs=1,
                  verbose=0)
        started = time.perf_counter()
        model.fit(train_images, model.targets(labels), batch_size=config.batch_size,
                  epochs=s["repeats"], verbose=0)
        per_second = s["repeats"] * config.batch_size / (time.perf_counter() - started)
        rows.append({"check": f"img/s {model_name} {backbone}",
                     "setting": f"{precision}, training, batch {config.batch_size}",
                     "result": f"{per_second:.1f}", "ok": True})
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return rows


def global_conv_rows(s):
    from keras_lk.layers import global_conv_tuning

    rows = []
    for hw, channels in s["head_shapes"]:
        times = global_conv_tuning.measure_formulations((1, hw, hw, channels), 21, 15,
                                                        repeats=s["repeats"])
        rule = global_conv_tuning.rule_implementation(hw, hw, channels)
        for mode, label in (("infer", "forward"), ("train", "fwd+bwd")):
            best = min(times[mode], key=times[mode].get)
            rows.append({"check": f"GlobalConv {hw}²×{channels} → 21, k 15",
                         "setting": label,
                         "result": ", ".join(f"{k} {v:.2f} ms" for k, v in times[mode].items())
                         + f"; fastest {best}, rule {rule}", "ok": True})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes on whatever device there is (tests)")
    args = parser.parse_args()

    import tensorflow as tf

    from keras_lk.layers.global_conv_tuning import device_signature
    from keras_lk.training import make_strategy

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not args.smoke:
        print("gpu_check: no GPU on this machine: skipped (run it on a GPU machine, or with "
              "--smoke to exercise its code at tiny sizes here).")
        return 0
    s = settings(args.smoke)
    strategy = make_strategy("mirrored") if gpus else make_strategy("default")
    started = time.perf_counter()
    rows = []
    for model_name in FAMILIES:
        for precision in PRECISIONS:
            rows.append(train_check(strategy, model_name, precision, False, s))
            print(rows[-1], flush=True)
        rows.append(train_check(strategy, model_name, "float32", True, s))
        print(rows[-1], flush=True)
    for model_name, backbone in s["throughput"]:
        for precision in ("float32", "mixed_bfloat16"):
            rows += throughput(strategy, model_name, backbone, precision, s)
    rows += global_conv_rows(s)
    print(f"\n{device_signature()}; {len(gpus)} GPU(s), {strategy.num_replicas_in_sync} "
          f"replica(s); TF {tf.__version__}; {time.perf_counter() - started:.0f} s")
    print("| check | setting | result | ok |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['check']} | {row['setting']} | {row['result']} | "
              f"{'yes' if row['ok'] else '**no**'} |")
    failed = [row for row in rows if not row["ok"]]
    print(f"{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
