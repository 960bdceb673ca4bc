import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# GlobalConv's tuning: none while the suite trains (its timings would cost minutes and
# make formulation choices depend on the machine's load), and never the user's file; the
# tests of the tuner set both themselves.
os.environ["KERAS_LK_TUNE_GLOBAL_CONV"] = "0"
os.environ["KERAS_LK_TUNING_FILE"] = os.path.join(tempfile.mkdtemp(prefix="keras_lk_tuning_"),
                                                  "global_conv_tuning.json")
