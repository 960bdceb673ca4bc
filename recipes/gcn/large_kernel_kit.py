"""The large-kernel line after GCN at CPU scale: GCN's head beside SegNeXt's strip
attention, RepLKNet's re-parameterised kernel and UniRepLKNet's dilated one, on one
network, with what each costs.

Rows: GCNSeg (no BR, `resnet10_local` from the "scenes" weights, the `GCN_SCENES`
regime) whose four stage heads are

- ``base``: a 1×1 convolution (GCN Table 1's "base"; its runs are Table 1's);
- ``GCN k = 15``: GlobalConv k = 15 (GCN Fig. 2B; Table 1's "k = 15", its runs reused);
- ``MSCA k = 15``: `keras_lk.layers.ContextHead` "msca": SegNeXt's 5×5 depth-wise
  kernel and strip pairs scaled so that the longest is 15 (`msca_strips(15)` = 5, 7,
  15 for SegNeXt's 7, 11, 21), its 1×1 and the attention product, then 1×1 to the
  classes;
- ``MSCA block k = 15``: "msca_block": the same MSCA inside the unit SegNeXt puts it in
  (`keras_lk.layers.MSCABlock`: BatchNorm, 1×1, GELU, MSCA, 1×1, a shortcut, LayerScale
  1e-2, added to the stage's features), then 1×1 to the classes. Added after the bare
  MSCA row trained 11 points below the 1×1 head with the first scenes weights
  (`results/earlier_regime/scenes_pretext_2000/`), declared before any run in the
  current regime: MSCA alone, an unbounded product with its input and no
  normalisation, is not how SegNeXt uses it;
- ``RepLK k = 15``: "replk": a 15×15 depth-wise kernel beside a 5×5 one, each with
  BatchNorm (RepLKNet), then 1×1; exported merged into one 15×15 kernel with bias;
- ``dilated re-param k = 15``: "dilated_reparam": a 15×15 depth-wise kernel beside
  UniRepLKNet's dilated small kernels for 15 (the official table: 5 d1, 7 d2, 3 d3,
  3 d5, 3 d7), then 1×1; exported merged likewise.

    python recipes/gcn/large_kernel_kit.py --scale cpu     # 5-10 seeds per row, CPU
    python recipes/gcn/large_kernel_kit.py --scale cpu --smoke

There is no full-scale run: no paper trains these heads on GCN's network. Per run the
table shows mIoU, boundary and internal accuracy (GCN Table 5's, 2 px band at 128²)
and, from `measure`, the valid receptive field of the res-2 head's centre output and
of the logits' centre pixel (`keras_lk.evaluation.valid_receptive_field`, 16 test
scenes), the training step time (`step_time`: the row's configuration timed on one
fixed batch by the kit's process, for reused runs too, whose training logs were
written under another load), the parameters once merged, and the exported latency
(`keras_lk.export.export_model` to ONNX at the scale's image size, batch 1,
onnxruntime on one thread, the median of 50 runs after 5 warm-up runs, on the first
test scene; the file's logits are checked against the Keras model's; without
onnxruntime or tf2onnx the latency is None with the reason). Step times and latencies
are of the machine and load of the kit's invocation, so compare them only within one
invocation (`benchmarks/README.md` for controlled latencies);
`recipes/cpu_suite.py --lanes` runs this table alone, after its lanes, for that
reason. The figure, drawn from the results file after each invocation
(and by `python -m keras_lk.experiments.report --plots recipes/gcn`), shows mIoU per
row and mIoU against each measured figure (`results/large_kernel_kit_cpu.png`).

Kernel size at CPU scale. The 128² scenes give res-2..res-5 maps of 32², 16², 8² and 4².
Every large-kernel head runs at k = 15: GCN's k on VOC and Table 1's largest, so that
the heads are compared at one kernel extent and the GCN row is Table 1's run. RepLKNet's
31 sits on its first stage's 56² map (224² input, stride 4): 0.55 of the map; 15 is
0.47 of the res-2 map. A 31×31 kernel here would be as wide as the res-2 map and 2-8×
wider than the others, most of its taps on the zero padding (at most 27 %, 7 % and 2 %
of them on the res-3, res-4 and res-5 maps), and it would deploy 4.2× the other heads'
parameters (below), a comparison that would need its own parameter-matched control.

Parameter counts (`HEAD_PARAMS`, built at the CPU scale: 6 classes, stage widths 16,
32, 64, 128; the four heads together; whole model in brackets; tested):

| head | trained | deployed (merged) |
|---|---|---|
| base 1×1 | 1,464 (139,432) | same |
| GCN k = 15 | 47,616 (185,584) | same |
| MSCA k = 15 | 44,104 (182,072) | same |
| MSCA block k = 15 | 89,304 (227,272) | same |
| RepLK k = 15 | 63,384 (201,352) | 55,704 (193,672) |
| dilated re-param k = 15 | 85,464 (223,432) | 55,704 (193,672) |
| RepLK k = 31 (not run) | 240,024 (377,992) | 232,344 (370,312) |

(RepLK's, the dilated head's and the MSCA block's trained counts include their
BatchNorms' moving statistics: 960, 2,880 and 480 of them are not trained.)

Which comparisons need matched parameters. The claims below set each large-kernel head
against the 1×1 base, which has 1,464 head parameters against 44-56 k: unmatched, as in
the papers, whose claims compare a large kernel with a small one at the parameters each
has (GCN Table 1's base against k = 15; RepLKNet's and UniRepLKNet's kernel-size
studies). Whether it is the kernel or the parameters is GCN Tables 2-3's question (a k×k
kernel and 3×3 stacks at equal k, in the CPU suite), not repeated here. Among the large
kernels, which no claim compares, the deployed heads lie within 0.93-1.17× GCN's 47.6 k
(the whole models within 0.98-1.04× of 185.6 k), so they are matched within that margin
without another row; the MSCA block is the exception, at 1.88× (two C×C projections per
stage: SegNeXt's unit as it is, not resized to match); RepLK and the dilated head deploy
the same structure (one 15×15 depth-wise kernel with bias, then 1×1: 55,704), so their
difference is the training-time re-parameterisation alone, as in UniRepLKNet's
comparison of re-parameterisations. No second, parameter-matched row is run: each would
cost 5-10 seeds of a few minutes for a margin of at most 17 %.

Claims (each "> base" in mIoU on test, paired by seed, corrected with every GCN CPU
claim; the GCN one is Table 1's comparison, counted once):
- GCN k = 15 > base: GCN Table 1 (base 69.0, k = 15 74.5 on VOC 2012 val).
- MSCA > base, MSCA block > base: SegNeXt (Guo et al., NeurIPS 2022) presents
  multi-scale strip convolutional attention as an efficient encoder of context for
  segmentation (in its block; the bare row takes it out).
- RepLK > base: RepLKNet (Ding et al., CVPR 2022): a few large depth-wise kernels, re-
  parameterised with a small one, enlarge the effective receptive field and help
  downstream tasks such as segmentation more than classification.
- dilated re-param > base: UniRepLKNet (Ding et al., CVPR 2024): large kernels, built
  as its Dilated Reparam Block, "see wide without going deep" (its abstract), the basis
  of its ADE20K results.
The three papers' ablation tables are not transcribed here (`/work/shared/papers` holds
GCN, GALD and FCRN only), so their rows carry no paper figure and the claims are stated
as the papers' findings, without their numbers. The papers do not claim an order among
the large-kernel heads, and none is tested. As every claim of the GCN CPU scale, these
need the scale's plateau (`GCN_SCENES`' rule): until it is reached they are "not
testable here".
"""

