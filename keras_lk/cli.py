"""The `keras-lk` command line: `train`, `evaluate`, `predict`.

    keras-lk train --model gcn --model-option k=15 --backbone resnet18 --steps 200 \\
        --output-dir runs/gcn
    keras-lk evaluate --model-path runs/gcn/model.keras --dataset scenes
    keras-lk predict --model-path runs/gcn/model.keras --input photos/ --output-dir masks/
    keras-lk export --model-path runs/gcn/model.keras --format onnx --output gcn.onnx

Every `train` flag is a field of `keras_lk.training.TrainConfig`, documented by its
docstring; `--model-option KEY=VALUE` sets the family's own options (the arguments of
`keras_lk.models.GCNSeg`, `GALDNet`, `FCRN`), listed by `keras-lk train --help`.
`evaluate` and `predict` read classes, palette and normalization from the saved model. Errors in the input
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

from keras_lk._moved import moved_attributes
from keras_lk.utils.errors import first_line

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PROG = "keras-lk"

def _flag(name):
    return "--" + name.replace("_", "-")


def _number_or_text(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_option(text, defaults):
    """``KEY=VALUE`` of ``--model-option`` → ``(key, value)``, the value typed like the
    option's default: ``none`` → None, ``true``/``false`` → bool, numbers, ``a,b,c`` or a
    JSON list for tuples; with a None default, a number if it reads as one, else text."""
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise ValueError(f"`--model-option` must be KEY=VALUE, received {text!r}.")
    if key not in defaults:
        return key, raw  # TrainConfig names the unknown option and lists the known ones
    default = defaults[key]
    if raw.lower() in ("none", "null"):
        return key, None
    if isinstance(default, tuple):
        items = json.loads(raw) if raw.startswith("[") else raw.split(",")
        return key, tuple(_number_or_text(str(v)) for v in items)
    if default is None or isinstance(default, str):
        return key, _number_or_text(raw) if default is None else raw
    kind = type(default)
    try:
        if kind is bool:
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return key, raw.lower() == "true"
        return key, kind(raw)
    except ValueError:
        raise ValueError(
            f"`--model-option {key}` must be a {kind.__name__} like its default "
            f"{default!r}, received {raw!r}."
        ) from None


def model_options_help():
    """``--help`` text of every family's options, from the model classes' docstrings."""
    from keras_lk.models import MODELS

    lines = ["model options (--model-option KEY=VALUE, repeatable), by --model:"]
    for name in MODELS:
        info = MODELS[name]
        lines.append(f"  {name}: {info.description}")
        docs = info.option_help()
        for option, default in info.options().items():
            lines.append(f"    {option} (default {default!r}): {docs[option]}")
    return "\n".join(lines)


def _add_train_arguments(parser):
    from keras_lk.training import config as config_module
    from keras_lk.utils.docstrings import parse_args

    choices = config_module.choices()
    docs = parse_args(config_module.TrainConfig.__doc__)
    hints = typing.get_type_hints(config_module.TrainConfig)
    for field in dataclasses.fields(config_module.TrainConfig):
        if field.name == "model_options":
            parser.add_argument("--model-option", dest="model_options", action="append",
                                default=[], metavar="KEY=VALUE",
                                help=f"{docs[field.name]} Repeatable; see the list below.")
            continue
        hint = hints[field.name]
        kwargs = {"default": field.default, "help": f"{docs[field.name]} (default: "
                  f"{field.default})"}
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


def _add_data_arguments(parser):
    from keras_lk.data import DATASETS

    parser.add_argument("--model-path", required=True, help="a .keras model saved by train")
    parser.add_argument("--dataset", default="scenes", choices=DATASETS.names(),
                        help="dataset (default: scenes)")
    parser.add_argument("--split", default=None,
                        help="split (default: the dataset's evaluation split, e.g. val)")
    parser.add_argument("--data-dir", help="TFDS data directory (TFDS datasets)")
    parser.add_argument("--manual-dir", help="directory of the official archives")
    parser.add_argument("--num-images", type=int, default=None,
                        help="use only the first this many images (scenes: split size)")
    parser.add_argument("--image-size", type=int, default=None,
                        help="side of built-in scenes (default 64)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG, description="Large-kernel semantic segmentation: train, evaluate, predict."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model (resumes from OUTPUT_DIR/backup)",
                           description="Train a model; every flag is a TrainConfig field.",
                           epilog=model_options_help(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_train_arguments(train)
    train.add_argument("--resume-with-changed-config", action="store_true",
                       help="resume from OUTPUT_DIR/backup although its run was configured "
                            "otherwise (default: an error naming the changed fields)")
    evaluate = sub.add_parser(
        "evaluate", help="mIoU, per-class IoU, accuracies and boundary/internal accuracy")
    _add_data_arguments(evaluate)
    evaluate.add_argument("--output", help="write the metrics to this JSON file")
    evaluate.add_argument("--boundary-distance", type=int, default=7,
                          help="boundary region half-width in pixels (GCN Table 5: 7)")
    evaluate.add_argument("--allow-subset", action="store_true",
                          help="use a dataset prepared from a subset of the official archives")
    predict = sub.add_parser("predict", help="write palette PNG masks for images")
    predict.add_argument("--model-path", required=True, help="a .keras model saved by train")
    predict.add_argument("--input", required=True, nargs="+",
                         help="image files or directories of images")
    predict.add_argument("--output-dir", required=True, help="where to write the PNG masks")
    predict.add_argument("--scales", type=float, nargs="+", default=[1.0],
                         help="test scales, averaged (default: one pass at 1.0)")
    predict.add_argument("--flip", action="store_true", help="also average the flipped image")
    predict.add_argument("--tile", type=int, help="sliding-window tile side (default: whole)")
    predict.add_argument("--crf", action="store_true",
                         help="dense CRF with DeepLab's VOC parameters (keras_lk[crf])")
    from keras_lk.export import FORMATS

    exporter = sub.add_parser(
        "export", help="write the main logits as a SavedModel, ONNX or LiteRT file",
        description="Export a model's main logits (keras_lk.export.export_model); the "
                    "converters are the keras_lk[export] extra.")
    exporter.add_argument("--model-path", required=True, help="a .keras model saved by train")
    exporter.add_argument("--format", required=True, choices=FORMATS,
                          help="saved_model (a directory), onnx, litert (a .tflite file)")
    exporter.add_argument("--output", required=True, help="the directory or file to write")
    exporter.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"),
                          default=None,
                          help="fixed input height and width (default: the model's, dynamic)")
    exporter.add_argument("--batch-size", type=int, default=1,
                          help="batch dimension of the exported input (default: 1)")
    exporter.add_argument("--quantization", choices=("dynamic", "int8"), default=None,
                          help="litert only: post-training quantization, dynamic (int8 "
                               "weights) or int8 (weights and activations; needs "
                               "--representative-images)")
    exporter.add_argument("--representative-images", nargs="+", metavar="IMAGE",
                          default=None,
                          help="int8: image files of your data that calibrate the "
                               "activation ranges (resized to --input-size)")
    return parser


def representative_images(paths, normalization, input_size=None):
    """The normalized images of `paths` (resized to `input_size` if given), for int8."""
    import numpy as np
    import tensorflow as tf

    from keras_lk.data import normalize_image
    from keras_lk.inference import read_image

    images = []
    for path in paths:
        image = tf.convert_to_tensor(read_image(path), tf.float32)
        if input_size is not None:
            image = tf.image.resize(image, input_size, method="bilinear")
        images.append(np.asarray(normalize_image(image, normalization)))
    return images


def evaluate(args):
    """Single-scale evaluation (`keras_lk.evaluation.evaluate_segmentation`): mIoU, pixel
    and mean class accuracy, boundary / internal accuracy (GCN Table 5). Classes, ignore
    label and input normalization are the model's."""
    from keras_lk import data, evaluation, models

    info = data.DATASETS[args.dataset].for_data_dir(args.data_dir)
    split = info.eval_split if args.split is None else args.split
    raw = info.load(split, data_dir=args.data_dir, manual_dir=args.manual_dir,
                    num_images=args.num_images, image_size=args.image_size,
                    allow_subset=args.allow_subset)
    model = models.load_model(args.model_path)
    try:
        metrics = evaluation.evaluate_segmentation(
            model, raw, boundary_distance=args.boundary_distance)
    except ValueError as error:
        raise ValueError(f"dataset {args.dataset!r} split {split!r}: {error}") from error
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
    # One mask per file stem: x.png and x.jpg would write the same x.png.
    by_stem = {}
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem in by_stem:
            raise ValueError(f"`--input` has two images named {stem!r} ({by_stem[stem]!r} and "
                             f"{path!r}); their masks would both be {stem}.png.")
        by_stem[stem] = path
    return paths


