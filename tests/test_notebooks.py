"""The tutorials' sources (notebooks/*.py, jupytext percent format) and their runner.

Fast checks only; executing the notebooks is CI's `make notebooks-smoke`.
"""

import glob
import os
import subprocess
import sys

import pytest

jupytext = pytest.importorskip("jupytext")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "[0-9][0-9]_*.py")))
SMOKE_LINE = 'SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"'


def test_there_are_tutorials():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert "01_quickstart.py" in names
    assert len(names) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_source(path):
    notebook = jupytext.read(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert markdown, "a tutorial explains itself in markdown cells"
    assert code, "a tutorial has code"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), (
        "the first code cell is tagged 'parameters' (`# %% tags=[\"parameters\"]`)")
    assert SMOKE_LINE in first.source
    # No outputs are committed: the source is a .py file, and no .ipynb sits beside it.
    assert not os.path.exists(os.path.splitext(path)[0] + ".ipynb")
    for cell in code:
        compile(cell.source, path, "exec")  # every code cell is valid Python


def test_runner_help():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "notebooks", "run.py"),
                             "--help"], check=False, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--smoke" in result.stdout and "--timeout" in result.stdout
