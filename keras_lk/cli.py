"""The `keras-lk` command line: `train`, `evaluate`, `predict`.

    keras-lk train --model gcn --backbone resnet18 --steps 200 --output-dir runs/gcn
    keras-lk evaluate --model-path runs/gcn/model.keras --dataset scenes
    keras-lk predict --model-path runs/gcn/model.keras --input photos/ --output-dir masks/

Every `train` flag is a field of `keras_lk.training.TrainConfig`. Errors in the input
(missing data dir, unknown dataset, corrupt checkpoint, labels out of range, a diverged
loss) print one line `keras-lk: error: ...` and exit with status 2; `--debug` shows the
traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import typing

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PROG = "keras-lk"

TRAIN_HELP = {
    "output_dir": "run directory: model.keras, checkpoints/, backup/, logs/, training_log.csv",
    "model": "architecture",
    "backbone": "resnet18 | resnet50 | resnet101 | resnet152 | resnet50_gcn (GCN only)",
    "k": "GCN kernel size (odd)",
    "head": "GCN head: gcn | conv1x1 (Table 1 baseline) | conv_kxk | stack3x3",
    "boundary_refine": "GCN Boundary Refinement blocks (Table 5)",
    "optimizer": "sgd (the papers': momentum, L2 on kernels) | adam (from-scratch CPU runs; --l2 0)",
    "use_sync_bn": "synchronised BatchNorm across replicas",
    "dataset": "built-in 'scenes' or a keras_lk TFDS builder",
    "data_dir": "TFDS data directory (TFDS datasets)",
    "manual_dir": "directory of the official archives (first use of a TFDS dataset)",
    "train_split": "training split (default: the dataset's, e.g. train_aug for voc_sbd)",
    "num_train_images": "number of built-in scenes to train on",
    "image_size": "side of the built-in scenes, pixels",
    "crop_size": "side of the square training crops",
    "scale_range": "random scale range MIN MAX",
    "flip": "random horizontal flip",
    "normalization": "caffe | torch | tf | zero_one | none",
    "batch_size": "global batch size, split across replicas",
    "steps": "total optimizer steps (a multiple of --steps-per-epoch)",
    "steps_per_epoch": "steps between backups; a killed run resumes from the last one",
    "checkpoint_every": "save checkpoints/step_N.keras every N steps (0: off)",
    "learning_rate": "base learning rate",
    "momentum": "SGD momentum (GCN 0.99, GALD/FCRN 0.9)",
    "l2": "L2 weight decay on kernels only (GCN 5e-4)",
    "schedule": "learning-rate schedule",
    "poly_power": "power of the poly schedule",
    "step_size": "steps between decays of the step schedule",
    "step_gamma": "decay factor of the step schedule",
    "warmup_steps": "linear warm-up steps",
    "head_lr_multiplier": "learning-rate factor of the non-backbone (head) variables",
    "loss": "cross_entropy | ohem",
    "ohem_mode": "fcrn | gald (see keras_lk.losses.OHEMLoss)",
    "ohem_threshold": "OHEM probability threshold",
    "ohem_min_kept": "OHEM minimum kept pixels per image",
    "aux_weight": "weight of GALD's auxiliary loss",
    "precision": "float32 | mixed_float16 | mixed_bfloat16 | auto (bf16 where supported)",
    "jit_compile": "XLA compilation (float32 only)",
    "strategy": "distribution strategy",
    "num_cpu_devices": "logical CPU devices for --strategy mirrored without GPU",
    "seed": "seed of Python, NumPy, TF, weights and data order",
    "deterministic": "enable TF op determinism (bitwise-reproducible runs)",
    "ignore_label": "void label excluded from loss and metrics",
    "num_classes": "override the dataset's number of classes",
    "tensorboard": "write TensorBoard logs",
    "verbose": "0 silent, 1 progress bar, 2 one line per epoch",
}


def _flag(name):
    return "--" + name.replace("_", "-")


def _add_train_arguments(parser):
    from keras_lk.training import config as config_module

    choices = config_module.CHOICES
    hints = typing.get_type_hints(config_module.TrainConfig)
    for field in dataclasses.fields(config_module.TrainConfig):
        hint = hints[field.name]
        help_text = f"{TRAIN_HELP[field.name]} (default: {field.default})"
        kwargs = {"default": field.default, "help": help_text}
        if hint is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif field.name == "scale_range":
            kwargs.update(nargs=2, type=float, metavar=("MIN", "MAX"))
        else:
            base = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
            kwargs["type"] = base[0]
        if field.name in choices:
            kwargs["choices"] = choices[field.name]
        parser.add_argument(_flag(field.name), **kwargs)


def _add_data_arguments(parser, default_split="val"):
    from keras_lk.training.config import DATASETS

    parser.add_argument("--model-path", required=True, help="a .keras model saved by train")
    parser.add_argument("--dataset", default="scenes", choices=DATASETS,
                        help="dataset (default: scenes)")
    parser.add_argument("--split", default=default_split, help="split (default: val)")
    parser.add_argument("--data-dir", help="TFDS data directory (TFDS datasets)")
    parser.add_argument("--manual-dir", help="directory of the official archives")
    parser.add_argument("--num-images", type=int, default=None,
                        help="limit the number of images (scenes: split size)")
    parser.add_argument("--image-size", type=int, default=64, help="side of built-in scenes")
    parser.add_argument("--num-classes", type=int, default=None,
                        help="number of classes (default: the dataset's)")
    parser.add_argument("--ignore-label", type=int, default=255, help="void label")
    parser.add_argument("--normalization", default="caffe",
                        help="input normalisation used in training (default: caffe)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Large-kernel semantic segmentation: train, evaluate, predict."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model (resumes from OUTPUT_DIR/backup)",
                           description="Train a model; every flag is a TrainConfig field.")
    _add_train_arguments(train)
    evaluate = sub.add_parser(
        "evaluate", help="mIoU, per-class IoU, accuracies and boundary/internal accuracy")
    _add_data_arguments(evaluate)
    evaluate.add_argument("--output", help="write the metrics to this JSON file")
    evaluate.add_argument("--boundary-distance", type=int, default=7,
                          help="boundary region half-width in pixels (GCN Table 5: 7)")
    predict = sub.add_parser("predict", help="write palette PNG masks for images")
    predict.add_argument("--model-path", required=True, help="a .keras model saved by train")
    predict.add_argument("--input", required=True, nargs="+",
                         help="image files or directories of images")
    predict.add_argument("--output-dir", required=True, help="where to write the PNG masks")
    predict.add_argument("--normalization", default="caffe",
                         help="input normalisation used in training (default: caffe)")
    return parser


def load_model(path):
    """Loads a `.keras` model with `safe_mode=True`; one-line `ValueError` on failure."""
    import keras

    import keras_lk.models
    import keras_lk.training  # noqa: F401

    if not os.path.isfile(path):
        raise ValueError(f"`--model-path` {path!r} does not exist.")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # noqa: BLE001  (zip, h5, config errors all mean "corrupt")
        raise ValueError(f"cannot load model {path!r} (corrupt or not a .keras file): "
                         f"{_first_line(error)}") from None


def _logits(outputs):
    return outputs["logits"] if isinstance(outputs, dict) else outputs


def evaluate(args):
    """Single-scale evaluation over `eval_pipeline`: mIoU, pixel and mean class accuracy,
    boundary / internal accuracy (GCN Table 5), with `keras_lk.evaluation`."""
    import numpy as np

    from keras_lk import data, evaluation
    from keras_lk.training.trainer import num_classes_of, raw_dataset

    num_classes = args.num_classes or num_classes_of(args.dataset)
    raw = raw_dataset(args.dataset, args.split, data_dir=args.data_dir,
                      manual_dir=args.manual_dir, num_images=args.num_images,
                      image_size=args.image_size)
    if args.dataset != "scenes" and args.num_images:
        raw = raw.take(args.num_images)
    model = load_model(args.model_path)
    dataset = data.eval_pipeline(raw, batch_size=1, num_classes=num_classes,
                                 ignore_label=args.ignore_label,
                                 normalization=args.normalization)
    matrix = np.zeros((num_classes, num_classes), np.int64)
    regions = evaluation.BoundaryInternalAccuracy(distance=args.boundary_distance,
                                                  ignore_label=args.ignore_label)
    for images, masks in dataset:
        predictions = np.argmax(_logits(model(images, training=False)), axis=-1)
        labels = masks.numpy()[..., 0]
        matrix += evaluation.confusion_matrix(labels, predictions, num_classes,
                                              ignore_label=args.ignore_label)
        regions.update(labels, predictions)
    scores = evaluation.scores_from_confusion(matrix)
    metrics = {
        "miou": scores["mean_iou"],
        "per_class_iou": [None if np.isnan(v) else float(v) for v in scores["iou"]],
        "pixel_accuracy": scores["pixel_accuracy"],
        "mean_class_accuracy": scores["mean_class_accuracy"],
        **regions.result(),
    }
    print(f"mIoU {metrics['miou']:.4f}  pixel acc {metrics['pixel_accuracy']:.4f}  "
          f"mean class acc {metrics['mean_class_accuracy']:.4f}  boundary acc "
          f"{metrics['boundary_accuracy']:.4f}  internal acc {metrics['internal_accuracy']:.4f}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(metrics, f, indent=2)
    return 0


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


def _image_paths(inputs):
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += sorted(os.path.join(item, f) for f in os.listdir(item)
                            if f.lower().endswith(IMAGE_SUFFIXES))
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise ValueError(f"`--input` {item!r} does not exist.")
    if not paths:
        raise ValueError(f"`--input` {inputs!r} holds no image ({', '.join(IMAGE_SUFFIXES)}).")
    return paths


def predict(args):
    """Writes one palette PNG per input image: pixel values are labels, colours VOC's."""
    import numpy as np
    from PIL import Image

    from keras_lk.data import normalize_image
    from keras_lk.evaluation import save_label_png

    paths = _image_paths(args.input)
    model = load_model(args.model_path)
    os.makedirs(args.output_dir, exist_ok=True)
    for path in paths:
        try:
            image = np.asarray(Image.open(path).convert("RGB"))
        except OSError as error:
            raise ValueError(f"cannot read image {path!r}: {error}") from None
        batch = normalize_image(image[None], args.normalization)
        mask = np.argmax(_logits(model(batch, training=False))[0], axis=-1).astype(np.uint8)
        name = os.path.splitext(os.path.basename(path))[0] + ".png"
        save_label_png(os.path.join(args.output_dir, name), mask)  # VOC palette
    print(f"wrote {len(paths)} masks to {args.output_dir}")
    return 0


