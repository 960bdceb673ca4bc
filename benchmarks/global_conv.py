"""GlobalConv speed: keras_lk's formulations vs the stock Conv2D pair and a k×k conv.

Measures, in one run and one process (so ratios compare like with like):
- the CPU (model, vector extensions) and the float32 matmul peak of this machine
  (2048×2048 @ 2048×2048, GFLOP/s);
- GlobalConv's tuning at each shape (`keras_lk.layers.tune_global_conv`, into a
  temporary tuning file unless --tuning-file): the formulation "auto" then takes, beside
  the one the untuned rule would take;
- forward and forward+backward (gradients w.r.t. the input and every weight)
  of `keras_lk.layers.GlobalConv` (each implementation), of the stock pair of
  `keras.layers.Conv2D` layers and of a k×k `Conv2D`, at the four shapes that
  GCNSeg-ResNet50 meets at 512×512 input (res-5..res-2 → 21 classes, k = 15);
- for each: median milliseconds, GFLOP/s and fraction of the matmul peak;
- per shape, "auto" and the rule against the fastest formulation (target: auto within
  10 %), and the headline ratio: GlobalConv ("auto") forward+backward summed over the
  four shapes / the stock pair's (target <= 0.45).

    python benchmarks/global_conv.py            # TensorFlow backend, ~6 minutes here
    python benchmarks/global_conv.py --jax      # adds the JAX backend, in a subprocess
    python benchmarks/global_conv.py --quick    # 3 repetitions, skips the k×k conv
    python benchmarks/global_conv.py --tuning-file F   # tune into (and read) file F

FLOPs count 2 per multiply-add; forward+backward counts 3× the forward
(input gradient and weight gradient each cost one forward).
"""

import argparse
import json
import os
import subprocess
import sys

from keras_lk.layers.global_conv_tuning import forward_and_backward, time_call
from keras_lk.utils.machine import matmul_peak_gflops

SHAPES = [(16, 2048), (32, 1024), (64, 512), (128, 256)]  # (H = W, C) of res-5 .. res-2
SMOKE_SHAPES = [(4, 32), (8, 16)]  # --smoke: the same code on tiny maps (tests)
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


def chosen_formulations(hw, channels, repeats):
    """Tunes GlobalConv at this shape (train and infer), then returns the formulations
    "auto" takes for training and the untuned rule's."""
    import keras

    from keras_lk.layers import GlobalConv, global_conv_tuning, tune_global_conv

    inputs = keras.Input((None, None, channels))
    layer = GlobalConv(CLASSES, K)
    tune_global_conv(keras.Model(inputs, layer(inputs)), (hw, hw), batch_size=1,
                     repeats=repeats)
    probe = keras.KerasTensor((1, hw, hw, channels))
    return {"auto_train": layer._resolve_implementation(probe, training=True),
            "auto_infer": layer._resolve_implementation(probe, training=False),
            "rule": global_conv_tuning.rule_implementation(hw, hw, channels)}


def run(repeats, include_kxk, shapes=SHAPES):
    import keras
    import numpy as np

    from keras_lk.layers.global_conv_tuning import device_signature, tuning_file

    peak = matmul_peak_gflops(repeats)
    print(f"[{keras.backend.backend()}] {device_signature()}; tuning file {tuning_file()}",
          flush=True)
    rows, choices = [], {}
    for hw, channels in shapes:
        x = keras.ops.convert_to_tensor(
            np.random.default_rng(0).standard_normal((1, hw, hw, channels)).astype("float32")
        )
        choices[f"{hw}²×{channels}"] = chosen_formulations(hw, channels, repeats)
        print(f"  {hw}²×{channels}: auto takes {choices[f'{hw}²×{channels}']}", flush=True)
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
    return {"backend": keras.backend.backend(), "device": device_signature(),
            "peak_gflops": peak, "choices": choices, "rows": rows}


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
    print(f"\n[{result['backend']}] {result['device']}")
    print(f"[{result['backend']}] matmul peak {result['peak_gflops']:.0f} GFLOP/s (float32, 2048²)")
    print(f"[{result['backend']}] forward+backward per shape, against the fastest formulation:")
    for shape, chosen in result["choices"].items():
        times = {row["model"].split()[-1]: row["train_ms"] for row in result["rows"]
                 if row["shape"] == shape and row["model"].startswith("GlobalConv")}
        best = min(times[name] for name in ("conv", "transpose", "matmul"))
        auto, rule = chosen["auto_train"], chosen["rule"]
        print(f"  {shape:>10}: auto takes {auto} ({times[auto] / best:4.2f}× best; timed again "
              f"as 'auto': {times['auto'] / best:4.2f}×), untuned rule ({rule}) "
              f"{times[rule] / best:4.2f}× best")
    print(f"[{result['backend']}] forward+backward summed over {len(result['choices'])} shapes:")
    for name, total in totals.items():
        print(f"  {name:<20} {total:8.1f} ms   {total / stock:5.2f}× stock")
    return totals["GlobalConv auto"] / stock


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, no k×k conv")
    parser.add_argument("--no-kxk", action="store_true",
                        help="leave out the k×k conv (its backward takes minutes on a CPU)")
    parser.add_argument("--jax", action="store_true", help="also measure the JAX backend")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes, 1 repeat (tests)")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--tuning-file", help="the GlobalConv tuning file to tune into and read "
                        "(default: a new temporary one, so every run measures afresh)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = 1 if args.smoke else 3 if args.quick else args.repeats
    shapes = SMOKE_SHAPES if args.smoke else SHAPES
    if not args.tuning_file and not args.child:
        import tempfile

        args.tuning_file = os.path.join(tempfile.mkdtemp(), "global_conv_tuning.json")
    if args.tuning_file:
        os.environ["KERAS_LK_TUNING_FILE"] = args.tuning_file
    if args.child:
        print(json.dumps(run(repeats, include_kxk=False, shapes=shapes)))
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    results = [run(repeats, include_kxk=not (args.quick or args.smoke or args.no_kxk), shapes=shapes)]
    if args.jax:
        env = dict(os.environ, KERAS_BACKEND="jax")
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--repeats", str(repeats),
             "--tuning-file", args.tuning_file, *(["--smoke"] if args.smoke else [])],
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
