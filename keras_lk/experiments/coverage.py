"""Which paper table each recipe reproduces, and why the others have none.

Every table of `keras_lk.papers.<paper>.TABLES` is either the table of a recipe under
`recipes/<paper>/` (its `TABLE`, `TABLES` or `SUBMISSION`) or listed below with the
reason it is not one (`tests/recipes/test_coverage.py` checks this).
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

# The papers whose tables `keras_lk.papers.<paper>.TABLES` lists.
PAPERS = ("gcn", "gald", "fcrn", "segnext")

OUT_OF_SCOPE = {
    ("gcn", "Table 11"): "an architecture table, not a training result: "
                         "keras_lk.backbones.ResNet50GCN builds its blocks and "
                         "tests/backbones/test_resnet.py checks its conv FLOPs at 224² "
                         "(3,765 M against ResNet50's 3,856 M; paper 3,700 M both)",
    ("gald", "Table 3(a)"): "object detection (Faster R-CNN + FPN on VOC 2007): keras_lk has no "
                            "detector, box heads, detection datasets or metrics",
    ("gald", "Table 3(b)"): "detection and instance segmentation (Mask R-CNN on COCO): no "
                            "detector or mask heads in keras_lk",
    ("gald", "Table 6"): "per-class detection AP of Table 3(a): no detector in keras_lk",
    ("gald", "Table 4"): "per-class IoU of Table 2(a)'s test-server submissions: the server "
                         "returns them for a submitted archive; Table 2's recipe records the "
                         "val per-class IoU of the same models",
    ("gald", "Table 5"): "per-class IoU of Table 2(b)'s test-server submissions (and "
                         "Mapillary, which keras_lk has no builder for): as Table 4",
}

# In scope, not built yet: the issue that asks for them stays open until they are.
PENDING: dict = {}


def load_recipe(path):
    """The module of a recipe script (recipes are scripts, not a package)."""
    name = "recipe_" + os.path.relpath(path).replace(os.sep, "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a module up by name
    spec.loader.exec_module(module)
    return module


def tables_of(module) -> list:
    """A recipe module's tables: its `TABLE`, or the values of its `TABLES` (one per
    `--dataset`); none for a module with neither."""
    if hasattr(module, "TABLES"):
        return list(module.TABLES.values())
    return [module.TABLE] if hasattr(module, "TABLE") else []


def recipe_tables(recipes_dir) -> dict:
    """``{(paper, table): recipe path}`` of every recipe script under `recipes_dir`."""
    found = {}
    for path in sorted(glob.glob(os.path.join(recipes_dir, "**", "*.py"), recursive=True)):
        module = load_recipe(path)
        tables = [getattr(module, attr) for attr in ("TABLE", "SUBMISSION")
                  if hasattr(module, attr)]
        tables += list(getattr(module, "TABLES", {}).values())
        for table in tables:
            found.setdefault((table.paper, table.table), os.path.relpath(path, recipes_dir))
    return found


def covers(recipe_table: str, paper_table: str) -> bool:
    """Whether a recipe's table name stands for the paper's: the same name, a recipe of
    all of a table's parts (GALD "Table 2" for "Table 2(a)"), or a recipe of one of its
    datasets (FCRN "Table 4 (VOC 2012)" for "Table 4")."""
    return (recipe_table == paper_table or paper_table.startswith(recipe_table + "(")
            or recipe_table.startswith(paper_table + " ("))


def uncovered(recipes_dir) -> list:
    """The paper tables with neither a recipe nor a reason, as ``(paper, table)``."""
    from keras_lk import papers

    recipes = recipe_tables(recipes_dir)
    missing = []
    for paper in PAPERS:
        for table in getattr(papers, paper).TABLES:
            if (paper, table) in OUT_OF_SCOPE or (paper, table) in PENDING:
                continue
            if not any(p == paper and covers(t, table) for p, t in recipes):
                missing.append((paper, table))
    return missing
