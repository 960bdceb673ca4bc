"""`recipes/cpu_suite.py`: the suite holds every CPU-scale table, and `--list` counts."""

import glob
import json
import os

from keras_lk.experiments.coverage import load_recipe, tables_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPES = os.path.join(ROOT, "recipes")
suite = load_recipe(os.path.join(RECIPES, "cpu_suite.py"))


def _has_cpu_scale(module):
    return any("cpu" in table.scales for table in tables_of(module))


def test_the_suite_holds_every_cpu_scale_table_but_the_transfer_check():
    with_cpu = {os.path.relpath(path, RECIPES)
                for path in glob.glob(os.path.join(RECIPES, "*", "*.py"))
                if _has_cpu_scale(load_recipe(path))}
    assert with_cpu - set(suite.SUITE) == {"gcn/transfer.py"}
    assert set(suite.SUITE) <= with_cpu and len(set(suite.SUITE)) == len(suite.SUITE)
    # The tables whose runs others reuse come before them.
    assert suite.SUITE.index("gcn/table1_kernel_size.py") == 0
    # The large-kernel kit comes after the GCN tables whose runs it may reuse.
    assert suite.SUITE.index("gcn/large_kernel_kit.py") == max(
        i for i, relative in enumerate(suite.SUITE) if relative.startswith("gcn/"))
    assert (suite.SUITE.index("fcrn/table1_field_of_view.py")
            < suite.SUITE.index("fcrn/table4_bootstrapping.py"))


def test_list_counts_planned_done_reused_runs_and_trained_minutes(tmp_path):
    table = suite.cpu_table("gcn/table1_kernel_size.py")
    folder = tmp_path / "gcn"
    folder.mkdir()
    runs = [{"row": "base", "seed": 0, "train_seconds": 90, "eval_seconds": 30},
            {"row": "k = 15", "seed": 0, "train_seconds": 500, "eval_seconds": 100,
             "reused_from": "plateau_cpu.json"}]
    (folder / f"{table.key}_cpu.json").write_text(json.dumps({"runs": runs}))
    (folder / "plateau_cpu.json").write_text(json.dumps({"runs": [
        {"row": "base", "seed": 0, "steps": 400, "train_seconds": 30, "eval_seconds": 30}]}))
    lines = {line["name"]: line for line in suite.status(str(tmp_path))}
    assert lines["gcn Table 1"] == {"name": "gcn Table 1", "planned": 25, "done": 2,
                                    "reused": 1, "minutes": 2.0}
    assert lines["gcn plateau (up to)"]["planned"] == 2 * 2 * 3  # rows, seeds, budgets
    assert lines["gcn plateau (up to)"]["minutes"] == 1.0
    assert lines["gald Table 1(b)"]["done"] == 0
    text = suite.format_status(suite.status(str(tmp_path)))
    assert "| gcn Table 1 | 2 / 25 | 1 | 2 |" in text and "| all | 3 | 1 | 3 (0.1 h) |" in text
