"""Shared plumbing for layers that own raw convolution kernels.

The layers of this package compute with `keras.ops.conv` on kernels they own
(so they can choose the fastest exact formulation); this base class holds the
initializer/regularizer arguments, creates kernel/bias pairs in the
`keras.layers.Conv2D` layout and serialises those arguments.
"""

import keras
from keras import ops

from keras_lk.layers._validation import check_known_channels


class ConvWeightsLayer(keras.layers.Layer):
    """Base class: `use_bias` and the initializers/regularizers of Conv2D."""

    def __init__(
        self,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self._kernels, self._biases = {}, {}

    def _channels(self, input_shape):
        return check_known_channels(type(self).__name__, input_shape)

    def _add_conv(self, name, kernel_shape):
        """Creates `{name}_kernel` (and `{name}_bias`) in Conv2D layout (kh, kw, in, out)."""
        self._kernels[name] = self.add_weight(
            name=f"{name}_kernel",
            shape=kernel_shape,
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self._biases[name] = self.add_weight(
                name=f"{name}_bias",
                shape=(kernel_shape[-1],),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )

    def _bias(self, x, name):
        return x + self._biases[name] if self.use_bias else x

    def _conv(self, x, name):
        """'Same'-padded stride-1 convolution with kernel `name`, plus its bias."""
        return self._bias(ops.conv(x, self._kernels[name], padding="same"), name)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config
