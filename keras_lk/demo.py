"""`make demo`: GCN's large-kernel argument, trained and measured on the built-in scenes.

Trains two GCNSeg networks that differ only in their score-map heads, on the same
data, seed and schedule: the 1×1-convolution baseline (GCN Fig. 4B, Table 1 "base")
and GlobalConv with a large kernel (Fig. 2B). Neither uses Boundary Refinement, as in
GCN Tables 1 and 5 (rows "Baseline" and "GCN"). Then both are evaluated on the
validation split: mean IoU, and pixel accuracy on the boundary region (within 7 px of
an object boundary) and the internal region (GCN Table 5).

The built-in scenes (`keras_lk.data.large_object_scenes`) are made for this argument:
every class shares one interior texture and only the outline tells them apart, so a
pixel deep inside a large object is classified only by a head that sees the whole
object. The paper's numbers (PASCAL VOC 2012, ResNet-152, pretrained) are printed for
reference beside ours; they are not the same experiment, and our figures are whatever
this run measures (one seed: differences of ~2 points are noise).

Writes to `--output-dir` (default `outputs/demo`): one run directory per model
(`model.keras`, `training_log.csv`, `config.json`, ...), `results.json`,
`predictions.png` (images, labels, both predictions) and `curves.png`.

    python -m keras_lk.demo                 # ~7 minutes on 2 CPU cores
    python -m keras_lk.demo --quick         # a smoke run (~1 minute) for tests
"""

import argparse
import dataclasses
import json
import os
import shutil
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from keras_lk.papers import gcn

BOUNDARY_DISTANCE = 7  # GCN Sec. 4.1.1: "distance ≤ 7"


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    image_size: int = 128
    num_train_images: int = 1200
    num_val_images: int = 200
    steps: int = 1600
    steps_per_epoch: int = 200
    batch_size: int = 16
    k: int = 15
    backbone: str = "resnet10_narrow"
    learning_rate: float = 2e-3
    precision: str = "mixed_bfloat16"


QUICK = DemoSettings(image_size=64, num_train_images=64, num_val_images=8, steps=8,
                     steps_per_epoch=4, batch_size=4, k=7, precision="float32")

# (name, head, kernel size, Table 5 row of the paper)
MODELS = (("baseline 1×1", "conv1x1", 1, "Baseline"), ("GCN k={k}", "gcn", None, "GCN"))


def train_config(settings, head, k, output_dir, seed):
    from keras_lk.training import TrainConfig

    return TrainConfig(
        output_dir=output_dir, model="gcn", backbone=settings.backbone,
        model_options={"k": k, "head": head, "boundary_refine": False}, dataset="scenes",
        num_train_images=settings.num_train_images, image_size=settings.image_size,
        crop_size=settings.image_size, batch_size=settings.batch_size,
        steps=settings.steps, steps_per_epoch=settings.steps_per_epoch, optimizer="adam",
        learning_rate=settings.learning_rate, l2=0.0, schedule="poly", precision=settings.precision,
        seed=seed, tensorboard=False, verbose=2,
    )


def evaluate(model, images, masks):
    from keras_lk import data, evaluation

    num_classes = model.num_classes
    inputs = data.normalize_image(images.astype("float32"), model.normalization)
    predictions = np.argmax(model.predict(np.asarray(inputs), batch_size=20, verbose=0), -1)
    labels = masks[..., 0]
    scores = evaluation.scores_from_confusion(
        evaluation.confusion_matrix(labels, predictions, num_classes)
    )
    regions = evaluation.boundary_internal_accuracy(labels, predictions, distance=BOUNDARY_DISTANCE)
    return predictions, {
        "mean_iou": scores["mean_iou"],
        "pixel_accuracy": scores["pixel_accuracy"],
        "boundary_accuracy": regions["boundary_accuracy"],
        "internal_accuracy": regions["internal_accuracy"],
    }


