"""Deployed latency of every family beside its bare backbone, in Keras, TF SavedModel,
onnxruntime and LiteRT, batch 1, float32, interleaved repeats.

    python benchmarks/inference.py                          # every family (long on 2 cores)
    python benchmarks/inference.py --models gald_r50_fcn gald_r50_cgnl gald_r50_ld  # ablation
    python benchmarks/inference.py --models gcn_r50 --runtimes keras onnx --repeats 7
    python benchmarks/inference.py --models gcn_r50 --peer  # + keras-hub DeepLabV3+ R50
    python benchmarks/inference.py --models fcrn_r101 --dynamic  # files of any input size
    python benchmarks/inference.py --models gcn_r50 --runtimes onnx --profile 6  # + where
    python benchmarks/inference.py --models segnext_t      # SegNeXt-T beside bare MSCAN-T
    python benchmarks/inference.py --models block_msca head_replk --runtimes onnx litert
    python benchmarks/inference.py --smoke                  # tiny backbone: does it run

Each model is paired with its bare backbone: the same backbone at the same output stride
with a 1×1 classifier and bilinear upsampling (`FCRN(kernel_size=1, dilation=1)`, the
"bare ResNet + 1×1" of `benchmarks/gcn_seg.py`). Every model is exported with
`keras_lk.export.export_model` at a fixed input size (with ``--dynamic``, with dynamic
height and width, `export_model`'s default, timed at the same size), each file is checked
against the Keras model (max abs logit difference printed: a wrong file's timing means
nothing), then each round of repeats calls every variant of the model and its bare
backbone once, in the same order, in one runtime; each runtime runs in a process of its
own (memory, `_measure`). "ms" is the median; "× bare" the median over rounds of the
latency over the bare backbone's (the same rewrite variant) in the same runtime and
round, with its interquartile range (a shared machine drifts: the pairing cancels most
of it); "FLOP ratio" the same ratio of forward FLOPs (`keras_lk.utils.count_flops`). The latency target of issue 16 is "× bare ≤ FLOP ratio"
(the head as fast per FLOP as the backbone).

The large-kernel line's blocks (``block_*``, ``head_*``) are timed alone, each in a
minimal model (a feature map → the block), on the map GCNSeg-R50's res-3 head reads at
512² input (64×64×512), beside a plain reference block on the same map in the place of
the bare backbone ("× bare" reads "× reference"): StripConvAttention (SegNeXt's 5×5 and
strips 7, 11, 21) beside a 21×21 depth-wise convolution, ReparamLargeKernelConv (31, with
a 5×5) beside a 31×31 one, DilatedReparamConv (13, UniRepLKNet's branches) beside a
13×13 one, and each `ContextHead` (k = 15, 21 classes) beside GCN's head, GlobalConv
k = 15. The Keras rows run the block as it trains (the re-parameterised ones with their
branches, in inference mode); every file is written as `export_model` writes a model
(`keras_lk.export.inference_model`: the re-parameterised layers merged into one
depth-wise convolution with bias, GlobalConv's rewrites), so a merged block's file should
cost what its plain reference costs.

The peer rows (with `gcn_r50`, when keras-hub is installed) are keras-hub's DeepLabV3+
(ResNet-50, ASPP on P5, decoder on P2, random weights) in onnxruntime, exported by
`keras.Model.export` of an inference-mode call, and as the segmenter's own `export`
writes it (which runs BatchNorm on batch statistics: wrong logits, other timings).

``--profile N`` adds onnxruntime's own profile of each ONNX file (``enable_profiling``,
N runs after a warm-up, in the same process after the timed rounds): milliseconds per
run by operator type, the model beside its bare backbone, and the model's costliest
nodes with their output shapes (where a head loses its FLOP rate).
"""

import argparse
import collections
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

RUNTIMES = ("keras", "saved_model", "onnx", "litert")
_SUFFIX = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}


