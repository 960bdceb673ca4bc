# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Full-scale recipes: VOC + SBD and Cityscapes on GPUs
#
# The recipes (`recipes/<paper>/tableN_*.py`) reproduce the papers' tables. `--scale cpu`
# runs on the built-in scenes; `--scale full` (the default) is the paper's run: the TFDS
# builders of `keras_lk.data.builders` on the official archives, `MirroredStrategy` over
# the GPUs and mixed precision. This notebook shows the full-scale steps in order:
#
# 1. prepare PASCAL VOC 2012 + SBD (`train_aug`) or Cityscapes with a TFDS `manual_dir`,
# 2. run GCN's final VOC stage, `recipes/voc_stage3.py`, on several GPUs in mixed precision,
# 3. resume a killed run,
# 4. read the results (`recipes/*/results/*.json`).
#
# **Cells that need the archives or GPUs are shown but skipped here** unless the
# checks below find them: set `VOC_MANUAL_DIR` / `CITYSCAPES_MANUAL_DIR` to the folder
# holding the downloaded archives, and `KERAS_LK_RUN_FULL_SCALE=1` to really start the
# training (hours on GPUs). Section 4 runs everywhere: it reads the committed results.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("KERAS_LK_NOTEBOOK_SMOKE") == "1"

VOC_MANUAL_DIR = os.environ.get("VOC_MANUAL_DIR")              # VOCtrainval + benchmark.tgz
CITYSCAPES_MANUAL_DIR = os.environ.get("CITYSCAPES_MANUAL_DIR")  # leftImg8bit/gtFine zips
TFDS_DATA_DIR = os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))
RUN_FULL_SCALE = os.environ.get("KERAS_LK_RUN_FULL_SCALE") == "1" and not SMOKE

# %%
# keras_lk first: it starts TensorFlow without its start-up chatter.
import keras_lk  # noqa: I001

import glob
import json
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from keras_lk.data.builders import voc_sbd
from keras_lk.experiments import report
from keras_lk.experiments.statistics import format_p

REPO = os.path.abspath(os.path.join(os.getcwd()))
if not os.path.isdir(os.path.join(REPO, "recipes")):  # run from notebooks/
    REPO = os.path.dirname(REPO)
GPUS = tf.config.list_physical_devices("GPU")
HAVE_VOC = bool(VOC_MANUAL_DIR) and os.path.exists(
    os.path.join(VOC_MANUAL_DIR, voc_sbd.VOC_ARCHIVE)) and os.path.exists(
    os.path.join(VOC_MANUAL_DIR, voc_sbd.SBD_ARCHIVE))
HAVE_CITYSCAPES = bool(CITYSCAPES_MANUAL_DIR) and os.path.isdir(CITYSCAPES_MANUAL_DIR)
print(f"GPUs: {len(GPUS)} | VOC + SBD archives: {HAVE_VOC} | Cityscapes archives: "
      f"{HAVE_CITYSCAPES} | run full scale: {RUN_FULL_SCALE}")

# %% [markdown]
# ## 1. Preparing the datasets with a TFDS `manual_dir`
#
# The archives cannot be downloaded automatically (registration, licence). Download them
# once into one folder, the `manual_dir`:
#
# - VOC + SBD: `VOCtrainval_11-May-2012.tar` (host.robots.ox.ac.uk) and `benchmark.tgz`
#   (SBD, Berkeley);
# - Cityscapes: `leftImg8bit_trainvaltest.zip` and `gtFine_trainvaltest.zip` (fine), plus
#   `leftImg8bit_trainextra.zip` and `gtCoarse.zip` for the coarse stage.
#
# The first `load_dataset` (or the first training run given `--manual-dir`) prepares the
# TFDS dataset in `data_dir`: `train_aug` (10,582 images) is VOC train ∪ SBD train ∪ SBD
# val − VOC val, Cityscapes labels are mapped to the 19 trainIds. Later runs read only
# `data_dir`. A folder with fewer images than the official archives is refused unless
# you pass `allow_subset=True` (a subset on purpose).

# %%
print("VOC archives expected:", voc_sbd.VOC_ARCHIVE, "+", voc_sbd.SBD_ARCHIVE)
if HAVE_VOC:
    train_aug = keras_lk.data.load_dataset("voc_sbd", "train_aug", data_dir=TFDS_DATA_DIR,
                                           manual_dir=VOC_MANUAL_DIR)
    example = next(iter(train_aug))
    print("train_aug prepared:", example["image"].shape, example["segmentation_mask"].shape)
else:
    print("skipped: set VOC_MANUAL_DIR to the folder holding both archives to prepare "
          "voc_sbd here.")

if HAVE_CITYSCAPES:
    fine = keras_lk.data.load_dataset("cityscapes_train_ids/fine", "train",
                                      data_dir=TFDS_DATA_DIR, manual_dir=CITYSCAPES_MANUAL_DIR)
    print("Cityscapes fine prepared:", next(iter(fine))["image"].shape)
else:
    print("skipped: set CITYSCAPES_MANUAL_DIR to prepare cityscapes_train_ids/fine here.")

# %% [markdown]
# ## 2. GCN's final VOC stage on several GPUs, in mixed precision
#
# `recipes/voc_stage3.py` runs GCN Table 7's stage 3 (VOC train at 512² from a stage-2
# model; `--stages 1,2,3` trains the COCO and VOC + SBD stages first). Every other flag is
# Table 7's: `--strategy mirrored` splits each global batch over all visible GPUs
# (`tf.distribute.MirroredStrategy`), `--precision mixed_float16` (or `mixed_bfloat16` on
# GPUs that have it; `auto` picks) computes in half precision with float32 logits and
# losses. Its `--help` lists them all:

