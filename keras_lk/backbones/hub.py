"""keras-hub backbones under the keras_lk families (the ``[hub]`` extra).

`GCNSeg`, `GALDNet` and `FCRN` take, as ``backbone``, any keras-hub ``Backbone`` whose
``pyramid_outputs`` hold ``"P2"``..``"P5"`` (strides 4..32), e.g.
``keras_hub.models.ResNetBackbone``:

- a ``Backbone`` instance: ``keras_hub.models.Backbone.from_preset("resnet_50_imagenet")``
  (pretrained), ``from_preset("/path/to/preset_dir")`` (a preset saved on disk, offline)
  or one built from its constructor (random weights);
- the string ``"keras_hub:<preset>"`` (a preset name or directory), which the CLI and
  `TrainConfig` accept as ``--backbone``;
- the dict that a model's ``get_config()`` stores for it (how a saved model reloads).

The backbone's layers are copied into the segmentation model's graph with their weights,
named ``backbone_<keras-hub name>`` (so `BACKBONE_PATTERN`'s backbone learning rate and
``freeze_batch_norm`` apply to them), and the model's config keeps the backbone's
architecture, not its preset: a saved model reloads offline, with its trained weights.

Output stride: P5 is at stride 32. ``output_stride=16`` or ``8`` (GALD, FCRN) turns the
strides of the stages past it into dilations (DeepLab's atrous trick, as the keras_lk
ResNets do): strided convolutions and poolings there get stride 1, every later spatial
convolution the dilation of the stride it lost, and explicit zero padding before a
convolution grows with it; a stride-2 pooling there (ResNet-vd shortcuts) becomes a
stride-1 pooling with 'same' padding. The weights are unchanged.

Precision: the copies compute in the dtype policy in effect when the model is built (as
every keras_lk layer does), whatever policy the keras-hub backbone was built under.

Input normalization: keras-hub's ResNet presets scale to [0, 1] and standardise with the
ImageNet mean and std, which is keras_lk's ``"torch"`` (the default here); pass
``normalization=`` for a backbone whose preset's ``ImageConverter`` says otherwise.
"""

from __future__ import annotations

import keras

PRESET_PREFIX = "keras_hub:"
LAYER_PREFIX = "backbone_"
NORMALIZATION = "torch"
PYRAMID_LEVELS = {"res2": "P2", "res3": "P3", "res4": "P4", "res5": "P5"}
_PROBE_SIZE = 512  # square input of the probe that measures each layer's input stride


def is_hub_backbone(backbone) -> bool:
    """Whether `backbone` names a keras-hub backbone (instance, preset string, config)."""
    if isinstance(backbone, str):
        return backbone.startswith(PRESET_PREFIX)
    if isinstance(backbone, dict):
        return "class_name" in backbone and "config" in backbone
    return hasattr(backbone, "pyramid_outputs") or any(
        cls.__module__.startswith("keras_hub") for cls in type(backbone).__mro__)


def _import_keras_hub():
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(
            "A keras-hub backbone needs the `keras-hub` package: "
            "pip install 'keras_lk[hub]' (or pip install keras-hub)."
        ) from error
    return keras_hub


def resolve(backbone):
    """The keras-hub ``Backbone`` instance that `backbone` names (see the module doc)."""
    if isinstance(backbone, str):
        keras_hub = _import_keras_hub()
        preset = backbone[len(PRESET_PREFIX):]
        if not preset:
            raise ValueError(f"`backbone` {backbone!r} names no preset: use "
                             "'keras_hub:<preset name or directory>'.")
        backbone = keras_hub.models.Backbone.from_preset(preset)
    elif isinstance(backbone, dict):
        _import_keras_hub()  # registers the keras-hub classes for deserialization
        backbone = keras.saving.deserialize_keras_object(backbone)
    pyramid = getattr(backbone, "pyramid_outputs", None) or {}
    missing = [level for level in PYRAMID_LEVELS.values() if level not in pyramid]
    if missing:
        raise ValueError(
            f"`backbone` {type(backbone).__name__} must have pyramid outputs P2..P5 "
            f"(strides 4..32); it has {sorted(pyramid)} (missing {missing})."
        )
    return backbone


def serialize(backbone) -> dict:
    """The config a model stores for its keras-hub backbone: the architecture only."""
    return keras.saving.serialize_keras_object(resolve(backbone))


def _input_strides(features) -> dict:
    """``{layer name: stride of its (first) input}`` of the pyramid model `features`,
    from a probe of it on a 512² input (fresh layers, nothing shared)."""
    probe = keras.models.clone_model(
        features, input_tensors=keras.Input((_PROBE_SIZE, _PROBE_SIZE, 3)),
        clone_function=lambda layer: layer.__class__.from_config(layer.get_config()))
    strides = {}
    for layer in probe.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if hasattr(layer, "strides"):
            # From the output: an input that a ZeroPadding2D made larger would round
            # its stride down (18 px of a 16 px map).
            size = keras.tree.flatten(layer.output)[0].shape[1]
            stride = _PROBE_SIZE / size / _pair(layer.strides)[0]
        else:
            stride = _PROBE_SIZE / keras.tree.flatten(layer.input)[0].shape[1]
        strides[layer.name] = max(1, round(stride))
    return strides