@dataclasses.dataclass(frozen=True)
class Spec:
    """A benchmarked model: its family, constructor arguments and input size."""

    family: str
    kwargs: dict
    size: tuple
    backbone: str
    output_stride: int

    @property
    def input_shape(self):
        return (*self.size, 3)

    def build(self):
        from keras_lk import models

        return getattr(models, self.family)(backbone=self.backbone, **self.kwargs)

    def smoke(self):
        """The same model on a tiny backbone (MSCAN-T is one already) at 64×96."""
        return dataclasses.replace(self, backbone=SMOKE_BACKBONES.get(self.backbone,
                                                                     "resnet10_narrow"),
                                   size=(64, 96))

    @property
    def bare_label(self):
        return f"bare {self.backbone} OS{self.output_stride} {self.size[0]}×{self.size[1]}"

    def build_bare(self):
        from keras_lk import models

        return models.FCRN(num_classes=self.kwargs["num_classes"], backbone=self.backbone,
                           output_stride=self.output_stride, kernel_size=1, dilation=1,
                           name=f"bare_{self.backbone}_os{self.output_stride}")


SMOKE_BACKBONES = {"mscan_t": "mscan_t"}  # --smoke: the backbone in place of each


def _depthwise(kernel_size):
    """The plain reference: one k×k depth-wise convolution with bias."""
    import keras

    return keras.layers.DepthwiseConv2D(kernel_size, padding="same", name="block")


def _keras_lk_layer(class_name, **kwargs):
    from keras_lk import layers

    return getattr(layers, class_name)(name="block", **kwargs)


# name: a new layer; the large-kernel line's blocks and their plain references.
BLOCKS = {
    "StripConvAttention (5; 7, 11, 21)": lambda: _keras_lk_layer(
        "StripConvAttention", kernel_size=5, strip_kernel_sizes=(7, 11, 21)),
    "depth-wise 21×21": lambda: _depthwise(21),
    "ReparamLargeKernelConv 31 + 5": lambda: _keras_lk_layer(
        "ReparamLargeKernelConv", kernel_size=31, small_kernel_size=5),
    "depth-wise 31×31": lambda: _depthwise(31),
    "DilatedReparamConv 13": lambda: _keras_lk_layer("DilatedReparamConv", kernel_size=13),
    "depth-wise 13×13": lambda: _depthwise(13),
    **{f"ContextHead {context} k = 15": lambda context=context: _keras_lk_layer(
        "ContextHead", filters=21, context=context, kernel_size=15)
       for context in ("msca", "replk", "dilated_reparam")},
    "GlobalConv k = 15": lambda: _keras_lk_layer("GlobalConv", filters=21, kernel_size=15),
}


@dataclasses.dataclass(frozen=True)
class BlockSpec:
    """A block of `BLOCKS` alone in a minimal model (a feature map of `size` and
    `channels` → the block), beside its plain `reference` block on the same map."""

    block: str
    reference: str
    size: tuple = (64, 64)
    channels: int = 512

    @property
    def input_shape(self):
        return (*self.size, self.channels)

    @property
    def bare_label(self):
        return f"{self.reference} {self.size[0]}×{self.size[1]}×{self.channels}"

    def _model(self, block, name):
        import keras

        inputs = keras.Input(self.input_shape, name="features")
        return keras.Model(inputs, BLOCKS[block]()(inputs),
                           name=re.sub(r"[^A-Za-z0-9_]", "_", name))

    def build(self):
        return self._model(self.block, self.block)

    def build_bare(self):
        return self._model(self.reference, self.bare_label)

    def smoke(self):
        return dataclasses.replace(self, size=(8, 12), channels=16)


def _gcn(backbone):
    return Spec("GCNSeg", {"num_classes": 21, "k": 15}, (512, 512), backbone, 32)


