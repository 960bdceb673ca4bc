"""Start TensorFlow without its start-up chatter on the console.

`TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's own logging, but not the lines that its
C++ runtime writes to file descriptor 2 before logging is initialised ("All log
messages before absl::InitializeLog() ...", the CUDA probe's "Could not find cuda
drivers ...", "failed call to cuInit", the CPU-instructions notice).
`import_tensorflow_quietly` sends descriptor 2 to a temporary file while TensorFlow
imports and lists its devices (and `initialize_runtime_quietly` while it runs a first
op, for entry points that configure no devices afterwards), then restores it and writes back
every captured line except those start-up notices (`STARTUP_NOTICES`); on an error
everything captured is shown. `import keras_lk` calls it (TensorFlow backend), so the
first console lines of the demo and the recipes are their own. Set
``KERAS_LK_TF_STARTUP_LOGS=1`` to see TensorFlow's start-up lines.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

STARTUP_NOTICES = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|cuda_platform\.cc|"
    r"cuda_executor\.cc|cpu_feature_guard\.cc|To enable the following instructions|"
    r"oneDNN custom operations are on|Unable to register cu(DNN|FFT|BLAS) factory|"
    r"computation placer already registered|TF-TRT Warning"
)


def import_tensorflow_quietly():
    """Imports TensorFlow and lists its physical devices with descriptor 2 captured.

    Listing physical devices does not initialise the runtime, so logical devices and
    multi-worker collectives can still be configured afterwards.

    Returns:
        The `tensorflow` module. Does nothing more than the import when TensorFlow was
        imported before or ``KERAS_LK_TF_STARTUP_LOGS=1``.
    """
    if "tensorflow" in sys.modules or os.environ.get("KERAS_LK_TF_STARTUP_LOGS") == "1":
        import tensorflow as tf

        return tf
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return _captured(lambda: _import_and_list())


def _import_and_list():
    import tensorflow as tf

    tf.config.list_physical_devices()
    return tf


def initialize_runtime_quietly():
    """Initialises TensorFlow's runtime (its first op, where the CUDA probe reports) with
    descriptor 2 captured. For entry points that configure no devices or collectives
    afterwards (the demo); a no-op with ``KERAS_LK_TF_STARTUP_LOGS=1``."""
    import tensorflow as tf

    if os.environ.get("KERAS_LK_TF_STARTUP_LOGS") == "1":
        return
    _captured(lambda: tf.constant(0.0).numpy())


def _captured(function):
    """Runs `function` with descriptor 2 captured; writes back all but the notices."""
    sys.stderr.flush()
    saved = os.dup(2)
    failed = False
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            result = function()
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            kept = lines if failed else [line for line in lines
                                         if not STARTUP_NOTICES.search(line)]
            sys.stderr.write("".join(kept))
    return result
