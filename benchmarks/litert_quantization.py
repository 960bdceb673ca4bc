"""LiteRT post-training quantization: what it costs in mIoU and gains in latency and size.

    make demo    # trains outputs/demo/gcn/model.keras (GCN k = 15 on the built-in scenes)
    python benchmarks/litert_quantization.py [--model-path outputs/demo/gcn/model.keras]

Exports a trained model three times with `keras_lk.export.export_model(format="litert")`
at its training size: float32, ``quantization="dynamic"`` (int8 weights) and
``quantization="int8"`` (int8 weights and activations, calibrated on the first
`--num-calibration` images of the `train` split, never on the evaluated split). Each
file is evaluated on every image of `--split` (mIoU, in its LiteRT interpreter) beside
the Keras model, and timed on one image, batch 1, interleaved repeats, median. The mIoU
change is the figure that says what quantization costs; it is printed, not hidden.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

VARIANTS = (None, "dynamic", "int8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-path", default="outputs/demo/gcn/model.keras")
    parser.add_argument("--dataset", default=None,
                        help="default: the run's (config.json beside the model), else scenes")
    parser.add_argument("--image-size", type=int, default=None,
                        help="scenes image size; default: the run's, else the dataset's")
    parser.add_argument("--split", default="test")
    parser.add_argument("--num-calibration", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    from keras_lk import cli, data, export
    from keras_lk.evaluation import confusion_matrix, scores_from_confusion

    model = cli.load_model(args.model_path)
    run_config = os.path.join(os.path.dirname(args.model_path), "config.json")
    trained = {}
    if os.path.exists(run_config):  # what the run trained on (a `keras-lk train` run)
        with open(run_config) as f:
            trained = json.load(f)
    args.dataset = args.dataset or trained.get("dataset", "scenes")
    args.image_size = args.image_size or trained.get("image_size")
    info = data.DATASETS[args.dataset]
    load_options = {"image_size": args.image_size} if args.image_size else {}

    def normalized(examples):
        for example in examples.as_numpy_iterator():
            image = data.normalize_image(example["image"][None].astype("float32"),
                                         model.normalization)
            yield np.asarray(image), example["segmentation_mask"][..., 0]

    evaluated = list(normalized(info.load(args.split, **load_options)))
    size = evaluated[0][0].shape[1:3]
    if any(image.shape[1:3] != size for image, _ in evaluated):
        raise ValueError(f"split {args.split!r} mixes image sizes; this benchmark exports "
                         "at one fixed size.")
    calibration = [image for image, _ in normalized(
        info.load("train", num_images=args.num_calibration, **load_options))]

    predictors = {"Keras float32": lambda images: np.asarray(
        model.main_logits(model.predict_on_batch(images)))}
    sizes = {}
    with tempfile.TemporaryDirectory() as directory:
        for quantization in VARIANTS:
            name = f"LiteRT {quantization or 'float32'}"
            path = os.path.join(directory, f"{quantization or 'float32'}.tflite")
            export.export_model(model, path, format="litert", input_size=size,
                                quantization=quantization,
                                representative_images=calibration
                                if quantization == "int8" else None)
            sizes[name] = os.path.getsize(path) / 1e6
            predictors[name] = export.load_exported(path, "litert")
        scores = {}
        for name, predict in predictors.items():
            matrix = np.zeros((model.num_classes,) * 2, np.int64)
            for image, label in evaluated:
                matrix += confusion_matrix(label, predict(image)[0].argmax(-1),
                                           model.num_classes, ignore_label=model.ignore_label)
            scores[name] = 100 * float(scores_from_confusion(matrix)["mean_iou"])
        image = evaluated[0][0]
        for predict in predictors.values():
            predict(image)  # warm-up
        times = {name: [] for name in predictors}
        for _ in range(args.repeats):
            for name, predict in predictors.items():
                start = time.perf_counter()
                predict(image)
                times[name].append(1000 * (time.perf_counter() - start))

    reference = scores["LiteRT float32"]
    base_ms = statistics.median(times["LiteRT float32"])
    print(f"python {' '.join(sys.argv)}")
    print(f"{args.model_path}: {type(model).__name__}, {args.dataset} {args.split} "
          f"({len(evaluated)} images of {size[0]}×{size[1]}), int8 calibrated on "
          f"{len(calibration)} train images; batch 1, {os.cpu_count()} CPU threads, "
          f"median of {args.repeats}")
    print("| model | file MB | mIoU | Δ mIoU vs LiteRT float32 | ms | speed-up |")
    print("|---|---|---|---|---|---|")
    for name in predictors:
        ms = statistics.median(times[name])
        file_mb = f"{sizes[name]:.2f}" if name in sizes else ""
        print(f"| {name} | {file_mb} | {scores[name]:.2f} | {scores[name] - reference:+.2f} | "
              f"{ms:.1f} | {base_ms / ms:.2f}× |")


if __name__ == "__main__":
    main()