SPECS = {
    "gcn_r50": _gcn("resnet50"),
    "gcn_r101": _gcn("resnet101"),
    "gcn_r152": _gcn("resnet152"),
    "gald_r50": Spec("GALDNet", {"num_classes": 19, "ga": "cgnl", "ld": True},
                     (512, 512), "resnet50", 8),
    "gald_r50_cityscapes": Spec("GALDNet", {"num_classes": 19, "ga": "cgnl", "ld": True},
                                (1024, 2048), "resnet50", 8),
    "fcrn_r101": Spec("FCRN", {"num_classes": 21}, (512, 512), "resnet101", 8),
    # GALDNet-R50's head taken apart (where a runtime loses time): its FCN head alone,
    # with CGNL only, with LD only.
    "gald_r50_fcn": Spec("GALDNet", {"num_classes": 19, "ga": None, "ld": False},
                         (512, 512), "resnet50", 8),
    "gald_r50_cgnl": Spec("GALDNet", {"num_classes": 19, "ga": "cgnl", "ld": False},
                          (512, 512), "resnet50", 8),
    "gald_r50_ld": Spec("GALDNet", {"num_classes": 19, "ga": None, "ld": True},
                        (512, 512), "resnet50", 8),
    # SegNeXt-T at ADE20K's 512² (150 classes) beside the bare MSCAN-T.
    "segnext_t": Spec("SegNeXt", {"num_classes": 150}, (512, 512), "mscan_t", 32),
    # The large-kernel line's blocks on GCNSeg-R50's res-3 map, beside plain references.
    "block_msca": BlockSpec("StripConvAttention (5; 7, 11, 21)", "depth-wise 21×21"),
    "block_replk": BlockSpec("ReparamLargeKernelConv 31 + 5", "depth-wise 31×31"),
    "block_dilated_reparam": BlockSpec("DilatedReparamConv 13", "depth-wise 13×13"),
    **{f"head_{context}": BlockSpec(f"ContextHead {context} k = 15", "GlobalConv k = 15")
       for context in ("msca", "replk", "dilated_reparam")},
}
ABLATIONS = ("gald_r50_fcn", "gald_r50_cgnl", "gald_r50_ld")  # not run by default


def _runner(runtime, model, path, images):
    """A no-argument callable running one batch in `runtime`."""
    if runtime == "keras":
        return lambda: model.predict_on_batch(images)
    from keras_lk.export import load_exported

    run = load_exported(path, runtime)
    return lambda: run(images)


def _main_logits(output):
    return output["logits"] if isinstance(output, dict) else output


def _rewrite_sets():
    """``--rewrites`` choices: ``all`` (the default of `export_model`), ``none``, each
    rewrite alone, each left out (``no_<name>``: what that rewrite gains, paired with
    ``all``), and ``layers`` (the four Keras-layer rewrites, no ONNX edit)."""
    from keras_lk.export import REWRITES

    return {"all": None, "none": (), **{name: (name,) for name in REWRITES},
            **{f"no_{name}": tuple(r for r in REWRITES if r != name) for name in REWRITES},
            "layers": ("global_conv", "tap_groups", "deconvolution", "dilated_convolution")}


REWRITE_SETS = _rewrite_sets()


def _prepare(name, model, runtime, shape, directory, expected, rewrites=None, dynamic=False):
    """``(run, path)``: a callable running `model` in `runtime` on an input of `shape`
    ``(H, W, C)``, and its exported file (of dynamic height and width if `dynamic`; None
    in Keras), checked against the Keras logits `expected`; `rewrites`:
    `keras_lk.export.export_model`'s (None: its default)."""
    from keras_lk import export
    from keras_lk.models import SegmentationModel

    images = _images(shape)
    path, seconds = None, 0.0
    if runtime != "keras":
        options = {} if rewrites is None else {"rewrites": rewrites}
        path = os.path.join(directory, name + _SUFFIX[runtime])
        start = time.perf_counter()
        write = (export.export_model if isinstance(model, SegmentationModel)
                 else _export_block_model)
        write(model, path, format=runtime, input_size=None if dynamic else shape[:2],
              **options)
        seconds = time.perf_counter() - start
    run = _runner(runtime, model, path, images)
    if runtime != "keras":
        diff = float(np.abs(np.asarray(_main_logits(run())) - expected).max())
        print(f"  {name:>28} {runtime:>11}: exported in {seconds:5.1f} s, max abs "
              f"logit diff vs Keras {diff:.1e}, process memory {_resident_gb():.1f} GB",
              flush=True)
    return run, path


def _export_block_model(model, path, format, input_size, rewrites=None):
    """Writes a block's minimal model (`BlockSpec`; `export_model` takes segmentation
    models only) as `export_model` writes a model: `keras_lk.export.inference_model`'s
    graph (re-parameterised layers merged, the speed rewrites), input ``images`` of
    ``(1, *input_size, C)`` (None: dynamic H, W), output ``logits``, the ONNX passes."""
    import tensorflow as tf

    from keras_lk import export
    from keras_lk.export.layer_rewrites import ONNX_ONLY_REWRITES
    from keras_lk.export.onnx_passes import rewrite_onnx_file

    rewrites = export.REWRITES if rewrites is None else rewrites
    height, width = input_size or (None, None)
    signature = [tf.TensorSpec((1, height, width, model.input_shape[-1]), tf.float32,
                               name=export.INPUT_NAME)]
    layer_rewrites = tuple(name for name in rewrites
                           if format == "onnx" or name not in ONNX_ONLY_REWRITES)
    export.inference_model(model, layer_rewrites).export(
        path, format={"saved_model": "tf_saved_model"}.get(format, format),
        input_signature=signature, verbose=False)
    if format == "onnx":
        rewrite_onnx_file(path, rewrites)


