"""`recipes/cpu_suite.py`: the suite holds every CPU-scale table, and `--list` counts."""

import glob
import json
import os

import pytest

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
    assert set(suite.QUIET) <= set(suite.SUITE)


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
    assert lines["gcn Table 1"] == {"name": "gcn Table 1", "recipe": "gcn/table1_kernel_size.py",
                                    "planned": 25, "done": 2, "reused": 1, "minutes": 2.0}
    assert lines["gcn plateau (up to)"]["planned"] == 2 * 2 * 3  # rows, seeds, budgets
    assert lines["gcn plateau (up to)"]["minutes"] == 1.0
    assert lines["gald Table 1(b)"]["done"] == 0
    text = suite.format_status(suite.status(str(tmp_path)))
    assert "| gcn Table 1 | 2 / 25 | 1 | 2 |" in text and "| all | 3 | 1 | 3 (0.1 h) |" in text
    assert "per lane" not in text
    (tmp_path / "gald").mkdir()
    (tmp_path / "gald" / "table_1_b_cpu.json").write_text(json.dumps({"runs": [
        {"row": "FCN (Baseline)", "seed": 0, "train_seconds": 300, "eval_seconds": 60}]}))
    text = suite.format_status(suite.status(str(tmp_path)), lanes=2)
    # GCN's 3 minutes in one lane, GALD's 6 in the other: about the longest, 0.1 h.
    assert ("Minutes recorded per lane (--lanes 2): lane gcn 0.1 h; lane gald+fcrn 0.1 h; "
            "alone after them 0.0 h: about 0.1 h side by side.") in text


def test_lanes_take_whole_papers_in_the_suites_order():
    gcn = [relative for relative in suite.SUITE if relative.startswith("gcn/")]
    rest = [relative for relative in suite.SUITE if not relative.startswith("gcn/")]
    assert suite.lanes_of(suite.SUITE, 1) == [list(suite.SUITE)]
    assert suite.lanes_of(suite.SUITE, 2) == [gcn, rest]  # GCN; GALD then FCRN
    assert len(suite.lanes_of(suite.SUITE, 5)) == 3  # one paper is the smallest share
    assert suite.lanes_of(["fcrn/table4_bootstrapping.py"], 2) == [
        ["fcrn/table4_bootstrapping.py"]]
    with pytest.raises(ValueError, match="lanes must be at least 1, got 0"):
        suite.lanes_of(suite.SUITE, 0)


def test_lanes_run_side_by_side_with_their_share_of_threads(tmp_path, monkeypatch, capsys):
    """Each lane's recipes run in order with ``cores // lanes`` TensorFlow threads and
    its name before each line; a failed recipe stops its lane, not the others (and the
    quiet recipes, which would run after the lanes, do not run)."""
    script = ("import os, sys\nprint('threads', os.environ['TF_NUM_INTRAOP_THREADS'], "
              "os.environ['TF_NUM_INTEROP_THREADS'], *sys.argv[1:])\nsys.exit({code})\n")
    for relative, code in (("gcn/a.py", 0), ("gcn/b.py", 0), ("gald/c.py", 3),
                           ("fcrn/d.py", 0)):
        (tmp_path / relative).parent.mkdir(exist_ok=True)
        (tmp_path / relative).write_text(script.format(code=code))
    monkeypatch.setattr(suite, "HERE", str(tmp_path))
    monkeypatch.setattr(suite, "ROOT", str(tmp_path))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    assert suite.run_lanes(["gcn/a.py", "gcn/b.py", "gald/c.py", "fcrn/d.py"], 2) == 3
    lines = capsys.readouterr().out.splitlines()
    gcn = [line for line in lines if line.startswith("[lane gcn] threads")]
    assert gcn == ["[lane gcn] threads 1 1 --scale cpu"] * 2
    assert "[lane gald+fcrn] threads 1 1 --scale cpu" in lines
    assert any(line.startswith("[lane gald+fcrn] [cpu suite] gald/c.py exited with 3")
               for line in lines)
    assert not any("d.py" in line for line in lines)  # its lane stopped before it


def test_quiet_recipes_run_alone_after_the_lanes(tmp_path, monkeypatch, capfd):
    script = ("import os, sys\nprint('threads', os.environ.get('TF_NUM_INTRAOP_THREADS'), "
              "os.path.basename(sys.argv[0]))\n")
    for relative in ("gcn/a.py", "gcn/kit.py", "gald/c.py"):
        (tmp_path / relative).parent.mkdir(exist_ok=True)
        (tmp_path / relative).write_text(script)
    monkeypatch.setattr(suite, "HERE", str(tmp_path))
    monkeypatch.setattr(suite, "ROOT", str(tmp_path))
    monkeypatch.setattr(suite, "QUIET", ("gcn/kit.py",))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    assert suite.run_lanes(["gcn/a.py", "gcn/kit.py", "gald/c.py"], 2) == 0
    lines = [line for line in capfd.readouterr().out.splitlines() if "threads" in line]
    assert sorted(lines[:2]) == ["[lane gald] threads 1 c.py", "[lane gcn] threads 1 a.py"]
    assert lines[2] == "threads None kit.py"  # last, alone, every thread