# %%
help_text = subprocess.run([sys.executable, os.path.join(REPO, "recipes", "voc_stage3.py"),
                            "--help"], capture_output=True, text=True, check=True).stdout
print("\n".join(help_text.splitlines()[:40]))

# %%
command = [sys.executable, os.path.join(REPO, "recipes", "voc_stage3.py"),
           "--stages", "1,2,3", "--data-dir", TFDS_DATA_DIR,
           "--manual-dir", VOC_MANUAL_DIR or "ARCHIVES", "--strategy", "mirrored",
           "--precision", "mixed_float16", "--output-dir", os.path.join(REPO, "runs", "voc")]
print(" ".join(command))
if RUN_FULL_SCALE and GPUS and HAVE_VOC:
    subprocess.run(command, check=True)   # hours: GCN's three stages on VOC
else:
    print("skipped: needs GPUs, the VOC archives and KERAS_LK_RUN_FULL_SCALE=1 (this "
          "training takes hours).")

# %% [markdown]
# ## 3. Resuming
#
# Every run writes a backup at each `steps_per_epoch` (optimizer state, step, data
# position). A run that is killed (pre-empted GPU, time limit) **resumes when the same
# command is run again**: the engine checks that the configuration's fingerprint matches
# the backup's, skips the input pipeline to the backed-up step, and goes on, so the result
# is the one an uninterrupted run would give. A changed setting is refused with the list
# of changed fields (`allow_config_change=True` overrides). The recipes resume one level
# up as well: finished rows are appended to the results JSON as they finish, and a rerun
# trains only the rows and seeds that are missing (`--fresh` starts over).

# %%
resume = command + ["--verbose", "2"]
print("first run, killed after some epochs:  ", " ".join(resume))
print("the same command again resumes it:    ", " ".join(resume))
print("a single run of the engine, the same: keras-lk train --output-dir runs/gcn ... "
      "(twice)")

# %% [markdown]
# ## 4. Reading the results
#
# Each recipe appends to `recipes/<paper>/results/<table>_<scale>.json`: the paper's
# figures per row, every run (config, fingerprint, seed, scores per split), a summary
# (mean, std, n per row and metric), and the versions, devices and git commit. The
# READMEs' tables are generated from these files
# (`python -m keras_lk.experiments.report recipes/gcn`). The paper's claims are tested
# there from the runs, seed by seed: a 95 % t-interval per claim, and one
# Benjamini–Hochberg correction over all of a paper's comparisons at one scale, each
# comparison counted once even where several tables show it
# (`keras_lk.experiments.report.paper_verdicts`).

# %%
paths = sorted(glob.glob(os.path.join(REPO, "recipes", "*", "results", "*.json")))
for path in paths:
    with open(path) as f:
        results = json.load(f)
    if "table" not in results:  # plateau_<scale>.json: the pilot runs of a plateau rule
        steps = (results.get("decision") or {}).get("steps", "not decided yet")
        print(f"{os.path.relpath(path, REPO)}: {results['paper']} plateau rule "
              f"({results['scale']}), {len(results['runs'])} pilot runs, steps: {steps}")
        continue
    print(f"{os.path.relpath(path, REPO)}: {results['paper']} {results['table']} "
          f"({results['scale']}), {len(results['runs'])} runs, finished "
          f"{results.get('finished', '?')}")
for paper in ("gcn", "gald", "fcrn"):
    correction = report.paper_verdicts(os.path.join(REPO, "recipes", paper), "cpu")
    print(f"\n{paper.upper()} at CPU scale: {correction['m']} comparisons tested, "
          f"{correction['rejections']} rejected (BH, q = {correction['q']})")
    for entry in correction["comparisons"]:
        interval = "n/a" if entry["low"] is None else (
            f"[{entry['low']:+.1f}, {entry['high']:+.1f}]")
        print(f"  C{entry['number']:<3} {entry['statement'][:40]:<40} {interval:>16} "
              f"(n={entry['n']}, p={format_p(entry['p'])}, adjusted "
              f"{format_p(entry['p_adjusted'])}): {entry['verdict']}")

# %%
# GCN Table 1 at CPU scale, or, until it has been rerun in the current regime, the
# latest earlier regime's file, labelled as such.
results_dir = os.path.join(REPO, "recipes", "gcn", "results")
path = os.path.join(results_dir, "table_1_cpu.json")
regime = "fine-tuned from the scenes weights"
if not os.path.exists(path):
    path, regime = (os.path.join(results_dir, "earlier_regime", "scenes_pretext_2000",
                                 "table_1_cpu.json"),
                    "earlier regime: from the first scenes weights, superseded")
with open(path) as f:
    table1 = json.load(f)
split = "test"
rows = list(table1["summary"][split])
means = [table1["summary"][split][row]["miou"]["mean"] for row in rows]
stds = [table1["summary"][split][row]["miou"]["std"] for row in rows]
figure, axis = plt.subplots(figsize=(8, 4))
axis.bar(np.arange(len(rows)), means, yerr=stds, capsize=3)
axis.set_xticks(np.arange(len(rows)), rows)
axis.set(xlabel="head (row of GCN Table 1)", ylabel=f"{split} mIoU (%), mean ± std over seeds",
         title=f"GCN {table1['table']} at CPU scale, {len(table1['runs'])} runs ({regime})")
figure.tight_layout()
plt.show()