def _images(shape):
    """A batch of one random input of `shape` ``(H, W, C)``."""
    return np.random.default_rng(0).normal(size=(1, *shape)).astype("float32")


def _resident_gb():
    with open("/proc/self/status") as status:  # Linux; the figure is only printed
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    return float("nan")


def _peer(size, directory, flops):
    """``{row: callable}``: keras-hub DeepLabV3+ R50 in onnxruntime, exported as an
    inference-mode call (`PEER`) and by the segmenter's own ``export`` (`PEER_AS_IS`);
    empty without keras-hub. Adds its forward FLOPs to `flops`."""
    try:
        import keras_hub
    except ImportError:
        print("  keras-hub is not installed: no peer row", flush=True)
        return {}
    import keras
    import onnxruntime
    import tensorflow as tf

    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64], input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 128, 256, 512], stackwise_num_blocks=[3, 4, 6, 3],
        stackwise_num_strides=[1, 2, 2, 2], block_type="bottleneck_block",
        use_pre_activation=False)
    backbone = keras_hub.models.DeepLabV3Backbone(
        image_encoder=encoder, low_level_feature_key="P2", spatial_pyramid_pooling_key="P5",
        dilation_rates=[6, 12, 18], upsampling_size=8, image_shape=(*size, 3))
    segmenter = keras_hub.models.DeepLabV3ImageSegmenter(backbone=backbone, num_classes=21)
    # Exported as it is, the segmenter's file runs its BatchNorms on batch statistics
    # (logits off by ~4); an explicit inference-mode call exports the inference graph.
    inputs = keras.Input((*size, 3))
    inference = keras.Model(inputs, segmenter(inputs, training=False))
    images = _images((*size, 3))
    expected = np.asarray(inference.predict_on_batch(images))
    from keras_lk.utils import count_flops

    flops[PEER] = flops[PEER_AS_IS] = count_flops(inference, (*size, 3))
    runs = {}
    for row, model in ((PEER, inference), (PEER_AS_IS, segmenter)):
        path = os.path.join(directory, f"deeplabv3plus_{len(runs)}.onnx")
        model.export(path, format="onnx", verbose=False,
                     input_signature=[tf.TensorSpec((1, *size, 3), tf.float32)])
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: images}  # keras-hub's own input name
        runs[row] = lambda session=session, feed=feed: session.run(None, feed)[0]
        print(f"  {row:>28} {'onnx':>11}: max abs logit diff vs Keras "
              f"{float(np.abs(runs[row]() - expected).max()):.1e}", flush=True)
    return runs


def _rows(label, runtime, variants):
    """``[(row, variant)]`` of model `label` in `runtime`: one row per rewrite variant of
    its exported files, a plain `label` where there is one (and in Keras, which runs the
    model itself)."""
    if runtime == "keras" or variants == ["all"]:
        return [(label, "all")]
    return [(f"{label} [{variant}]", variant) for variant in variants]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(SPECS),
                        default=[name for name in SPECS if name not in ABLATIONS])
    parser.add_argument("--runtimes", nargs="+", default=list(RUNTIMES), choices=RUNTIMES)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--peer", action="store_true",
                        help="add keras-hub DeepLabV3+ R50 (512², onnxruntime)")
    parser.add_argument("--rewrites", nargs="+", default=["all"], choices=list(REWRITE_SETS),
                        help="export each model with these sets of speed rewrites "
                             "(keras_lk.export.REWRITES), one row each (default: all)")
    parser.add_argument("--dynamic", action="store_true",
                        help="export with dynamic height and width (export_model's default)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print onnxruntime's profile of each ONNX file over N runs")
    parser.add_argument("--smoke", action="store_true",
                        help="resnet10_narrow (MSCAN-T stays) at 64×96, blocks on "
                             "8×12×16 maps, 2 repeats: checks the script runs")
    # Internal: one step of one model's measurement, in a process of its own (`_measure`).
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.profile and "onnx" not in args.runtimes:
        parser.error("--profile profiles ONNX files: add onnx to --runtimes")
    specs = SPECS
    if args.smoke:
        specs = {name: spec.smoke() for name, spec in SPECS.items()}
        args.repeats = 2
    if args.step:
        name = args.models[0]
        (_setup if args.step == "setup" else _time_runtime)(name, specs[name], args)
        return

    print(f"python {' '.join(sys.argv)}\n{os.cpu_count()} CPU cores, batch 1, float32, "
          f"{args.repeats} interleaved repeats, files of "
          f"{'dynamic' if args.dynamic else 'fixed'} size", flush=True)
    failed = []
    for name in args.models:
        try:
            _measure(name, specs[name], args)
        except subprocess.CalledProcessError:
            failed.append(name)
    if failed:
        raise SystemExit(f"inference.py: failed for {', '.join(failed)}")