import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from keras_lk.experiments import Greater, Row, Table, main, report
from keras_lk.experiments.settings import GCN_SCENES
from keras_lk.papers import gcn

K = 15
HEADS = {  # row name: GCNSeg head and k
    "base": ("conv1x1", 1),
    f"GCN k = {K}": ("gcn", K),
    f"MSCA k = {K}": ("msca", K),
    f"MSCA block k = {K}": ("msca_block", K),
    f"RepLK k = {K}": ("replk", K),
    f"dilated re-param k = {K}": ("dilated_reparam", K),
}
PAPER = {"base": {"miou": gcn.TABLE_1_MIOU["base"]},
         f"GCN k = {K}": {"miou": gcn.TABLE_1_MIOU[K]}}
# The four stage heads' parameters at the CPU scale, trained and merged for export
# (`tests/recipes/test_recipes.py` builds them); RepLK k = 31 is not a row (see above).
HEAD_PARAMS = {
    ("conv1x1", 1): (1_464, 1_464),
    ("gcn", K): (47_616, 47_616),
    ("msca", K): (44_104, 44_104),
    ("msca_block", K): (89_304, 89_304),
    ("replk", K): (63_384, 55_704),
    ("dilated_reparam", K): (85_464, 55_704),
    ("replk", 31): (240_024, 232_344),
}

VRF_IMAGES = 16  # test scenes the valid receptive fields average over
STEP_ROUNDS, STEP_CALLS = 3, 10  # the step time: median of 3 rounds of 10 steps
LATENCY_RUNS, LATENCY_WARMUP, LATENCY_THREADS = 50, 5, 1


def _test_images(model, config, num_images):
    from keras_lk import data

    images, _ = data.large_object_scenes_numpy(
        "test", num_images=num_images, config=data.SceneConfig(image_size=config.image_size))
    return np.asarray(data.normalize_image(images.astype("float32"), model.normalization))


