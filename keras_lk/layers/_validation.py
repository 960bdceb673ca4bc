"""Argument checks shared by layers and builders: each error names the argument and value."""


def check_positive_int(name, value, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1, received {value!r}.")


def check_odd_kernel_size(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0:
        raise ValueError(f"`{name}` must be an odd integer >= 1, received {value!r}.")


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, received {value!r}.")