def train(args):
    from keras_lk.training import TrainConfig
    from keras_lk.training import train as run

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    if values["scale_range"] is not None:
        values["scale_range"] = tuple(values["scale_range"])
    result = run(TrainConfig(**values))
    skipped = result.step - result.optimizer_steps
    note = f", {skipped} updates skipped by loss scaling" if skipped > 0 else ""
    print(f"trained to step {result.step} (resumed at step {result.initial_step}{note}); "
          f"model saved to {result.model_path}")
    return 0


def _op_error_lines(error):
    """The message lines of a TensorFlow op error, without where the op was defined."""
    text = error.message
    if "assertion failed:" in text:
        text = text.split("assertion failed:", 1)[1]
    lines = text.splitlines()
    # "Graph execution error: Detected at node ... defined at: File ... File ..." comes
    # first in graph mode; the message follows the last frame.
    frames = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
    if frames:
        lines = lines[frames[-1] + 1:]
    lines = [re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", line.strip()) for line in lines]
    return [line for line in lines if line and not line.startswith("[[")]


def _one_line(error):
    import tensorflow as tf

    if isinstance(error, tf.errors.OpError):
        lines = _op_error_lines(error) or [type(error).__name__]
        if isinstance(error, tf.errors.UnavailableError):
            # MultiWorkerMirroredStrategy: a peer died; its task names are on line 2.
            return (f"a worker of the cluster is gone: {' '.join(lines[:2])} Restart every "
                    "worker with the same command to resume from the backups.")
        return lines[0]
    return _first_line(error)


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def main(argv=None):
    """Entry point of the `keras-lk` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    commands = {"train": train, "evaluate": evaluate, "predict": predict}
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.debug:
            raise
        import tensorflow as tf

        from keras_lk.training import TrainingDivergedError

        known = (ValueError, OSError, TrainingDivergedError, tf.errors.OpError)
        if isinstance(error, known):
            print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
            return 2
        print(f"{PROG}: error: {type(error).__name__}: {_one_line(error)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