def _pair(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _dilated_config(layer, config, input_stride, output_stride):
    """`layer`'s config with the strides past `output_stride` turned into dilations."""
    reached = min(input_stride, output_stride)  # this layer's input stride once dilated
    rate = input_stride // reached  # the stride its input lost
    stride = _pair(config.get("strides", 1))
    loses_stride = max(stride) > 1 and input_stride * max(stride) > output_stride
    if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                          keras.layers.SeparableConv2D)):
        if loses_stride:
            config["strides"] = (1, 1)
        if max(_pair(config["kernel_size"])) > 1 and rate > 1:
            config["dilation_rate"] = tuple(d * rate for d in _pair(config["dilation_rate"]))
    elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        if loses_stride:
            config.update(strides=(1, 1), padding="same")
    elif isinstance(layer, keras.layers.ZeroPadding2D) and rate > 1:
        config["padding"] = tuple(tuple(p * rate for p in side) for side in config["padding"])
    elif isinstance(layer, keras.layers.Conv2DTranspose) or (
            hasattr(layer, "strides") and max(_pair(layer.strides)) > 1 and loses_stride):
        raise ValueError(
            f"`output_stride`={output_stride}: the keras-hub backbone's layer {layer.name!r} "
            f"({type(layer).__name__}) cannot be dilated; use the backbone's own output "
            "stride, 32."
        )
    return config


def build(backbone, *, weights=None, input_tensor=None, input_shape=(None, None, 3),
          output_stride=32, use_sync_bn=False, dropout_rate=0.0, num_dropout_blocks=0):
    """The keras-hub `backbone`'s pyramid as a keras_lk backbone model (what
    `keras_lk.backbones.get_backbone` returns for it).

    Args:
        backbone: a keras-hub backbone as the module doc lists.
        weights: must be None: a keras-hub backbone brings its own (``from_preset``).
        input_tensor: optional Keras tensor the backbone starts from (its layers join the
            tensor's graph, as `keras_lk.backbones.ResNetBackbone`'s do).
        input_shape: input shape without the batch axis when `input_tensor` is None.
        output_stride: 32 (P5 as it is), 16 or 8 (dilated, see the module doc).
        use_sync_bn: make every BatchNormalization synchronized.
        dropout_rate, num_dropout_blocks: must be 0 (FCRN's dropout after backbone blocks
            needs a keras_lk ResNet).

    Returns:
        A functional model from the source inputs of `input_tensor` to
        ``{"res2": P2, "res3": P3, "res4": P4, "res5": P5}``, on copies of the backbone's
        layers named ``backbone_<name>`` that hold copies of its weights.
    """
    if weights is not None:
        raise ValueError(
            f"`backbone_weights` must be None with a keras-hub backbone, received {weights!r}:"
            " it brings its own weights (keras_hub.models.Backbone.from_preset).")
    if dropout_rate or num_dropout_blocks:
        raise ValueError(
            "Dropout after backbone blocks (FCRN's `dropout`) needs a keras_lk ResNet; a "
            "keras-hub backbone's blocks cannot take it. Pass dropout=False.")
    if output_stride not in (8, 16, 32):
        raise ValueError(f"`output_stride` must be 32, 16 or 8, received {output_stride!r}.")
    backbone = resolve(backbone)
    features = keras.Model(
        backbone.input, {name: backbone.pyramid_outputs[level]
                          for name, level in PYRAMID_LEVELS.items()}, name=LAYER_PREFIX + "pyramid")
    input_strides = _input_strides(features) if output_stride < 32 else {}
    copies = []

    def copy(layer):
        if not isinstance(layer, keras.layers.Layer):
            return layer  # a stateless op of the graph (keras-hub's v2 stem pads with one)
        config = layer.get_config()
        config["name"] = LAYER_PREFIX + layer.name
        if layer.dtype_policy.name == backbone.dtype_policy.name:
            # Computes in the policy in effect now, as the model's own layers do (so a
            # mixed-precision model rebuilt in float32 for export is float32 throughout).
            config["dtype"] = keras.config.dtype_policy().name
        if output_stride < 32 and layer.name in input_strides:
            config = _dilated_config(layer, config, input_strides[layer.name], output_stride)
        if use_sync_bn and isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = True
        new = layer.__class__.from_config(config)
        copies.append((layer, new))
        return new

    if input_tensor is None:
        input_tensor = keras.Input(shape=input_shape, name="image")
    # The copies' outputs on `input_tensor`, recorded as the clone calls each layer: the
    # cloned model's own outputs are a copy of the graph when `input_tensor` is not an
    # Input, so they would not connect to the segmentation model's input.
    called = {}

    def call(layer, *args, **kwargs):
        called[id(layer)] = layer(*args, **kwargs)
        return called[id(layer)]

    keras.models.clone_model(features, input_tensors=input_tensor, clone_function=copy,
                             call_function=call)
    clone_of = {id(layer): new for layer, new in copies}
    by_name = {layer.name: layer for layer in features.layers}
    outputs = {}
    # `output_names` names each output's layer, in the order Keras flattens the output
    # dict: sorted keys.
    for key, layer_name in zip(sorted(PYRAMID_LEVELS), features.output_names):
        layer = by_name[layer_name]
        outputs[key] = called[id(clone_of.get(id(layer), layer))]
    for layer, new in copies:
        new.set_weights(layer.get_weights())
    inputs = keras.utils.get_source_inputs(input_tensor)
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs,
                       name=LAYER_PREFIX + backbone.name)
