import os
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# GlobalConv's tuning: none while the suite trains (its timings would cost minutes and
# make formulation choices depend on the machine's load), and never the user's file; the
# tests of the tuner set both themselves.
os.environ["KERAS_LK_TUNE_GLOBAL_CONV"] = "0"
os.environ["KERAS_LK_TUNING_FILE"] = os.path.join(tempfile.mkdtemp(prefix="keras_lk_tuning_"),
                                                  "global_conv_tuning.json")


# Under CI (CI=true) a skipped test is a failure unless its reason is allowed here: CI
# installs every extra, so an `importorskip` that skips there means a broken install.
ALLOWED_SKIPS = {
    "tf.function check": "TensorFlow-only check, when the suite runs on another backend",
    "glibc's LD_DEBUG": "a check of the dynamic linker that exists on Linux only",
}


def _skip_reason(report):
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _refuse_skip_under_ci(report):
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes") or not report.skipped:
        return
    if getattr(report, "wasxfail", None) is not None:
        return
    reason = _skip_reason(report)
    if reason not in ALLOWED_SKIPS:
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI ({reason!r}), and the reason is not in "
                           "tests/conftest.py's ALLOWED_SKIPS: install what the test needs, "
                           "or allow the reason there with why")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _refuse_skip_under_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _refuse_skip_under_ci(outcome.get_result())
