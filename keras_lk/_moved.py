"""Old import paths of things that moved to the package named for their kind.

Code written against earlier versions keeps working: an old module path imports the
new module, and an old attribute resolves to the object at its new place, each with a
`DeprecationWarning` that names the new place. Saved `.keras` files need none of this:
Keras finds keras_lk's objects by their registered names (``keras_lk>GlobalConv``),
which did not change.

`MOVED` is the one list of moved attributes, by the module they used to live in (and
`REMOVED` of those replaced by something else); a module that lost names sets
``__getattr__ = moved_attributes(__name__)``. A moved module keeps a file at its old
path that re-exports the new module and calls `warn_moved_module`.
"""

from __future__ import annotations

import importlib
import warnings

# Old module → {name: new module}.
MOVED = {
    "keras_lk.backbones": {
        "CaffePreprocessing": "keras_lk.layers",
        "preprocess_input": "keras_lk.layers",
    },
    "keras_lk.backbones.resnet": {
        "CaffePreprocessing": "keras_lk.layers.preprocessing",
        "preprocess_input": "keras_lk.layers.preprocessing",
        "CAFFE_MEAN_BGR": "keras_lk.layers.preprocessing",
    },
    "keras_lk.models": {
        "CropToMatch": "keras_lk.layers",
        "InterleaveShiftedPasses": "keras_lk.layers",
        "PadToMultiple": "keras_lk.layers",
        "ShiftImage": "keras_lk.layers",
    },
    "keras_lk.training": {
        "LOSSES": "keras_lk.losses",
        "SegmentationCrossEntropy": "keras_lk.losses",
        "make_loss": "keras_lk.losses",
    },
    "keras_lk.evaluation": {
        "colorize": "keras_lk.data",
        "cityscapes_colors": "keras_lk.data.palettes",
    },
    "keras_lk.cli": {
        "load_model": "keras_lk.models",
    },
    "keras_lk.data": {
        "boundary_region": "keras_lk.evaluation",
        "colorize_mask": "keras_lk.data.palettes",
    },
    "keras_lk.data.scenes": {
        "boundary_region": "keras_lk.evaluation.boundary",
    },
    "keras_lk.data.visualization": {
        "colorize_mask": "keras_lk.data.palettes",
        "CITYSCAPES_COLORS": "keras_lk.data.palettes",
    },
}

# Names whose new object is called differently: (old module, old name) → new name.
RENAMED = {
    ("keras_lk.data", "colorize_mask"): "colorize",
    ("keras_lk.data.visualization", "colorize_mask"): "colorize",
}

# Names that are gone, with what to use instead: (old module, old name) → advice.
REMOVED = {
    ("keras_lk.data", "subset_allowed"):
        "pass allow_subset=True to DatasetInfo.load or keras_lk.data.load_dataset",
    ("keras_lk.data.builders", "stage1_mixture"):
        "load keras_lk.data.DATASETS['gcn_voc_stage1'] (keras_lk.data.mixtures)",
    ("keras_lk.data.builders.coco_voc", "stage1_mixture"):
        "load keras_lk.data.DATASETS['gcn_voc_stage1'] (keras_lk.data.mixtures)",
}


def _warn(old, new, stacklevel=3):
    warnings.warn(f"{old} moved to {new}; import it from there (the old path will be "
                  "removed).", DeprecationWarning, stacklevel=stacklevel)


def moved_attributes(module_name):
    """A module `__getattr__` that resolves the names `MOVED` lists for `module_name`
    and names the replacement of those `REMOVED` lists."""
    moved = MOVED.get(module_name, {})

    def __getattr__(name):
        if (module_name, name) in REMOVED:
            raise AttributeError(f"{module_name}.{name} was removed: "
                                 f"{REMOVED[module_name, name]}.")
        if name not in moved:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        new_name = RENAMED.get((module_name, name), name)
        _warn(f"{module_name}.{name}", f"{moved[name]}.{new_name}")
        return getattr(importlib.import_module(moved[name]), new_name)

    return __getattr__


def warn_moved_module(old, new):
    """Warns that module `old` moved to `new` (called by the file left at the old path,
    which re-exports `new`)."""
    _warn(old, new, stacklevel=4)
