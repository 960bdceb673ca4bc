"""Activations written so that every export format converts them."""

from keras import ops


def erf_gelu(x):
    """The exact GELU, ``0.5 · x · (1 + erf(x / √2))`` (PyTorch's ``nn.GELU()``), written
    with Erf: TensorFlow computes ``keras.activations.gelu`` as ``0.5 · x · erfc(−x / √2)``,
    and tf2onnx has no ONNX op for Erfc; ONNX and LiteRT have Erf. The same function to
    float32 rounding."""
    return 0.5 * x * (1.0 + ops.erf(x * 0.7071067811865476))
