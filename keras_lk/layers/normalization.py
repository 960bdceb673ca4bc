"""Normalization: convolution → norm → activation, the one helper every keras_lk network uses.

The norm and the activation are injected, so a model decides once (``use_sync_bn``)
and every BatchNorm of the backbone, the heads and the GA/LD modules follows:

- `norm_layer(norm, name)`: ``"batch_norm"`` or ``"sync_batch_norm"`` (a
  ``BatchNormalization(synchronized=True)``, whose statistics are reduced across the
  replicas of a `tf.distribute` strategy, as GALD trains);
- `conv_norm_act(x, ...)`: functional, layers ``{name}_conv``, ``{name}_bn``,
  ``{name}_{activation}`` (the names of `keras.applications`, so weights load by name);
- `conv_norm_act_block(...)`: the same as one ``keras.Sequential`` sublayer (layers
  ``conv``, ``bn``, ``{activation}``), for layers that build their parts in ``build()``.

Example:
>>> x = keras.Input((None, None, 64))
>>> y = keras_lk.layers.conv_norm_act(x, 32, 3, name="head", norm="sync_batch_norm")

Reference:
    Ioffe and Szegedy, "Batch Normalization", ICML 2015; Zhang et al., "Context
    Encoding for Semantic Segmentation" (synchronized BN), CVPR 2018.
"""

import keras
from keras import layers

from keras_lk.layers._validation import check_choice

NORMS = ("batch_norm", "sync_batch_norm")


def norm_name(use_sync_bn):
    """The `norm` a builder's ``use_sync_bn`` flag stands for."""
    return "sync_batch_norm" if use_sync_bn else "batch_norm"


def norm_layer(norm, name, epsilon=1e-3, **kwargs):
    """A normalization layer named `name`; `norm` is one of `NORMS`."""
    check_choice("norm", norm, NORMS)
    return layers.BatchNormalization(
        epsilon=epsilon, synchronized=norm == "sync_batch_norm", name=name, **kwargs
    )


def _activation(activation, name):
    return None if activation is None else layers.Activation(activation, name=name)


def conv_norm_act(x, filters, kernel_size, *, name, norm="batch_norm", activation="relu",
                  epsilon=1e-3, momentum=0.99, use_bias=False, **conv_kwargs):
    """``Conv2D`` (``{name}_conv``) → norm (``{name}_bn``) → activation, functional.

    Args:
        x: Keras tensor ``(batch, H, W, C)``.
        filters, kernel_size: of the convolution; `conv_kwargs` go to ``Conv2D`` too
            (``strides``, ``dilation_rate``, ``padding``; default ``"same"``).
        name: prefix of the layer names.
        norm: one of `NORMS`.
        activation: a Keras activation name, or None for none (layer
            ``{name}_{activation}``).
        epsilon: the norm's epsilon (1.001e-5 in the ImageNet ResNets).
        momentum: the norm's moving-average momentum (Keras's 0.99; PyTorch's
            default 0.1 is Keras's 0.9).
        use_bias: bias of the convolution (False: the norm has a shift).

    Returns:
        The output tensor.
    """
    conv_kwargs.setdefault("padding", "same")
    x = layers.Conv2D(filters, kernel_size, use_bias=use_bias, name=f"{name}_conv",
                      **conv_kwargs)(x)
    return norm_activation(x, name=name, norm=norm, activation=activation, epsilon=epsilon,
                           momentum=momentum)


def norm_activation(x, *, name, norm="batch_norm", activation="relu", epsilon=1e-3,
                    momentum=0.99):
    """Norm (``{name}_bn``) → activation (``{name}_{activation}``) after any convolution."""
    x = norm_layer(norm, f"{name}_bn", epsilon=epsilon, momentum=momentum)(x)
    act = _activation(activation, f"{name}_{activation}")
    return x if act is None else act(x)


def conv_norm_act_block(filters, kernel_size, *, name, norm="batch_norm", activation="relu",
                        norm_options=None, **conv_kwargs):
    """``Conv2D`` (no bias, 'same') → norm → activation as one ``keras.Sequential``;
    `norm_options` (epsilon, momentum) go to the norm."""
    conv_kwargs.setdefault("padding", "same")
    parts = [layers.Conv2D(filters, kernel_size, use_bias=False, name="conv", **conv_kwargs),
             norm_layer(norm, "bn", **(norm_options or {}))]
    act = _activation(activation, str(activation))
    return keras.Sequential(parts + ([] if act is None else [act]), name=name)
