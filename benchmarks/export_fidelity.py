"""How far each exported file is from Keras, per family and format.

    python benchmarks/export_fidelity.py [--backbone resnet18] [--size 256 320]

Builds GCNSeg (k = 15, BR), GALDNet (CGNL + LD, OS 8) and FCRN (OS 8, 5×5 at rate 12)
on `--backbone` with random weights, exports each to SavedModel, ONNX and LiteRT with
`keras_lk.export.export_model` (dynamic height and width), runs every file in its runtime
on one random image of `--size`, and prints the max and mean absolute logit difference
from the float32 Keras model and the share of pixels whose argmax differs. The unit tests
check the same on tiny models against a fixed tolerance; this prints the figures at a
realistic depth and size.
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def _families(backbone):
    from keras_lk import models

    return {
        "GCNSeg": lambda: models.GCNSeg(21, k=15, backbone=backbone),
        "GALDNet": lambda: models.GALDNet(19, backbone=backbone, ga="cgnl", ld=True),
        "FCRN": lambda: models.FCRN(21, backbone=backbone),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--size", type=int, nargs=2, default=(256, 320), metavar=("H", "W"))
    args = parser.parse_args(argv)

    import keras

    from keras_lk import export

    images = np.random.default_rng(0).normal(size=(1, *args.size, 3)).astype("float32")
    print(f"backbone {args.backbone}, input {args.size[0]}×{args.size[1]}, random weights")
    print("| family | format | max abs diff | mean abs diff | argmax differs |")
    print("|---|---|---|---|---|")
    for family, build in _families(args.backbone).items():
        keras.utils.set_random_seed(0)
        model = build()
        expected = keras.ops.convert_to_numpy(model.main_logits(model(images, training=False)))
        with tempfile.TemporaryDirectory() as directory:
            for format, suffix in (("saved_model", ""), ("onnx", ".onnx"),
                                   ("litert", ".tflite")):
                path = os.path.join(directory, family + suffix)
                export.export_model(model, path, format=format)
                got = export.load_exported(path, format)(images)
                diff = np.abs(got - expected)
                flipped = np.mean(got.argmax(-1) != expected.argmax(-1))
                print(f"| {family} | {format} | {diff.max():.2e} | {diff.mean():.2e} | "
                      f"{100 * flipped:.3f} % |", flush=True)


if __name__ == "__main__":
    main()
