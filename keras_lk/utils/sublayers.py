"""Walking a model's layers: the one place keras_lk reaches for Keras's private walk."""


def all_layers(layer):
    """Every layer inside `layer`, nested ones included (Sequential blocks, GA modules'
    parts, the branches of a re-parameterisable convolution), depth first, without
    `layer` itself."""
    # `_flatten_layers` is how Keras itself walks tracked sublayers; there is no public one.
    return list(layer._flatten_layers(include_self=False, recursive=True))
