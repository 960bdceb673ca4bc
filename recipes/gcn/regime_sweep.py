"""The regime of GCN's argument, measured: the gain of GCN k = 15 over the 1×1 head as
objects grow relative to what the backbone sees.

GCN Sec. 3.1 and Fig. 3: a classifier sees only its backbone's *valid* receptive field;
when objects are larger than it, a large kernel sees what a 1×1 head cannot, and the
gain of Table 1 appears. This sweep holds the backbone fixed (`resnet10_local`: res-5
sees 67 px, theoretical) and scales the built-in scenes (64², 96², 128²; objects are
0.2-0.9 of the image across, so their mean diameter is 0.55 of the image side), training
the 1×1 head and GCN k = 15 at each size with the same seeds, steps and batch. For
every trained model it also measures the valid receptive field of the centre pixel
(`keras_lk.evaluation.valid_receptive_field`: the side of the square holding 95% of the
input gradient of the pixel's class score, over 16 test images).

    python recipes/gcn/regime_sweep.py --scale cpu     # built-in scenes, 5-10 seeds
    python recipes/gcn/regime_sweep.py --scale cpu --smoke

Not a table of the paper: there is no full-scale run. Writes
`results/regime_sweep_cpu.json` and `results/regime_sweep_cpu_gain.png` (the gain
against mean object diameter / res-5 field of view). The 128² rows are Table 1's
"base" and "k = 15" configurations (their runs are reused when Table 1's results exist).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from keras_lk.experiments import Greater, Row, Table, Trend, main
from keras_lk.experiments.settings import GCN_SCENES

SIZES = (64, 96, 128)
MEAN_DIAMETER = 0.55  # of the image side: radius uniform in (0.1, 0.45), diameter = 2 r
RES5 = "conv5_block1_out"
HEADS = (("1×1", {"head": "conv1x1", "k": 1}), ("GCN k = 15", {"head": "gcn", "k": 15}))


def _row(size, name, options):
    train = {"model_options": options}
    if size != GCN_SCENES.train["image_size"]:
        train.update(image_size=size, crop_size=size)
    return Row(f"{size}² {name}", train, x=size, scales=("cpu",))


def measure(model, config):
    """Theoretical res-5 field of view and valid receptive field of the centre pixel."""
    from keras_lk import data
    from keras_lk.evaluation import theoretical_receptive_field, valid_receptive_field

    images, _ = data.large_object_scenes_numpy(
        "test", num_images=16, config=data.SceneConfig(image_size=config.image_size))
    inputs = np.asarray(data.normalize_image(images.astype("float32"), model.normalization))
    centre = (config.image_size // 2, config.image_size // 2)
    valid = valid_receptive_field(model, inputs, centre)
    return {"res5_field_of_view": float(theoretical_receptive_field(model, RES5).size),
            "valid_receptive_field_extent": int(valid.extent),
            "image_size": config.image_size}


ROWS = tuple(_row(size, name, options) for size in SIZES for name, options in HEADS)
GCN_ROWS = tuple(f"{size}² GCN k = 15" for size in SIZES)
BASE_ROWS = tuple(f"{size}² 1×1" for size in SIZES)

TABLE = Table(
    paper="gcn", table="Regime sweep",
    title="GCN k = 15 − 1×1 as objects grow relative to the backbone's field of view",
    rows=ROWS, scales={"cpu": GCN_SCENES},
    claims=tuple(Greater(f"GCN k = 15 > 1×1 at {size}²", f"{size}² GCN k = 15",
                         f"{size}² 1×1") for size in SIZES) + (
        Trend("the gain grows with the object size (px of image side)", GCN_ROWS, SIZES,
              baseline_rows=BASE_ROWS),),
    metrics=("miou", "internal_accuracy"),
    measure=measure,
    notes="Mean object diameter / res-5 field of view (67 px): 0.53 at 64², 0.79 at 96², "
          "1.05 at 128²; the largest objects (0.9 of the side) are 0.86, 1.3 and 1.7 "
          "times the field of view.",
)


def plot_gain(results, results_path):
    """The per-seed gain (test mIoU) against mean object diameter / res-5 field of view."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    split = results["evaluation"]["splits"][-1]
    runs = {(run["row"], run["seed"]): run for run in results["runs"]}
    figure = Figure(figsize=(5.5, 3.8))
    axis = figure.subplots()
    means = []
    for size in SIZES:
        gains, fovs = [], []
        for seed in sorted({seed for _, seed in runs}):
            gcn_run, base_run = runs.get((f"{size}² GCN k = 15", seed)), runs.get(
                (f"{size}² 1×1", seed))
            if gcn_run and base_run:
                gains.append(100 * (gcn_run["metrics"][split]["miou"]
                                    - base_run["metrics"][split]["miou"]))
                fovs.append(base_run.get("measurements", {}).get("res5_field_of_view", 67))
        if not gains:
            continue
        ratio = MEAN_DIAMETER * size / float(np.mean(fovs))
        axis.scatter([ratio] * len(gains), gains, color="tab:blue", s=16, zorder=3)
        means.append((ratio, float(np.mean(gains)), float(np.std(gains, ddof=1))
                      if len(gains) > 1 else 0.0))
    if means:
        xs, ys, errors = zip(*means)
        axis.errorbar(xs, ys, yerr=errors, color="tab:blue", capsize=4, label="mean ± std")
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set_xlabel("mean object diameter / res-5 field of view (resnet10_local, 67 px)")
    axis.set_ylabel(f"GCN k=15 − 1×1, mIoU on {split} (points)")
    axis.set_title("The large-kernel gain vs object size (dots: seeds)", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = os.path.splitext(results_path)[0] + "_gain.png"
    figure.savefig(path, dpi=100)
    print(f"Plot: {path}")


if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__, after=plot_gain))
