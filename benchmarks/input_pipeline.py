"""Throughput of the keras_lk training input pipeline (examples/s) at 512² crops.

Examples are VOC-sized (500×375) built-in scenes held as JPEG bytes, so each step pays
what a TFDS dataset pays: JPEG decode, validation, random scale 0.5–2.0, caffe
normalisation, ignore-label padding, random 512² crop, flip, batching, prefetch.

Compare the figure with the rate at which the model consumes examples: a training step
must never wait for data (target ≥ 4× the GCNSeg-R50 train-step rate). `--model-steps N`
also times N training steps of GCNSeg-ResNet50 (k = 15, BR, random weights, batch 2)
at the same crop, to print the ratio on this machine.

Command (about 30 s on 2 CPU cores):
    PYTHONPATH=. python benchmarks/input_pipeline.py
    PYTHONPATH=. python benchmarks/input_pipeline.py --model-steps 3   # + model rate
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import tensorflow as tf

from keras_lk import data


def voc_like_examples(num_images, seed=0):
    """Built-in scenes cropped to 375×500 and JPEG-encoded, as a dataset of examples."""
    config = data.SceneConfig(image_size=500, num_classes=6)
    images, masks = data.large_object_scenes_numpy("train", num_images, seed, config)
    images, masks = images[:, :375], masks[:, :375]
    encoded = [tf.io.encode_jpeg(image, quality=90).numpy() for image in images]
    raw = tf.data.Dataset.from_tensor_slices(
        {
            "jpeg": encoded,
            "segmentation_mask": masks,
            "file_name": [f"b{i}" for i in range(num_images)],
        }
    )
    return raw.map(
        lambda ex: {
            "image": tf.io.decode_jpeg(ex["jpeg"], channels=3),
            "segmentation_mask": ex["segmentation_mask"],
            "file_name": ex["file_name"],
        }
    )


def pipeline_rate(dataset, crop, batch_size, steps, warmup):
    pipeline = data.train_pipeline(
        dataset,
        crop_size=crop,
        batch_size=batch_size,
        num_classes=6,
        scale_range=(0.5, 2.0),
        normalization="caffe",
        seed=0,
    )
    iterator = iter(pipeline)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(steps):
        images, _ = next(iterator)
    images.numpy()
    return steps * batch_size / (time.perf_counter() - start)


def model_rate(crop, batch_size, steps):
    import keras

    from keras_lk.models import GCNSeg

    model = GCNSeg(num_classes=21, k=15, backbone="resnet50", input_shape=(crop, crop, 3))
    model.compile(
        keras.optimizers.SGD(0.01),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255),
    )
    x = np.zeros((batch_size, crop, crop, 3), np.float32)
    y = np.zeros((batch_size, crop, crop, 1), np.int32)
    model.train_on_batch(x, y)  # compile / warm-up
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * batch_size / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crop", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument(
        "--model-steps",
        type=int,
        default=0,
        help="also time N train steps of GCNSeg-R50 (slow on CPU)",
    )
    args = parser.parse_args()
    dataset = voc_like_examples(args.images)
    rate = pipeline_rate(dataset, args.crop, args.batch_size, args.steps, args.warmup)
    print(
        f"input pipeline | crop {args.crop}² | batch {args.batch_size} | "
        f"{rate:.1f} examples/s | {os.cpu_count()} CPUs"
    )
    if args.model_steps:
        consumed = model_rate(args.crop, 2, args.model_steps)
        print(
            f"GCNSeg-R50 train step | crop {args.crop}² | {consumed:.2f} examples/s | "
            f"pipeline / model = {rate / consumed:.1f}×"
        )


if __name__ == "__main__":
    main()
