"""GlobalConv speed: keras_lk's formulations vs the stock Conv2D pair and a k×k conv.

Measures, in one run and one process (so ratios compare like with like):
- the float32 matmul peak of this machine (2048×2048 @ 2048×2048, GFLOP/s);
- forward and forward+backward (gradients w.r.t. the input and every weight)
  of `keras_lk.layers.GlobalConv` (each implementation), of the stock pair of
  `keras.layers.Conv2D` layers and of a k×k `Conv2D`, at the four shapes that
  GCNSeg-ResNet50 meets at 512×512 input (res-5..res-2 → 21 classes, k = 15);
- for each: median milliseconds, GFLOP/s and fraction of the matmul peak;
- the headline ratio: GlobalConv ("auto") forward+backward summed over the four
  shapes / the stock pair's (target <= 0.45).

    python benchmarks/global_conv.py            # TensorFlow backend, ~6 minutes here
    python benchmarks/global_conv.py --jax      # adds the JAX backend, in a subprocess
    python benchmarks/global_conv.py --quick    # 3 repetitions, skips the k×k conv

FLOPs count 2 per multiply-add; forward+backward counts 3× the forward
(input gradient and weight gradient each cost one forward).
"""

import argparse
import json
import os
import subprocess
import sys
import time

SHAPES = [(16, 2048), (32, 1024), (64, 512), (128, 256)]  # (H = W, C) of res-5 .. res-2
CLASSES = 21
K = 15


def gcn_flops(hw, channels, k=K, f=CLASSES):
    return 2 * 2 * hw * hw * k * f * (channels + f)


def kxk_flops(hw, channels, k=K, f=CLASSES):
    return 2 * hw * hw * k * k * channels * f


def build_candidates(channels, include_kxk):
    import keras

    from keras_lk.layers import GlobalConv

    def stock_pair():
        inputs = keras.Input((None, None, channels))
        left = keras.layers.Conv2D(CLASSES, (K, 1), padding="same")(inputs)
        left = keras.layers.Conv2D(CLASSES, (1, K), padding="same")(left)
        right = keras.layers.Conv2D(CLASSES, (1, K), padding="same")(inputs)
        right = keras.layers.Conv2D(CLASSES, (K, 1), padding="same")(right)
        return keras.Model(inputs, keras.layers.Add()([left, right]))

    def layer_model(layer):
        inputs = keras.Input((None, None, channels))
        return keras.Model(inputs, layer(inputs))

    candidates = {
        "stock Conv2D pair": (stock_pair(), "gcn"),
        "GlobalConv auto": (layer_model(GlobalConv(CLASSES, K)), "gcn"),
    }
    for implementation in ("conv", "transpose", "matmul"):
        layer = GlobalConv(CLASSES, K, implementation=implementation)
        candidates[f"GlobalConv {implementation}"] = (layer_model(layer), "gcn")
    if include_kxk:
        conv = keras.layers.Conv2D(CLASSES, K, padding="same")
        candidates["k×k Conv2D"] = (layer_model(conv), "kxk")
    return candidates


