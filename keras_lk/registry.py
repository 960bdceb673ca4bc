"""One small, explicit registry per kind of thing: models, backbones, datasets.

A registry maps a name to an entry (a frozen dataclass of the thing's builder and its
facts). The three registries are filled in one obvious place each, by a list of
entries, never by import side effects:

- `keras_lk.models.MODELS` (`keras_lk/models/registry.py`): family name → model class;
- `keras_lk.backbones.BACKBONES` (`keras_lk/backbones/registry.py`): name → builder,
  input normalization, ImageNet weights;
- `keras_lk.data.DATASETS` (`keras_lk/data/registry.py`): name → classes, ignore
  label, default splits, palette, loader.

The CLI's choices, the training engine and the recipes read them; an unknown name is
the one-line ``ValueError`` "`dataset` must be one of (...), received 'x'.".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class Registry:
    """Name → entry; every entry has a ``name`` attribute.

    Args:
        kind: what a name chooses, as in error messages (``"dataset"``).
        entries: the entries, in the order `names()` lists them.

    Example:
    >>> keras_lk.data.DATASETS["scenes"].num_classes
    6
    >>> keras_lk.data.DATASETS.names()
    ('scenes', 'voc_sbd', ...)
    """

    def __init__(self, kind: str, entries: Iterable = ()):
        self.kind = kind
        self._entries = {}
        for entry in entries:
            self.register(entry)

    def register(self, entry):
        """Adds `entry`; a second entry of the same name is an error."""
        if entry.name in self._entries:
            raise ValueError(f"{self.kind} {entry.name!r} is registered twice.")
        self._entries[entry.name] = entry
        return entry

    def __getitem__(self, name):
        if name not in self._entries:
            raise ValueError(f"`{self.kind}` must be one of {self.names()}, received {name!r}.")
        return self._entries[name]

    def __contains__(self, name) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple:
        return tuple(self._entries)

    def entries(self) -> tuple:
        return tuple(self._entries.values())