def _measure(name, spec, args):
    """Measures `name` beside its bare backbone and prints their table, each step in a
    process of its own: building both models (saved, with their Keras logits), then each
    runtime (export, check, interleaved rounds). TensorFlow keeps what it allocated until
    its process ends (17.5 GB after running GALDNet at 1024×2048 in Keras and SavedModel),
    and the ONNX export that followed in the same process ran out of the 24 GiB here."""
    with tempfile.TemporaryDirectory() as workdir:
        common = ["--models", name, "--repeats", str(args.repeats), "--rewrites",
                  *args.rewrites, "--workdir", workdir]
        common += ["--smoke"] if args.smoke else []
        common += ["--dynamic"] if args.dynamic else []
        common += ["--profile", str(args.profile)] if args.profile else []
        common += ["--peer"] if args.peer and name == "gcn_r50" else []
        for step in ["setup", *args.runtimes]:
            subprocess.run([sys.executable, os.path.abspath(__file__), "--step", step,
                            *common], check=True)
        with open(os.path.join(workdir, "setup.json")) as file:
            setup = json.load(file)
        times, profiles = {}, {}
        for runtime in args.runtimes:
            with open(os.path.join(workdir, f"{runtime}.json")) as file:
                result = json.load(file)
            setup["flops"].update(result["flops"])
            times.update({tuple(key.split("\t")): value
                          for key, value in result["times"].items()})
            profiles.update(result["profiles"])
    _print_table(name, spec, args.runtimes, setup["flops"], setup["variants_of"], times)
    if profiles:
        _print_profiles(name, spec, setup["variants_of"], profiles, args.profile)


def _labels(name, spec):
    return {name: spec.build, spec.bare_label: spec.build_bare}


def _setup(name, spec, args):
    """Builds `name` and its bare backbone (seed 0), saves each with its Keras logits on
    the benchmark image, and their FLOPs and rewrite variants (``setup.json``)."""
    import keras

    from keras_lk.export import applicable_rewrites
    from keras_lk.utils import count_flops

    flops, variants_of = {}, {}
    for index, (label, build) in enumerate(_labels(name, spec).items()):
        keras.utils.set_random_seed(0)
        model = build()
        flops[label] = count_flops(model, spec.input_shape)
        logits = np.asarray(_main_logits(model.predict_on_batch(_images(spec.input_shape))))
        np.save(os.path.join(args.workdir, f"{index}.npy"), logits)
        model.save(os.path.join(args.workdir, f"{index}.keras"))
        # One row per rewrite set where the sets give different files (a dilated bare
        # backbone too: each variant of the model is paired with the same of the bare).
        variants_of[label] = args.rewrites if applicable_rewrites(model) else ["all"]
    with open(os.path.join(args.workdir, "setup.json"), "w") as file:
        json.dump({"flops": flops, "variants_of": variants_of}, file)


