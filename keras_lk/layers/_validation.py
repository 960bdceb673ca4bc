"""Argument checks shared by layers and builders: each error names the argument and value."""


def check_positive_int(name, value, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, received {value!r}.")


def check_odd_kernel_size(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0:
        raise ValueError(f"`{name}` must be an odd integer >= 1, received {value!r}.")


def check_known_channels(layer_name, input_shape):
    """Returns the channel count of an NHWC `input_shape`; an error if it is unknown."""
    channels = input_shape[-1]
    if channels is None:
        raise ValueError(
            f"{layer_name} needs a known channel dimension, received input shape "
            f"{tuple(input_shape)}."
        )
    return channels


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, received {value!r}.")
