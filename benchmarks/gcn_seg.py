"""GCNSeg-ResNet50 (k=15, BR) vs the bare ResNet50 + 1x1 classifier: train step and
inference time, model FLOPs and FLOP rate, in one run and one process.

Both models take 512x512x3 images (batch 1, float32) and return full-resolution
logits (the bare model: 1x1 classifier on res-5, bilinear x32); the train step is
SGD on sparse softmax cross-entropy inside one `tf.function`. FLOPs come from
`keras_lk.utils.count_flops` (2 per multiply-add; convs, deconvs, matmuls); a train
step counts 3x the forward FLOPs. Headline: GCNSeg's FLOP rate / the backbone's
(target >= 0.9, both for training and inference).

The two models are timed in alternating rounds (bare, GCNSeg, bare, GCNSeg, ...), each
the median of `--repeats` calls, so that a slow spell of a shared machine falls on both:
the ratios are computed per round and the headline is their median, printed with their
range (a single measurement of each model varied by ~10 % between processes on the
project's VM, the size of the target's margin).

    python benchmarks/gcn_seg.py                   # ~3 minutes on 2 CPU cores
    python benchmarks/gcn_seg.py --size 256 --repeats 3 --rounds 1

Before timing, GlobalConv is tuned at the benchmark's shapes
(`keras_lk.layers.tune_global_conv`, train and inference; a temporary tuning file unless
--tuning-file), as `keras_lk.training.train` does; the CPU, the matmul peak and the
formulation each GlobalConv takes are printed. Figures per CPU type:
benchmarks/README.md.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def build_bare_backbone(num_classes):
    import keras

    from keras_lk.backbones import ResNet50

    backbone = ResNet50()
    x = keras.layers.Conv2D(num_classes, 1, name="classifier")(backbone.output["res5"])
    x = keras.layers.UpSampling2D(32, interpolation="bilinear", name="upsample")(x)
    return keras.Model(backbone.input, x, name="resnet50_1x1")


def build_gcn_seg(num_classes, k):
    from keras_lk.models import GCNSeg

    return GCNSeg(num_classes=num_classes, k=k, backbone="resnet50", boundary_refine=True)


def tune(model, size, batch, repeats):
    """Tunes `model`'s GlobalConvs at this size; ``{layer name: (train, inference)
    formulation}``."""
    import keras

    from keras_lk.layers import global_conv_tuning, tune_global_conv

    tune_global_conv(model, (size, size), batch_size=batch, repeats=repeats)
    return {layer.name: tuple(layer._resolve_implementation(keras.KerasTensor(shape), mode)
                              for mode in (True, False))
            for layer, shape in global_conv_tuning.global_conv_calls(model, (size, size), batch)}


def median_seconds(function, repeats, warmup):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def timed_calls(model, size, batch, num_classes):
    """``(forward GFLOPs, train_step, infer)``: `model`'s FLOPs and its compiled SGD
    train step and inference on fixed random images, each returning a NumPy value."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_lk.utils import count_flops

    flops = count_flops(model, (size, size, 3)) * batch
    images = tf.constant(np.random.RandomState(0).uniform(size=(batch, size, size, 3)),
                         dtype="float32")
    labels = tf.constant(np.random.RandomState(1).randint(0, num_classes, (batch, size, size)),
                         dtype="int32")
    optimizer = keras.optimizers.SGD(0.001)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    @tf.function
    def infer():
        return model(images, training=False)

    return flops / 1e9, (lambda: train_step().numpy()), (lambda: infer().numpy())


def measure_rounds(models, size, batch, num_classes, repeats, warmup, rounds):
    """Times `models` in alternating rounds: ``[[result of each model] per round]``, a
    result holding the model's FLOPs and that round's median train step and inference."""
    calls = [(model, *timed_calls(model, size, batch, num_classes)) for model in models]
    measured = []
    for round_index in range(rounds):
        results = []
        for model, gflops, train_step, infer in calls:
            warm = warmup if round_index == 0 else 1
            train_s = median_seconds(train_step, repeats, warm)
            infer_s = median_seconds(infer, repeats, warm)
            results.append({
                "model": model.name,
                "params": int(model.count_params()),
                "forward_gflops": gflops,
                "train_step_s": train_s,
                "train_gflop_per_s": 3 * gflops / train_s,
                "inference_s": infer_s,
                "inference_gflop_per_s": gflops / infer_s,
            })
        measured.append(results)
    return measured


def ratios(bare, gcn):
    """GCNSeg against the bare model, one round."""
    return {
        "train_time_ratio": gcn["train_step_s"] / bare["train_step_s"],
        "train_flop_rate_ratio": gcn["train_gflop_per_s"] / bare["train_gflop_per_s"],
        "inference_time_ratio": gcn["inference_s"] / bare["inference_s"],
        "inference_flop_rate_ratio": gcn["inference_gflop_per_s"] / bare["inference_gflop_per_s"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--classes", type=int, default=21)
    parser.add_argument("--k", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds of both models (the ratios' median)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--tuning-file", help="the GlobalConv tuning file to tune into and read "
                        "(default: a new temporary one)")
    args = parser.parse_args()
    if not args.tuning_file:
        import tempfile

        args.tuning_file = os.path.join(tempfile.mkdtemp(), "global_conv_tuning.json")
    os.environ["KERAS_LK_TUNING_FILE"] = args.tuning_file

    import keras
    import tensorflow as tf

    from keras_lk.layers.global_conv_tuning import device_signature
    from keras_lk.utils.machine import cpu_info, matmul_peak_gflops

    keras.utils.set_random_seed(0)
    peak = matmul_peak_gflops(args.repeats)
    gcn_seg = build_gcn_seg(args.classes, args.k)
    choices = tune(gcn_seg, args.size, args.batch, args.repeats)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, received {args.rounds}")
    rounds = measure_rounds([build_bare_backbone(args.classes), gcn_seg], args.size,
                            args.batch, args.classes, args.repeats, args.warmup, args.rounds)
    print(f"{device_signature()}, {cpu_info()['cores']} cores, float32 matmul peak "
          f"{peak:.0f} GFLOP/s")
    print(f"{args.size}x{args.size}, batch {args.batch}, float32, tf.function, "
          f"TF {tf.__version__}, keras {keras.__version__}")
    print("GlobalConv formulations (train, inference): "
          + ", ".join(f"{name} {train}/{infer}" for name, (train, infer) in choices.items()))
    print(f"{'round':>5} {'model':<14} {'params':>10} {'GFLOPs':>8} {'train s':>8} "
          f"{'train GF/s':>11} {'infer s':>8} {'infer GF/s':>11}")
    for index, results in enumerate(rounds, start=1):
        for r in results:
            print(f"{index:>5} {r['model']:<14} {r['params']:>10,} {r['forward_gflops']:>8.1f} "
                  f"{r['train_step_s']:>8.3f} {r['train_gflop_per_s']:>11.1f} "
                  f"{r['inference_s']:>8.3f} {r['inference_gflop_per_s']:>11.1f}")
    per_round = [ratios(*results) for results in rounds]
    summary = {}
    for key in per_round[0]:
        values = sorted(r[key] for r in per_round)
        summary[key] = statistics.median(values)
        print(f"{key}: {summary[key]:.3f} (median of {len(values)} rounds; "
              f"range {values[0]:.3f}-{values[-1]:.3f})")
    print("target: FLOP-rate ratios >= 0.9")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "device": device_signature(), "peak_gflops": peak,
                       "choices": choices, "rounds": rounds, "ratios": per_round,
                       "summary": summary}, f, indent=2)


if __name__ == "__main__":
    main()
