"""GCN Tables 2 and 4: parameter counts of every head, through keras_lk's layers, plus speed.

1. Parameter counts (GCN Tables 2 and 4): each head is built on the res-5
   feature map of ResNet (C_in = 2048) with 21 classes, and its kernel weights
   are counted (biases excluded, as the paper counts). Printed beside the
   paper's numbers with the deviation.
2. Speed: forward+backward time of GlobalConv vs the trivial k×k convolution
   on that feature map (16×16×2048 → 21, the res-5 size at 512×512 input),
   measured here, with the FLOP ratio GCN's O(2/k) argument predicts.

    python recipes/gcn/table2_table4_parameters.py [--repeats N]     # ~20 s on 2 CPU cores

Known deviation: none in the counts (all within the paper's rounding to 1K); the
paper's mIoU columns need VOC training (recipes to come) and are printed as data only.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from keras_lk.layers import ConvStack3x3, GlobalConv, LargeKernelConv
from keras_lk.papers import gcn

RES5_CHANNELS = 2048
CLASSES = 21


def kernel_parameters(layer):
    """Kernel weights of a built layer, biases excluded (the GCN paper's count)."""
    layer.build((None, 16, 16, RES5_CHANNELS))
    return sum(int(np.prod(w.shape)) for w in layer.weights if w.name.endswith("kernel"))


def parameter_rows():
    rows = []
    for k in sorted(gcn.TABLE_2_PARAMS_K_GCN):
        ours = kernel_parameters(GlobalConv(CLASSES, k, kernel_initializer="zeros"))
        rows.append(("Table 2", f"GCN k={k}", gcn.TABLE_2_PARAMS_K_GCN[k], ours))
        ours = kernel_parameters(LargeKernelConv(CLASSES, k, kernel_initializer="zeros"))
        rows.append(("Table 2", f"k×k conv k={k}", gcn.TABLE_2_PARAMS_K_CONV[k], ours))
    for m in sorted(gcn.TABLE_4_PARAMS_K_STACK, reverse=True):
        layer = ConvStack3x3(CLASSES, 7, intermediate_filters=m, kernel_initializer="zeros")
        rows.append(("Table 4", f"3×3 stack k=7 m={m}", gcn.TABLE_4_PARAMS_K_STACK[m], kernel_parameters(layer)))
    ours = kernel_parameters(GlobalConv(CLASSES, 7, kernel_initializer="zeros"))
    rows.append(("Table 4", "GCN k=7", gcn.TABLE_4_PARAMS_K_GCN, ours))
    return rows


def train_step_ms(layer, x, repeats):
    import tensorflow as tf

    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, layer(inputs))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x] + model.trainable_weights)

    for _ in range(2):
        step(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        [g.numpy() for g in step(x)]
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def speed_rows(repeats):
    x = np.random.default_rng(0).standard_normal((1, 16, 16, RES5_CHANNELS)).astype("float32")
    rows = []
    for k in (3, 5, 7, 9, 15):
        gcn_ms = train_step_ms(GlobalConv(CLASSES, k), x, repeats)
        conv_ms = train_step_ms(LargeKernelConv(CLASSES, k), x, repeats)
        flop_ratio = 2 * (RES5_CHANNELS + CLASSES) / (k * RES5_CHANNELS)
        rows.append((k, gcn_ms, conv_ms, gcn_ms / conv_ms, flop_ratio))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per measurement (median)")
    args = parser.parse_args(argv)

    print("GCN parameter counts after res-5 (C_in=2048, 21 classes; kernel weights, no biases)")
    print(f"{'table':<8} {'head':<22} {'paper':>10} {'ours':>12} {'Δ':>8}")
    for table, head, paper_k, ours in parameter_rows():
        delta = ours - paper_k * 1000
        print(f"{table:<8} {head:<22} {paper_k:>9}K {ours:>12,} {delta:>+8,}")

    print("\nForward+backward on 16×16×2048 → 21 (res-5 at 512² input), float32, this machine")
    print(f"{'k':>3} {'GlobalConv ms':>14} {'k×k conv ms':>12} {'time ratio':>11} {'FLOP ratio':>11}")
    for k, gcn_ms, conv_ms, ratio, flop_ratio in speed_rows(args.repeats):
        print(f"{k:>3} {gcn_ms:>14.1f} {conv_ms:>12.1f} {ratio:>11.2f} {flop_ratio:>11.2f}")
    print("FLOP ratio = 2(C_in + 21) / (k·C_in): GCN's O(2/k) cost relative to the k×k kernel.")
    print("Paper mIoU (VOC 2012 val) of these heads: Table 2 GCN", gcn.TABLE_2_MIOU_GCN,
          "k×k", gcn.TABLE_2_MIOU_CONV)


if __name__ == "__main__":
    main()