def time_call(fn, repeats, warmups=2):
    import numpy as np
    from keras import ops

    for _ in range(warmups):
        ops.convert_to_numpy(fn()[0])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        for value in out:
            ops.convert_to_numpy(value)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def forward_and_backward(model, x):
    """Returns (forward, forward+backward) callables, compiled for the backend."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function
        def forward(x):
            return [model(x)]

        @tf.function
        def train(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x)
                loss = tf.reduce_sum(y * y)
            return tape.gradient(loss, [x] + model.trainable_weights)

        return (lambda: forward(x)), (lambda: train(x))
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [w.value for w in model.trainable_variables]
        non_trainable = [w.value for w in model.non_trainable_variables]

        def loss_fn(x, trainable):
            y, _ = model.stateless_call(trainable, non_trainable, x)
            return jnp.sum(y * y)

        forward = jax.jit(lambda x, t: [model.stateless_call(t, non_trainable, x)[0]])
        grad = jax.jit(jax.grad(loss_fn, argnums=(0, 1)))
        return (lambda: forward(x, trainable)), (lambda: jax.tree_util.tree_leaves(grad(x, trainable)))
    raise ValueError(f"Unsupported backend {backend!r}.")


def matmul_peak(repeats):
    import numpy as np
    from keras import ops

    a = ops.convert_to_tensor(np.random.default_rng(0).standard_normal((2048, 2048)).astype("float32"))
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda: [tf.matmul(a, a)])
    else:
        import jax

        jitted = jax.jit(lambda a: a @ a)
        fn = lambda: [jitted(a)]
    ms = time_call(fn, repeats)
    return 2 * 2048**3 / (ms * 1e-3) / 1e9


def run(repeats, include_kxk):
    import keras
    import numpy as np

    peak = matmul_peak(repeats)
    rows = []
    for hw, channels in SHAPES:
        x = keras.ops.convert_to_tensor(
            np.random.default_rng(0).standard_normal((1, hw, hw, channels)).astype("float32")
        )
        for name, (model, kind) in build_candidates(channels, include_kxk).items():
            forward, train = forward_and_backward(model, x)
            fwd_ms = time_call(forward, repeats)
            if kind == "kxk":
                # Its backward takes 0.4-80 s per step on this CPU: one timed run.
                train_ms = time_call(train, 1, warmups=1)
            else:
                train_ms = time_call(train, repeats)
            flops = gcn_flops(hw, channels) if kind == "gcn" else kxk_flops(hw, channels)
            rows.append(
                {
                    "shape": f"{hw}²×{channels}",
                    "model": name,
                    "forward_ms": fwd_ms,
                    "train_ms": train_ms,
                    "forward_gflops": flops / fwd_ms / 1e6,
                    "train_gflops": 3 * flops / train_ms / 1e6,
                }
            )
            print(_format_row(rows[-1], peak), flush=True)
    return {"backend": keras.backend.backend(), "peak_gflops": peak, "rows": rows}


def _format_row(row, peak):
    return (
        f"{row['shape']:>10} {row['model']:<20} fwd {row['forward_ms']:8.1f} ms "
        f"{row['forward_gflops']:6.1f} GFLOP/s ({row['forward_gflops'] / peak:4.0%})   "
        f"fwd+bwd {row['train_ms']:8.1f} ms {row['train_gflops']:6.1f} GFLOP/s "
        f"({row['train_gflops'] / peak:4.0%})"
    )


def summarise(result):
    totals = {}
    for row in result["rows"]:
        totals.setdefault(row["model"], 0.0)
        totals[row["model"]] += row["train_ms"]
    stock = totals["stock Conv2D pair"]
    print(f"\n[{result['backend']}] matmul peak {result['peak_gflops']:.0f} GFLOP/s (float32, 2048²)")
    print(f"[{result['backend']}] forward+backward summed over {len(SHAPES)} shapes:")
    for name, total in totals.items():
        print(f"  {name:<20} {total:8.1f} ms   {total / stock:5.2f}× stock")
    return totals["GlobalConv auto"] / stock


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, no k×k conv")
    parser.add_argument("--jax", action="store_true", help="also measure the JAX backend")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    if args.child:
        print(json.dumps(run(repeats, include_kxk=False)))
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    results = [run(repeats, include_kxk=not args.quick)]
    if args.jax:
        env = dict(os.environ, KERAS_BACKEND="jax")
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--repeats", str(repeats)],
            env=env, capture_output=True, text=True, check=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        for row in results[-1]["rows"]:
            print("[jax] " + _format_row(row, results[-1]["peak_gflops"]))
    ratio = summarise(results[0])
    for result in results[1:]:
        summarise(result)
    print(f"\nGlobalConv (auto) / stock Conv2D pair, forward+backward, TensorFlow: {ratio:.2f}× (target <= 0.45)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