def receptive_fields(model, config) -> dict:
    """The valid receptive field (95 % extent, px) of the centre output of the res-2
    head and of the logits' centre pixel, over `VRF_IMAGES` test scenes."""
    import keras

    from keras_lk.evaluation import valid_receptive_field

    images = _test_images(model, config, VRF_IMAGES)
    res2 = keras.Model(model.input, model.get_layer(f"res2_{model.head}").output,
                       name="res2_head")
    height, width = res2(images[:1], training=False).shape[1:3]  # the input is dynamic
    centre = (height // 2, width // 2)
    size = config.image_size
    return {"vrf_res2_head": int(valid_receptive_field(res2, images, centre).extent),
            "vrf_logits": int(valid_receptive_field(model, images, (size // 2,) * 2).extent)}


def step_time(config) -> dict:
    """Milliseconds per training step of the run's configuration, timed now: a fresh
    model built and compiled as `keras_lk.training.train` builds it (GlobalConv tuned
    where tuning is on), `train_on_batch` on one fixed batch of the run's shape (no
    input pipeline), the median of `STEP_ROUNDS` rounds of `STEP_CALLS` steps after one
    that traces. Every row, reused or not, is timed in the kit's own process, alone
    when the suite runs the kit (`recipes/cpu_suite.py` `QUIET`)."""
    from keras_lk.training.trainer import build_model, compile_model, tune_for_training

    model = build_model(config)
    compile_model(model, config)
    tune_for_training(model, config)
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.crop_size, config.crop_size)
    images = rng.normal(size=(*shape, 3)).astype("float32")
    labels = rng.integers(0, model.num_classes, size=(*shape, 1)).astype("int32")
    model.train_on_batch(images, labels)  # traces
    rounds = []
    for _ in range(STEP_ROUNDS):
        started = time.perf_counter()
        for _ in range(STEP_CALLS):
            model.train_on_batch(images, labels)
        rounds.append((time.perf_counter() - started) / STEP_CALLS)
    return {"step_time_ms": 1000 * statistics.median(rounds),
            "step_time_steps": STEP_ROUNDS * STEP_CALLS}


def exported_latency(model, config) -> dict:
    """The ONNX file's latency (ms, batch 1, one image of the scale's size): the median
    of `LATENCY_RUNS` onnxruntime runs on `LATENCY_THREADS` thread(s), after
    `LATENCY_WARMUP`; with the largest |logit| difference from the Keras model."""
    try:
        import onnxruntime
    except ImportError:
        return {"latency_ms": None, "latency_skipped": "onnxruntime is not installed"}
    from keras_lk.export import OUTPUT_NAME, export_model

    image = _test_images(model, config, 1)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "model.onnx")
        try:
            export_model(model, path, format="onnx", input_size=image.shape[1:3])
        except ImportError as error:  # tf2onnx or onnx missing
            return {"latency_ms": None, "latency_skipped": str(error)}
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = LATENCY_THREADS
        session = onnxruntime.InferenceSession(path, options,
                                               providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: image}
        logits = session.run([OUTPUT_NAME], feed)[0]
        for _ in range(LATENCY_WARMUP):
            session.run([OUTPUT_NAME], feed)
        seconds = []
        for _ in range(LATENCY_RUNS):
            started = time.perf_counter()
            session.run([OUTPUT_NAME], feed)
            seconds.append(time.perf_counter() - started)
    expected = np.asarray(model(image, training=False))
    return {"latency_ms": 1000 * statistics.median(seconds), "latency_runs": LATENCY_RUNS,
            "latency_threads": LATENCY_THREADS, "onnxruntime": onnxruntime.__version__,
            "onnx_max_abs_logit_difference": float(np.max(np.abs(logits - expected)))}


def measure(model, config):
    """What each run costs and sees: receptive fields, step time, merged parameters and
    exported latency (the module's docstring)."""
    from keras_lk.export import merged_model

    return {**receptive_fields(model, config), **step_time(config),
            "deployed_params": int(merged_model(model).count_params()),
            **exported_latency(model, config)}


TABLE = Table(
    paper="gcn", table="Large-kernel kit",
    title="GCN, MSCA, MSCA block, RepLK and dilated re-param heads (k = 15) against the "
          "1×1 head",
    rows=tuple(Row(name, {"model_options": {"head": head, "k": k}},
                   paper=PAPER.get(name, {}), scales=("cpu",))
               for name, (head, k) in HEADS.items()),
    scales={"cpu": GCN_SCENES},
    claims=tuple(Greater(f"{name} > base", name, "base") for name in list(HEADS)[1:]),
    metrics=("miou", "boundary_accuracy", "internal_accuracy"),
    measure=measure,
    measured=(("vrf_res2_head", "VRF res-2 head (px)"), ("vrf_logits", "VRF logits (px)"),
              ("step_time_ms", "train step (ms)"), ("deployed_params", "params merged"),
              ("latency_ms", "ONNX latency (ms)")),
    notes="Paper figures: GCN Table 1 (VOC 2012 val) for base and k = 15; SegNeXt, "
          "RepLKNet and UniRepLKNet do not train these heads on GCN's network. Step time "
          "and latency: timed by the table's invocation for every row (reused runs "
          "too), on its machine and load; step time of `train_on_batch` on one fixed "
          "batch, median of 3 rounds of 10 steps; latency of the merged ONNX file, "
          "onnxruntime, one thread, batch 1, median of 50 runs.",
)

def plot(results, results_path):
    """The table's figure beside its results file (as `report --plots` draws it)."""
    report.plot_results(results, os.path.splitext(results_path)[0] + ".png")


if __name__ == "__main__":
    sys.exit(main(TABLE, description=__doc__, after=plot))