def _time_runtime(name, spec, args):
    """Exports the saved models to ``args.step`` (a runtime), checks each file against
    the Keras logits, times them in interleaved rounds (``<runtime>.json``)."""
    import keras

    import keras_lk  # noqa: F401  (registers the layers the saved models hold)

    runtime = args.step
    with open(os.path.join(args.workdir, "setup.json")) as file:
        variants_of = json.load(file)["variants_of"]
    calls, flops, paths = {}, {}, {}
    directory = os.path.join(args.workdir, runtime)
    os.makedirs(directory)
    for index, label in enumerate(_labels(name, spec)):
        model = keras.models.load_model(os.path.join(args.workdir, f"{index}.keras"))
        expected = np.load(os.path.join(args.workdir, f"{index}.npy"))
        for row, variant in _rows(label, runtime, variants_of[label]):
            calls[f"{row}\t{runtime}"], paths[row] = _prepare(
                re.sub(r"[^A-Za-z0-9_.-]", "_", row), model, runtime, spec.input_shape,
                directory, expected, REWRITE_SETS[variant], args.dynamic)
    if args.peer and runtime == "onnx":
        for row, run in _peer((512, 512), directory, flops).items():
            calls[f"{row}\tonnx"] = run
    times = _interleaved_times(calls, args.repeats)
    profiles = {}
    if args.profile and runtime == "onnx":
        profiles = {row: _onnx_profile(path, _images(spec.input_shape), args.profile)
                    for row, path in paths.items()}
    with open(os.path.join(args.workdir, f"{runtime}.json"), "w") as file:
        json.dump({"flops": flops, "times": times, "profiles": profiles}, file)


def _onnx_profile(path, images, runs):
    """onnxruntime's profile of the ONNX file `path` over `runs` runs on `images`, after a
    warm-up run: ``{"ms": median ms per run, "ops": {operator type: ms per run},
    "nodes": [[node, operator type, output shape, ms per run]]}``, costliest first
    (kernel times)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = os.path.splitext(path)[0] + "_profile"
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: images}
    seconds = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        session.run(None, feed)
        seconds.append(time.perf_counter() - start)
    with open(session.end_profiling()) as file:
        events = json.load(file)
    ops, nodes, seen, shapes = collections.Counter(), collections.Counter(), set(), {}
    for event in events:
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        node, op = event["name"][:-len("_kernel_time")], event["args"]["op_name"]
        if node not in seen:  # each node's first call is the warm-up run's
            seen.add(node)
            shapes[node] = (op, event["args"].get("output_type_shape"))
            continue
        ops[op] += event["dur"] / runs / 1000
        nodes[node] += event["dur"] / runs / 1000
    return {"ms": 1000 * statistics.median(seconds[1:]), "ops": dict(ops.most_common()),
            "nodes": [[node, *shapes[node], ms] for node, ms in nodes.most_common()]}


def _interleaved_times(calls, repeats):
    """``{key: [ms per repeat]}``: one warm-up call each, then `repeats` rounds that call
    every function once, in the same order."""
    for run in calls.values():
        run()
    times = {key: [] for key in calls}
    for _ in range(repeats):
        for key, run in calls.items():
            start = time.perf_counter()
            run()
            times[key].append(1000 * (time.perf_counter() - start))
    return times


PEER = "keras-hub DeepLabV3+ R50"
PEER_AS_IS = "keras-hub DeepLabV3+ R50, its own export (BatchNorm on batch statistics)"


def _paired(times, key, reference):
    """Median and quartiles of the per-repeat ratio ``times[key] / times[reference]``:
    interleaved repeats pair each call with the reference call of the same round, which
    cancels the slow drifts of a shared machine."""
    ratios = [a / b for a, b in zip(times[key], times[reference])]
    if len(ratios) < 2:
        return ratios[0], ratios[0], ratios[0]
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return median, q1, q3


def _bare_rows(bare, runtime, variants_of):
    """``{rewrite variant: row}`` of the bare backbone `bare` in `runtime`."""
    return {variant: row for row, variant in _rows(bare, runtime, variants_of[bare])}


def _paired_bare(bare_rows, variant):
    """The bare backbone's row that a model's `variant` row is paired with: the same
    variant where the bare backbone has one (a dilated one), else its only row."""
    return bare_rows.get(variant, bare_rows.get("all"))


def _ms(value):
    """Milliseconds as the table prints them: whole ones, two decimals under 10 (a
    block alone)."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}"


def _gflop(value):
    return f"{value / 1e9:.1f}" if value >= 1e9 else f"{value / 1e9:.3f}"