def predict(args):
    """Writes one palette PNG per input image (`keras_lk.Segmenter`): pixel values are
    labels, colours the model's palette (VOC's when it has none), at each image's size."""
    from keras_lk import models
    from keras_lk.evaluation.crf import CRF_VOC
    from keras_lk.inference import Segmenter, read_image

    paths = _image_paths(args.input)
    segmenter = Segmenter(models.load_model(args.model_path), scales=tuple(args.scales),
                          flip=args.flip, tile=args.tile,
                          crf=dict(CRF_VOC) if args.crf else None)
    os.makedirs(args.output_dir, exist_ok=True)
    for path in paths:  # one at a time: the images of a folder differ in size
        result = segmenter(read_image(path, name=path))
        name = os.path.splitext(os.path.basename(path))[0] + ".png"
        result.save(os.path.join(args.output_dir, name))
    print(f"wrote {len(paths)} masks to {args.output_dir}")
    return 0


def export(args):
    """Writes the model's main logits as a SavedModel, ONNX or LiteRT file
    (`keras_lk.export.export_model`)."""
    from keras_lk import models
    from keras_lk.export import export_model

    model = models.load_model(args.model_path)
    input_size = None if args.input_size is None else tuple(args.input_size)
    images = None
    if args.representative_images:
        images = representative_images(args.representative_images, model.normalization,
                                       input_size)
    path = export_model(model, args.output, format=args.format, input_size=input_size,
                        batch_size=args.batch_size, quantization=args.quantization,
                        representative_images=images)
    print(f"exported {args.model_path} ({args.format}) to {path}")
    return 0


def train(args):
    from keras_lk.models import MODELS
    from keras_lk.training import TrainConfig
    from keras_lk.training import train as run

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    if values["scale_range"] is not None:
        values["scale_range"] = tuple(values["scale_range"])
    defaults = MODELS[args.model].options()
    values["model_options"] = dict(parse_option(text, defaults) for text in args.model_options)
    result = run(TrainConfig(**values), allow_config_change=args.resume_with_changed_config)
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
    return first_line(error)


def main(argv=None):
    """Entry point of the `keras-lk` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    commands = {"train": train, "evaluate": evaluate, "predict": predict, "export": export}
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

        known = (ValueError, OSError, ImportError, TrainingDivergedError, tf.errors.OpError)
        if isinstance(error, known):
            print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
            return 2
        print(f"{PROG}: error: {type(error).__name__}: {_one_line(error)} "
              "(rerun with --debug for the traceback)", file=sys.stderr)
        return 1


__getattr__ = moved_attributes(__name__)

if __name__ == "__main__":
    sys.exit(main())
