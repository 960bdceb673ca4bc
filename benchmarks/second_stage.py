"""GlobalConv's second stage: the stock narrow 1-D convolution vs a matmul form of it.

Each GlobalConv branch ends with a 1-D convolution from `filters` to `filters` channels
(21 → 21 for VOC). The `"matmul"` formulation computes the *first*, wide convolutions as
one matrix product into per-tap outputs followed by a shift-and-sum; this benchmark asks
whether the same rewrite pays for the narrow second stage too. At the four res-5..res-2
map sizes of GCNSeg-ResNet50 at 512² (batch 1), in one process:

- the CPU (model, vector extensions, oneDNN ISA cap) and its float32 matmul peak;
- forward and forward+backward (gradients w.r.t. the input and the kernel) of a 1×k
  `keras.layers.Conv2D` (no bias) and of the same convolution as ``x @ W`` (per-tap
  outputs, `filters` × k·`filters`) followed by GlobalConv's shift-and-sum, after
  checking that both compute the same function;
- median milliseconds, GFLOP/s, and the matmul form's time ÷ the convolution's.

    python benchmarks/second_stage.py             # ~1 minute here
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/second_stage.py   # oneDNN's AVX2 kernels
    python benchmarks/second_stage.py --smoke     # tiny maps, 1 repeat (tests)

FLOPs count 2 per multiply-add; forward+backward counts 3× the forward.
"""

import argparse

import keras
import numpy as np
from keras import ops

from keras_lk.layers.global_conv import _shift_sum
from keras_lk.layers.global_conv_tuning import forward_and_backward, time_call
from keras_lk.utils.machine import cpu_signature, matmul_peak_gflops

SIZES = (16, 32, 64, 128)  # H = W of res-5 .. res-2 at 512² input
SMOKE_SIZES = (4, 8)
CLASSES = 21
K = 15


class MatmulRowConv(keras.layers.Layer):
    """A 'same' 1×k convolution without bias, computed as ``x @ W`` into per-tap outputs
    and a shift-and-sum along W. Its kernel has `keras.layers.Conv2D`'s layout."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(1, self.kernel_size, input_shape[-1], self.filters), name="kernel")

    def call(self, x):
        k, f = self.kernel_size, self.filters
        batch, height, width = ops.shape(x)[0], ops.shape(x)[1], ops.shape(x)[2]
        # Column j·F + o holds tap j of output channel o.
        weights = ops.reshape(ops.transpose(self.kernel[0], (1, 0, 2)), (x.shape[-1], k * f))
        taps = ops.reshape(ops.matmul(x, weights), (batch, height, width, k, f))
        rows = _shift_sum(ops.transpose(taps, (0, 1, 4, 3, 2)), k)  # (B, H, F, W)
        return ops.transpose(rows, (0, 1, 3, 2))


def _model(layer, channels):
    inputs = keras.Input((None, None, channels))
    return keras.Model(inputs, layer(inputs))


def run(sizes, repeats, filters=CLASSES, k=K):
    """One row per map size: milliseconds of both forms, forward and forward+backward."""
    conv = _model(keras.layers.Conv2D(filters, (1, k), padding="same", use_bias=False),
                  filters)
    matmul = _model(MatmulRowConv(filters, k), filters)
    matmul.set_weights(conv.get_weights())
    rows = []
    for size in sizes:
        x = keras.random.normal((1, size, size, filters), seed=size)
        np.testing.assert_allclose(ops.convert_to_numpy(matmul(x)),
                                   ops.convert_to_numpy(conv(x)), rtol=1e-4, atol=1e-4)
        flops = 2 * size * size * k * filters * filters
        row = {"size": size, "forward_gflop": flops / 1e9}
        for name, model in (("conv", conv), ("matmul", matmul)):
            forward, train = forward_and_backward(model, x)
            row[f"{name}_forward_ms"] = time_call(forward, repeats)
            row[f"{name}_train_ms"] = time_call(train, repeats)
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="tiny maps, 1 repeat (tests)")
    args = parser.parse_args(argv)
    repeats = 1 if args.smoke else args.repeats
    print(f"CPU: {cpu_signature()}; float32 matmul peak "
          f"{matmul_peak_gflops(repeats=1 if args.smoke else 5):.0f} GFLOP/s")
    print(f"1×{K} convolution, {CLASSES} → {CLASSES} channels, batch 1, median of {repeats}\n")
    print("| map | conv fwd (ms) | matmul fwd (ms) | conv fwd+bwd (ms) | matmul fwd+bwd (ms) "
          "| conv fwd+bwd GFLOP/s | matmul ÷ conv, fwd+bwd |")
    print("|---|---|---|---|---|---|---|")
    for row in run(SMOKE_SIZES if args.smoke else SIZES, repeats):
        rate = 3 * row["forward_gflop"] / (row["conv_train_ms"] / 1e3)
        print(f"| {row['size']}²×{CLASSES} | {row['conv_forward_ms']:.2f} | "
              f"{row['matmul_forward_ms']:.2f} | {row['conv_train_ms']:.2f} | "
              f"{row['matmul_train_ms']:.2f} | {rate:.0f} | "
              f"{row['matmul_train_ms'] / row['conv_train_ms']:.2f} |")


if __name__ == "__main__":
    main()
