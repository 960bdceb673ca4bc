"""Running the repository's scripts (benchmarks, recipes) from tests."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(*args, timeout=900):
    """Runs ``python *args`` in the repository root; its stdout, or a failed assertion
    showing the end of both streams."""
    result = subprocess.run([sys.executable, *args], check=False, cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout
