"""Executes the tutorials of `notebooks/` and writes them, with outputs, to outputs/notebooks/.

Each tutorial's only source is a jupytext "percent" file (`notebooks/NN_name.py`): this
script converts it to a notebook, runs it with nbclient in a kernel of the current
interpreter, writes `outputs/notebooks/NN_name.ipynb` (outputs and figures included),
prints its wall time, and exits non-zero when any cell fails.

    python notebooks/run.py                    # every tutorial, the reader's settings
    python notebooks/run.py --smoke            # tiny settings (CI): ~1 minute each
    python notebooks/run.py 01_quickstart --timeout 900
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUTPUT_DIR = os.path.join(ROOT, "outputs", "notebooks")
SMOKE_VARIABLE = "KERAS_LK_NOTEBOOK_SMOKE"
KERNEL_NAME = "keras_lk_notebooks"


def tutorials(names=None):
    """The tutorial sources (sorted), or those named (with or without `.py`)."""
    sources = sorted(p for p in glob.glob(os.path.join(HERE, "[0-9][0-9]_*.py")))
    if not names:
        return sources
    by_name = {os.path.splitext(os.path.basename(p))[0]: p for p in sources}
    selected = []
    for name in names:
        stem = os.path.splitext(os.path.basename(name))[0]
        if stem not in by_name:
            raise SystemExit(f"run.py: no tutorial {name!r}; known: {', '.join(by_name)}")
        selected.append(by_name[stem])
    return selected


def kernel_manager(spec_dir):
    """A kernel manager for `python -m ipykernel_launcher` of this interpreter (not
    whatever kernel named "python3" is installed), from a kernelspec in `spec_dir`."""
    import json

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernel_dir = os.path.join(spec_dir, KERNEL_NAME)
    os.makedirs(kernel_dir, exist_ok=True)
    with open(os.path.join(kernel_dir, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                            "{connection_file}"],
                   "display_name": "keras_lk", "language": "python"}, f)
    return KernelManager(kernel_name=KERNEL_NAME,
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[spec_dir]))


def run_one(source, output_dir, timeout, spec_dir):
    """Runs one tutorial; returns (wall seconds, error message or None)."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "keras_lk",
                                       "language": "python"}
    client = NotebookClient(notebook, timeout=timeout, km=kernel_manager(spec_dir),
                            resources={"metadata": {"path": ROOT}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as failure:
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(failure)).strip()  # no terminal colours
        error = text.splitlines()[-1] if text else "cell error"
    except (CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as failure:
        # a timeout or a dead kernel: report it, and write what ran
        error = f"{type(failure).__name__}: {failure}"
    seconds = time.perf_counter() - start
    os.makedirs(output_dir, exist_ok=True)
    target = os.path.join(output_dir, os.path.splitext(os.path.basename(source))[0] + ".ipynb")
    import nbformat

    nbformat.write(notebook, target)
    return seconds, error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="tutorials to run (default: all), e.g. "
                        "01_quickstart")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny settings ({SMOKE_VARIABLE}=1 in the kernel)")
    parser.add_argument("--timeout", type=int, default=None,
                        help="seconds one cell may run (default 300 with --smoke, else 1200)")
    parser.add_argument("--output-dir", default=DEFAULT_OUTPUT_DIR,
                        help="where the executed notebooks go (default outputs/notebooks)")
    args = parser.parse_args(argv)
    timeout = args.timeout or (300 if args.smoke else 1200)
    sources = tutorials(args.names)
    failures = []
    mode = "smoke" if args.smoke else "full"
    # The kernels inherit this environment: the smoke switch, quiet TensorFlow, inline
    # figures (stored in the executed notebooks).
    os.environ[SMOKE_VARIABLE] = "1" if args.smoke else "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import tempfile

    spec_dir = tempfile.mkdtemp(prefix="keras_lk_kernels_")
    for source in sources:
        name = os.path.basename(source)
        print(f"run.py: {name} ({mode}) ...", flush=True)
        seconds, error = run_one(source, args.output_dir, timeout, spec_dir)
        status = "ok" if error is None else f"FAILED: {error}"
        print(f"run.py: {name}: {seconds:.0f} s, {status}", flush=True)
        if error is not None:
            failures.append(name)
    print(f"run.py: {len(sources) - len(failures)}/{len(sources)} notebooks ran; executed "
          f"notebooks in {os.path.relpath(args.output_dir, os.getcwd())}/", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
