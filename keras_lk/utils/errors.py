"""One-line error messages."""


def first_line(error) -> str:
    """The first line of `error`'s message, or its type's name when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
