"""`keras_lk.Segmenter` against calling the model directly, on a 500×375 photo.

    python benchmarks/inference_api.py [--backbone resnet50] [--repeats 7]

Both paths predict the same image's label map at 500×375 (the VOC photo size): the
direct path normalizes, calls the model and takes the argmax, as a user would by hand;
`Segmenter` adds reading and checking the input, grouping by size and the model's
metadata. Interleaved repeats in one process, median; the ratio is what the API costs.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    import keras_lk
    from keras_lk.data import normalize_image
    from keras_lk.models import GCNSeg

    model = GCNSeg(num_classes=21, k=15, boundary_refine=True, backbone=args.backbone)
    image = np.random.default_rng(0).integers(0, 256, (375, 500, 3), dtype=np.uint8)
    segmenter = keras_lk.Segmenter(model)

    def direct():
        batch = np.asarray(normalize_image(image[None].astype("float32"), model.normalization))
        return np.argmax(np.asarray(model.main_logits(model(batch, training=False)))[0], -1)

    def api():
        return segmenter(image).labels

    np.testing.assert_array_equal(direct(), api())  # the same labels (and a warm-up)
    times = {"direct": [], "Segmenter": []}
    for _ in range(args.repeats):
        for name, call in (("direct", direct), ("Segmenter", api)):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"GCNSeg-{args.backbone} (k = 15, BR), 500×375, batch 1, float32, median of "
          f"{args.repeats}:")
    for name, value in medians.items():
        print(f"  {name:<10} {1000 * value:8.1f} ms")
    print(f"  Segmenter / direct = {medians['Segmenter'] / medians['direct']:.3f}")


if __name__ == "__main__":
    main()
