"""Where a CPU-scale training step spends its time: the input pipeline, the forward pass,
the backward pass and update, the mIoU metric, and the rest of Keras's fit loop.

A row of `recipes/gcn/` at CPU scale (`keras_lk.experiments.settings.GCN_SCENES`:
resnet10_local from the packaged "scenes" weights, 128² scenes, batch 16, float32, SGD
with the heads' learning-rate multiplier), built and compiled as
`keras_lk.training.train` builds it, then timed part by part, in milliseconds per step:

- ``input``: drawing one batch from the training pipeline (`train_dataset`) alone;
- ``forward``: `predict_on_batch` of one batch (the compiled predict function,
  inference mode);
- ``train step``: `train_on_batch` of one fixed batch: the training-mode forward, the
  loss, the mIoU metric, the gradients and the SGD update;
- ``train step, no metric``: the same, compiled without the mIoU metric;
- ``fit``: `model.fit` on the pipeline, as the recipes train (the step time of
  `keras_lk.training.StepTimer`);

and two references that keras_lk replaced, timed like ``train step``:

- ``Keras MeanIoU``: with `keras.metrics.MeanIoU` for `SegmentationMeanIoU`;
- ``log-softmax loss``: with the loss's log-softmax over the innermost class axis and
  a gather of the label's entry (`pixel_log_likelihood` above
  `CLASS_AXIS_FIRST_UP_TO`), for the class axis first.

Each is the median over `--repeats` rounds of `--steps` calls, after a warm-up that
compiles. The differences say what each part costs: train step − forward is the
backward pass, the update and the training-mode extras (BatchNorm's statistics);
train step − the same without the metric is the metric; fit − train step is what the
fit loop adds on top of a fixed batch (the input, where the pipeline does not keep up,
and callbacks).

    python benchmarks/cpu_scale_breakdown.py            # 1×1 and GCN k = 15, ~3 minutes
    python benchmarks/cpu_scale_breakdown.py --smoke    # tiny images, to check it runs
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROWS = (("1×1 (base)", {"head": "conv1x1", "k": 1, "boundary_refine": False}),
        ("GCN k = 15", {"head": "gcn", "k": 15, "boundary_refine": False}))
PARTS = ("input", "forward", "train step", "train step, no metric", "fit", "Keras MeanIoU",
         "log-softmax loss")


def _median_ms(call, steps, repeats):
    """Median over `repeats` rounds of the milliseconds per call of `steps` calls."""
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            call()
        rounds.append(1e3 * (time.perf_counter() - started) / steps)
    return statistics.median(rounds)


def breakdown(options, steps, repeats, work_dir, **overrides) -> dict:
    """``{part: ms per step}`` (`PARTS`) of one row (`options`: its model options;
    `overrides`: training fields that replace the scale's, e.g. ``image_size``)."""
    import keras

    from keras_lk.experiments import merge_train
    from keras_lk.experiments.settings import GCN_SCENES
    from keras_lk.losses import log_likelihood, make_loss
    from keras_lk.training import StepTimer, TrainConfig
    from keras_lk.training.optimizers import make_optimizer
    from keras_lk.training.trainer import (
        build_model,
        compile_model,
        seed_everything,
        train_dataset,
        tune_for_training,
    )

    fields = merge_train(GCN_SCENES.train, {"model_options": options})
    fields.update(steps=steps, steps_per_epoch=steps, num_train_images=16 * steps,
                  **overrides)
    config = TrainConfig(**fields, output_dir=tempfile.mkdtemp(dir=work_dir), verbose=0)
    if config.loss_at_score_map or config.loss != "cross_entropy":
        raise ValueError("the breakdown times rows with a plain cross-entropy on the "
                         f"logits; this row has loss {config.loss!r}, "
                         f"loss_at_score_map={config.loss_at_score_map}")
    seed_everything(config.seed)
    model = build_model(config)  # with the scale's backbone weights
    tune_for_training(model, config)  # GlobalConv's fastest formulations, as `train`
    dataset = train_dataset(config, model)
    batches = iter(dataset)
    x, y = next(batches)
    times = {"input": _median_ms(lambda: next(batches), steps, repeats)}

    def train_step():
        model.train_on_batch(x, y)  # traces
        return _median_ms(lambda: model.train_on_batch(x, y), steps, repeats)

    def recompile(metrics):
        model.compile(optimizer=make_optimizer(config), metrics=metrics,
                      loss=make_loss(config.loss, model.ignore_label))

    compile_model(model, config)
    model.predict_on_batch(x)
    times["forward"] = _median_ms(lambda: model.predict_on_batch(x), steps, repeats)
    times["train step"] = train_step()
    recompile(metrics=[])
    times["train step, no metric"] = train_step()
    recompile(metrics=[keras.metrics.MeanIoU(model.num_classes, sparse_y_true=True,
                                             sparse_y_pred=False,
                                             ignore_class=model.ignore_label)])
    times["Keras MeanIoU"] = train_step()
    first_up_to = log_likelihood.CLASS_AXIS_FIRST_UP_TO
    log_likelihood.CLASS_AXIS_FIRST_UP_TO = 0  # read when the step is traced
    try:
        compile_model(model, config)
        times["log-softmax loss"] = train_step()
    finally:
        log_likelihood.CLASS_AXIS_FIRST_UP_TO = first_up_to
    compile_model(model, config)
    timer = StepTimer()
    logs = model.fit(dataset, epochs=repeats + 1, steps_per_epoch=steps, verbose=0,
                     callbacks=[timer], shuffle=False).history  # the pipeline shuffles
    times["fit"] = 1e3 * statistics.median(logs["step_time"][1:])
    keras.backend.clear_session()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="calls per round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the median is kept")
    parser.add_argument("--smoke", action="store_true", help="32² images, a few steps")
    args = parser.parse_args()
    if args.steps < 1 or args.repeats < 1:
        parser.error(f"--steps and --repeats must be at least 1, got {args.steps} and "
                     f"{args.repeats}")

    from keras_lk.utils.machine import cpu_signature, tensorflow_threads

    overrides = {"image_size": 32, "crop_size": 32} if args.smoke else {}
    work_dir = tempfile.mkdtemp(prefix="keras_lk_cpu_scale_breakdown_")
    results = {}
    for name, options in ROWS:
        results[name] = breakdown(options, args.steps, args.repeats, work_dir, **overrides)
        print(f"{name}: " + ", ".join(f"{part} {ms:.1f}" for part, ms in
                                      results[name].items()) + " ms/step", flush=True)
    threads = tensorflow_threads()
    print(f"\nCPU {cpu_signature()}; TensorFlow threads: {threads or 'default'}; "
          f"median of {args.repeats} rounds of {args.steps} steps, ms per step")
    print("| row | " + " | ".join(PARTS) + " | backward + update | metric "
          "| fit − train step |")
    print("|---" * (len(PARTS) + 4) + "|")
    for name, t in results.items():
        derived = (t["train step, no metric"] - t["forward"],
                   t["train step"] - t["train step, no metric"],
                   t["fit"] - t["train step"])
        print(f"| {name} | " + " | ".join(f"{t[part]:.1f}" for part in PARTS) + " | "
              + " | ".join(f"{value:+.1f}" for value in derived) + " |")


if __name__ == "__main__":
    main()
