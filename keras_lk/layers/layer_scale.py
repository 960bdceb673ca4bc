"""LayerScale: a learned per-channel scale of a residual branch (Touvron et al. 2021),
as MSCAN's blocks use it (SegNeXt's official ``Block.layer_scale_1/2``)."""

import keras
from keras import ops

from keras_lk.layers._validation import check_known_channels


@keras.saving.register_keras_serializable(package="keras_lk")
class LayerScale(keras.layers.Layer):
    """Multiplies each channel by a learned scale, started small so a residual branch
    starts near zero and the block near the identity.

    Args:
        init_value: the scales' starting value (1e-2 in MSCAN).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor ``(..., channels)``.

    Returns:
        ``inputs * scale``, the same shape.

    Example:
    >>> layer = keras_lk.layers.LayerScale(1e-2)
    >>> layer(np.ones((1, 4, 4, 8), "float32"))[0, 0, 0, 0]  # 0.01

    Reference:
        Touvron et al., "Going deeper with Image Transformers", ICCV 2021 (LayerScale);
        SegNeXt's official ``mmseg/models/backbones/mscan.py``, ``Block``.
    """

    def __init__(self, init_value=1e-2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(init_value, bool) or not isinstance(init_value, (int, float)):
            raise TypeError(f"`init_value` must be a number, received {init_value!r}.")
        self.init_value = float(init_value)

    def build(self, input_shape):
        channels = check_known_channels(type(self).__name__, input_shape)
        self.scale = self.add_weight(
            name="scale", shape=(channels,),
            initializer=keras.initializers.Constant(self.init_value))

    def call(self, inputs):
        return inputs * ops.cast(self.scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}
