"""Reading the ``Args:`` section of a Google-style docstring, so that help texts (the
CLI's ``--help``, the model options) come from the docstrings instead of a second table."""

from __future__ import annotations

import inspect
import re

_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_][\w, *]*?):\s*(.*)$")


def parse_args(docstring: str | None) -> dict:
    """``{argument: one-line description}`` of the docstring's ``Args:`` section.

    An entry ``a, b: text`` documents both ``a`` and ``b``; continuation lines are
    joined with single spaces.

    Example:
    >>> parse_args('''Builds it.
    ...
    ...     Args:
    ...         k: kernel size,
    ...             odd.
    ...     ''')
    {'k': 'kernel size, odd.'}
    """
    lines = inspect.cleandoc(docstring or "").splitlines()
    result, names, indent, inside = {}, None, None, False
    for line in lines:
        stripped = line.strip()
        if not inside:
            inside = stripped == "Args:"
            continue
        if not stripped:
            continue
        depth = len(line) - len(line.lstrip())
        if indent is None:
            indent = depth
        if depth < indent:
            break  # the next section ("Returns:", ...)
        match = _ENTRY.match(stripped) if depth == indent else None
        if match:
            names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
            for name in names:
                result[name] = match.group(2).strip()
        elif names:
            for name in names:
                result[name] = f"{result[name]} {stripped}".strip()
    return result
