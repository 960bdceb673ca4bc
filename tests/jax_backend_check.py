"""Run by tests/test_jax_backend.py in a subprocess with KERAS_BACKEND=jax.

Every keras_lk layer and loss on JAX: output equal to the NumPy formula, every
GlobalConv implementation equal, a compiled training step that lowers the loss,
and a `.keras` round trip. Exits non-zero (AssertionError) on any mismatch.
"""

import os
import sys
import tempfile

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_lk.layers import BoundaryRefine, ConvStack3x3, GlobalConv, LocalDistribution
from keras_lk.losses import OHEMLoss
from tests import golden

assert keras.backend.backend() == "jax", keras.backend.backend()
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 9, 11, 6)).astype("float32")


def weights(layer):
    return {w.name: np.asarray(w, np.float64) for w in layer.weights}


def close(actual, expected):
    actual = np.asarray(actual)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


for implementation in ("auto", "conv", "transpose", "matmul"):
    layer = GlobalConv(4, kernel_size=7, implementation=implementation, bias_initializer="random_normal")
    close(layer(x), golden.global_conv(x.astype(np.float64), weights(layer)))

auto = GlobalConv(4, kernel_size=7)
assert auto._resolve_implementation(keras.KerasTensor((1, 64, 64, 8))) == "conv"
assert auto._resolve_implementation(keras.KerasTensor((1, 4, 4, 64))) == "matmul"

layer = BoundaryRefine(bias_initializer="random_normal")
close(layer(x), golden.boundary_refine(x.astype(np.float64), weights(layer)))

for downsample in ("depthwise", "bilinear", "average"):
    layer = LocalDistribution(downsample_rate=4, downsample=downsample)
    layer.build(x.shape)
    kernels = [np.asarray(k, np.float64) for k in layer.weights]
    close(layer(x), golden.local_distribution(x.astype(np.float64), kernels, downsample, rate=4))

labels = rng.integers(0, 4, (2, 9, 11))
labels[0, :3] = 255
logits = rng.standard_normal((2, 9, 11, 4)).astype("float32")
for mode in ("fcrn", "gald"):
    value = float(OHEMLoss(mode=mode, threshold=0.4, min_kept=20)(labels, logits))
    expected = golden.ohem_loss(labels, logits, mode, 0.4, 20)
    np.testing.assert_allclose(value, expected, rtol=1e-5)

# A small model of every layer trains under jit and survives a .keras round trip.
inputs = keras.Input((9, 11, 6))
h = GlobalConv(4, kernel_size=5)(inputs)
h = ConvStack3x3(4, kernel_size=5, intermediate_filters=4)(h)
h = LocalDistribution(downsample_rate=2)(h)
outputs = BoundaryRefine()(h)
model = keras.Model(inputs, outputs)
model.compile(keras.optimizers.SGD(0.05), loss=OHEMLoss(threshold=0.0, min_kept=30), jit_compile=True)
losses = model.fit(x, labels, epochs=4, batch_size=2, verbose=0).history["loss"]
assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
with tempfile.TemporaryDirectory() as tmp:
    model.save(os.path.join(tmp, "m.keras"))
    restored = keras.saving.load_model(os.path.join(tmp, "m.keras"), safe_mode=True)
close(restored.predict(x, verbose=0), model.predict(x, verbose=0))
print("jax backend: all checks passed")
