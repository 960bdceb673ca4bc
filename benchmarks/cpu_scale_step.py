"""The CPU-scale GCN rows' training step time beside the 1×1 row's, in one process.

The rows of `recipes/gcn/` at CPU scale (`keras_lk.experiments.settings.GCN_SCENES`:
resnet10_local, 128² scenes, batch 16, float32, SGD): the 1×1 head (Table 1 "base"),
GlobalConv k = 15, and GlobalConv k = 15 with Boundary Refinement. Each trains through
`keras_lk.training.train` for `--epochs` epochs of `--steps-per-epoch` steps; a row's
step time is the median of its epochs' `step_time` after the first (which compiles).
With `--untuned` each GCN row also runs with GlobalConv's untuned rule
(``KERAS_LK_TUNE_GLOBAL_CONV=0`` and an empty tuning file), beside the tuned run.
Target: every GCN row within 1.2× of the 1×1 row.

    python benchmarks/cpu_scale_step.py                 # ~3 minutes on 2 CPU cores
    python benchmarks/cpu_scale_step.py --untuned       # adds the untuned rows
"""

import argparse
import os
import statistics
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROWS = (("1×1 (base)", {"head": "conv1x1", "k": 1, "boundary_refine": False}),
        ("GCN k=15", {"head": "gcn", "k": 15, "boundary_refine": False}),
        ("GCN k=15 + BR", {"head": "gcn", "k": 15, "boundary_refine": True}))


def step_time(options, steps_per_epoch, epochs, work_dir, tuned, **overrides):
    """Median seconds per step of one row, after its first epoch (`overrides`: training
    fields that replace the scale's, e.g. a smaller ``image_size``)."""
    from keras_lk.experiments import merge_train
    from keras_lk.experiments.settings import GCN_SCENES
    from keras_lk.layers import global_conv_tuning
    from keras_lk.training import TrainConfig, train

    os.environ[global_conv_tuning.TUNE_ENV] = "1" if tuned else "0"
    os.environ[global_conv_tuning.TUNING_FILE_ENV] = os.path.join(
        work_dir, "tuning.json" if tuned else "untuned.json")
    fields = merge_train(GCN_SCENES.train, {"model_options": options})
    fields.update(steps=steps_per_epoch * epochs, steps_per_epoch=steps_per_epoch,
                  num_train_images=16 * steps_per_epoch, **overrides)
    config = TrainConfig(**fields, output_dir=tempfile.mkdtemp(dir=work_dir), verbose=0)
    history = train(config).history
    return statistics.median(history["step_time"][1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-epoch", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--untuned", action="store_true",
                        help="also time the GCN rows with GlobalConv's untuned rule")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be ≥ 2 (the first epoch compiles and is not counted)")

    from keras_lk.layers.global_conv_tuning import device_signature

    work_dir = tempfile.mkdtemp(prefix="keras_lk_cpu_scale_step_")
    rows = []
    for name, options in ROWS:
        variants = [("tuned", True)]
        if args.untuned and options["head"] == "gcn":
            variants.append(("untuned rule", False))
        for label, tuned in variants:
            seconds = step_time(options, args.steps_per_epoch, args.epochs, work_dir, tuned)
            rows.append((name if options["head"] != "gcn" else f"{name} [{label}]", seconds))
            print(f"{rows[-1][0]}: {1e3 * seconds:.1f} ms/step", flush=True)
    base = rows[0][1]
    print(f"\n{device_signature()}; {args.epochs - 1} epochs of {args.steps_per_epoch} steps "
          "after the first, median")
    print("| row | ms/step | × 1×1 row |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {1e3 * seconds:.1f} | {seconds / base:.2f} |")
    print("target: every GCN row ≤ 1.20× the 1×1 row")


if __name__ == "__main__":
    main()