def _print_table(name, spec, runtimes, flops, variants_of, times):
    if isinstance(spec, BlockSpec):
        print(f"\n{name}: {spec.block} alone on a {spec.bare_label.split()[-1]} map, beside "
              f"{spec.reference} (\"bare\"); files merged as export_model merges")
    print("\n| model | runtime | ms (median) | × bare (paired median, IQR) | FLOP ratio | "
          "GFLOP | × bare ≤ FLOP ratio |")
    print("|---|---|---|---|---|---|---|")
    bare = spec.bare_label
    ratio = flops[name] / flops[bare]
    for runtime in runtimes:
        bare_rows = _bare_rows(bare, runtime, variants_of)
        for row, variant in _rows(name, runtime, variants_of[name]):
            reference = _paired_bare(bare_rows, variant)
            median, q1, q3 = _paired(times, (row, runtime), (reference, runtime))
            print(f"| {row} | {runtime} | {_ms(statistics.median(times[(row, runtime)]))} | "
                  f"{median:.2f} ({q1:.2f}–{q3:.2f}) | {ratio:.2f} | "
                  f"{_gflop(flops[name])} | {'yes' if median <= ratio else 'no'} |")
        for row in bare_rows.values():
            print(f"| {row} | {runtime} | {_ms(statistics.median(times[(row, runtime)]))} | "
                  f"1.00 | 1.00 | {_gflop(flops[bare])} | |")
    bare = SPECS["gcn_r50"].bare_label  # the peer's backbone: ResNet-50 at 512²
    for peer in (PEER, PEER_AS_IS):
        if (peer, "onnx") not in times:
            continue
        versus = " | "  # × bare and FLOP ratio, when ResNet-50 at 512² ran bare
        if (bare, "onnx") in times:
            median, q1, q3 = _paired(times, (peer, "onnx"), (bare, "onnx"))
            versus = f"{median:.2f} ({q1:.2f}–{q3:.2f}) | {flops[peer] / flops[bare]:.2f}"
        print(f"| {peer} | onnx | {statistics.median(times[(peer, 'onnx')]):.0f} | {versus} | "
              f"{flops[peer] / 1e9:.1f} | |")
    if (PEER, "onnx") in times:
        for row, runtime in times:
            if row.startswith("gcn_r50") and runtime == "onnx":
                median, q1, q3 = _paired(times, (PEER, "onnx"), (row, runtime))
                print(f"{row} vs {PEER} in onnxruntime: {median:.2f}× faster "
                      f"(paired median, IQR {q1:.2f}–{q3:.2f}; target ≥ 1.25)")


def _print_profiles(name, spec, variants_of, profiles, runs, nodes=15):
    """Each ONNX file's operator-type profile beside its bare backbone's (the pairing of
    `_print_table`), and its `nodes` costliest nodes."""
    bare_rows = _bare_rows(spec.bare_label, "onnx", variants_of)
    for row, variant in _rows(name, "onnx", variants_of[name]):
        bare_row = _paired_bare(bare_rows, variant)
        model, bare = profiles[row], profiles[bare_row]
        print(f"\nonnxruntime profile of {row} ({model['ms']:.0f} ms/run) beside "
              f"{bare_row} ({bare['ms']:.0f} ms/run), kernel ms per run over {runs} runs:")
        print("| operator | model | bare | model − bare |\n|---|---|---|---|")
        for op in sorted(set(model["ops"]) | set(bare["ops"]),
                         key=lambda op: -model["ops"].get(op, 0) - bare["ops"].get(op, 0)):
            a, b = model["ops"].get(op, 0.0), bare["ops"].get(op, 0.0)
            print(f"| {op} | {a:.2f} | {b:.2f} | {a - b:+.2f} |")
        a, b = sum(model["ops"].values()), sum(bare["ops"].values())
        print(f"| total | {a:.2f} | {b:.2f} | {a - b:+.2f} |")
        print(f"\nits {nodes} costliest nodes:\n| ms | operator | output | node |\n"
              "|---|---|---|---|")
        for node, op, shape, ms in model["nodes"][:nodes]:
            dims = "×".join(str(d) for d in next(iter(shape[0].values()))) if shape else ""
            print(f"| {ms:.2f} | {op} | {dims} | {node} |")


if __name__ == "__main__":
    main()