def plot_predictions(images, masks, predictions, names, path, count=4):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from keras_lk.data import colorize_mask

    columns = ["image", "label"] + list(names)
    figure = Figure(figsize=(2.2 * len(columns), 2.2 * count))
    axes = figure.subplots(count, len(columns), squeeze=False)
    for row in range(count):
        panels = [images[row], colorize_mask(masks[row])]
        panels += [colorize_mask(p[row]) for p in predictions]
        for column, panel in enumerate(panels):
            axis = axes[row, column]
            axis.imshow(panel)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(columns[column], fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_curves(histories, path):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.2))
    loss_axis, miou_axis = figure.subplots(1, 2)
    for name, history in histories.items():
        epochs = np.arange(1, len(history["loss"]) + 1)
        loss_axis.plot(epochs, history["loss"], label=name)
        miou_axis.plot(epochs, history["miou"], label=name)
    loss_axis.set(xlabel="epoch", ylabel="training loss")
    miou_axis.set(xlabel="epoch", ylabel="training mIoU (running, per epoch)")
    loss_axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="outputs/demo", help="where results go (replaced)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and data order")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (tests)")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else DemoSettings()

    import keras

    from keras_lk import data
    from keras_lk.training import train

    shutil.rmtree(args.output_dir, ignore_errors=True)
    os.makedirs(args.output_dir)
    scene_config = data.SceneConfig(image_size=settings.image_size)
    images, masks = data.large_object_scenes_numpy(
        "val", num_images=settings.num_val_images, config=scene_config
    )
    print(f"keras_lk demo: {settings}\n", flush=True)

    results, histories, predictions = [], {}, []
    for name, head, k, paper_row in MODELS:
        k = settings.k if k is None else k
        name = name.format(k=k)
        run_dir = os.path.join(args.output_dir, head)
        print(f"== training {name} ({settings.steps} steps) ==", flush=True)
        start = time.perf_counter()
        result = train(train_config(settings, head, k, run_dir, args.seed))
        train_seconds = time.perf_counter() - start
        model = keras.saving.load_model(result.model_path, safe_mode=True)
        predicted, metrics = evaluate(model, images, masks)
        results.append({
            "model": name, "head": head, "k": k, "params": model.count_params(),
            "train_seconds": train_seconds, "steps": result.step, **metrics,
            "paper_table5": gcn.TABLE_5[paper_row], "paper_row": paper_row,
        })
        histories[name] = result.history
        predictions.append(predicted)

    print(f"\nValidation, {settings.num_val_images} built-in scenes of {settings.image_size}², "
          f"boundary = within {BOUNDARY_DISTANCE} px of an object boundary (GCN Table 5)")
    header = (f"{'model':<14} {'mIoU':>6} {'boundary':>9} {'internal':>9} {'params':>10} "
              f"{'train s':>8} | paper (VOC) mIoU / boundary / internal")
    print(header)
    print("-" * len(header))
    for row in results:
        paper = row["paper_table5"]
        print(f"{row['model']:<14} {100 * row['mean_iou']:6.1f} {100 * row['boundary_accuracy']:9.1f} "
              f"{100 * row['internal_accuracy']:9.1f} {row['params']:>10,} {row['train_seconds']:8.0f} | "
              f"{paper['miou']:.1f} / {paper['boundary_acc']:.1f} / {paper['internal_acc']:.1f} "
              f"({row['paper_row']})")
    base, large = results
    paper_base, paper_large = base["paper_table5"], large["paper_table5"]
    print(f"GCN − baseline: mIoU {100 * (large['mean_iou'] - base['mean_iou']):+.1f}, boundary "
          f"{100 * (large['boundary_accuracy'] - base['boundary_accuracy']):+.1f}, internal "
          f"{100 * (large['internal_accuracy'] - base['internal_accuracy']):+.1f} points "
          f"(paper: mIoU {paper_large['miou'] - paper_base['miou']:+.1f}, boundary "
          f"{paper_large['boundary_acc'] - paper_base['boundary_acc']:+.1f}, internal "
          f"{paper_large['internal_acc'] - paper_base['internal_acc']:+.1f})")

    plot_predictions(images, masks, predictions, [r["model"] for r in results],
                     os.path.join(args.output_dir, "predictions.png"))
    plot_curves(histories, os.path.join(args.output_dir, "curves.png"))
    with open(os.path.join(args.output_dir, "results.json"), "w") as f:
        json.dump({"settings": dataclasses.asdict(settings), "seed": args.seed,
                   "versions": {"keras": keras.__version__}, "results": results}, f, indent=2)
    print(f"\nWrote {args.output_dir}/results.json, predictions.png, curves.png and one run "
          f"directory per model.")
    return results


if __name__ == "__main__":
    main()
