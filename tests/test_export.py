"""`keras_lk.export`: every family in every format, run in its real runtime
(`tf.saved_model.load`, `onnxruntime`, `ai_edge_litert`) and compared with Keras; the
`keras-lk export` command; argument and missing-converter errors."""

import math
import os
import sys

import keras
import numpy as np
import pytest

from keras_lk import cli, export, layers, models
from keras_lk.export import layer_rewrites, onnx_passes
from keras_lk.testing import randomise_batch_norms

SMALL = "resnet10_narrow"
FAMILIES = {
    "gcn": (models.GCNSeg, {"num_classes": 3, "k": 5, "backbone": SMALL}),
    # GALD's default GA module is CGNL (its grouped W_z) and it has the aux head.
    "gald": (models.GALDNet, {"num_classes": 3, "backbone": SMALL, "head_channels": 16,
                              "output_stride": 16}),
    "fcrn": (models.FCRN, {"num_classes": 3, "backbone": SMALL, "kernel_size": 3,
                           "dilation": 2, "dropout": True, "num_dropout_blocks": 1}),
    # SegNeXt's decoder (NMF Hamburger, GroupNorm) on the small ResNet; MSCAN-T itself
    # is exported by the slow test below.
    "segnext": (models.SegNeXt, {"num_classes": 3, "backbone": SMALL, "ham_channels": 16,
                                 "channels": 16, "nmf_rank": 4, "norm_groups": 4}),
}
SUFFIXES = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
# Max abs logit difference allowed between Keras and an exported file (measured ≤ 3e-6
# for these tiny models on CPU).
ATOL = 1e-4
SIZES = [(64, 64), (40, 56)]  # 40x56: not a multiple of GCN's 32, nor square


def _build(family):
    keras.utils.set_random_seed(0)
    cls, kwargs = FAMILIES[family]
    return cls(**kwargs)


@pytest.fixture(scope="module")
def family_models():
    return {family: _build(family) for family in FAMILIES}


def _images(size, seed=0):
    return np.random.RandomState(seed).normal(size=(1, *size, 3)).astype("float32")


def _keras_logits(model, images):
    return keras.ops.convert_to_numpy(model.main_logits(model(images, training=False)))


def _run_exported(format, path, images):
    """Runs an exported file in its own runtime (`export.load_exported`)."""
    return export.load_exported(path, format)(images)


def _assert_same_logits(got, expected):
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)
    # Identical argmax, but for pixels whose top-2 Keras logits are within ATOL (ties).
    top2 = np.sort(expected, axis=-1)[..., -2:]
    decided = top2[..., 1] - top2[..., 0] > ATOL
    assert np.array_equal(got.argmax(-1)[decided], expected.argmax(-1)[decided])
    assert decided.mean() > 0.99


@pytest.mark.parametrize("format", export.FORMATS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_dynamic_size_export_matches_keras_in_its_runtime(family, format, family_models,
                                                          tmp_path):
    model = family_models[family]
    path = str(tmp_path / f"{family}{SUFFIXES[format]}")
    assert export.export_model(model, path, format=format) == path
    run = export.load_exported(path)  # one loaded file runs both sizes
    for seed, size in enumerate(SIZES):
        images = _images(size, seed)
        _assert_same_logits(run(images), _keras_logits(model, images))
    _assert_named_images_to_logits(format, path)


def _assert_named_images_to_logits(format, path):
    """One input "images", one output "logits" (GALD's aux head pruned), by name: ONNX
    and LiteRT do not keep the order of a Keras model's outputs."""
    if format == "onnx":
        session = export.require_module("onnxruntime").InferenceSession(path)
        assert [i.name for i in session.get_inputs()] == ["images"]
        assert [o.name for o in session.get_outputs()] == ["logits"]
    elif format == "litert":
        interpreter = export.require_module("ai_edge_litert.interpreter").Interpreter(
            model_path=path)
        assert interpreter.get_signature_list() == {
            "serving_default": {"inputs": ["images"], "outputs": ["logits"]}}


def test_static_litert_file_has_the_given_size(family_models, tmp_path):
    model = family_models["gald"]
    path = export.export_model(model, str(tmp_path / "gald.tflite"), format="litert",
                               input_size=(40, 56))
    interpreter = export.require_module("ai_edge_litert.interpreter").Interpreter(
        model_path=path)
    details = interpreter.get_input_details()[0]
    assert list(details["shape_signature"]) == list(details["shape"]) == [1, 40, 56, 3]
    images = _images((40, 56))
    _assert_same_logits(_run_exported("litert", path, images), _keras_logits(model, images))


def test_onnx_batch_size_none_is_dynamic(family_models, tmp_path):
    model = family_models["gald"]
    path = export.export_model(model, str(tmp_path / "gald.onnx"), format="onnx",
                               batch_size=None)
    images = np.random.RandomState(5).normal(size=(2, 40, 56, 3)).astype("float32")
    _assert_same_logits(_run_exported("onnx", path, images), _keras_logits(model, images))


def test_mixed_precision_model_is_exported_in_float32(tmp_path):
    previous = keras.config.dtype_policy()
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        mixed = _build("gald")
    finally:
        keras.config.set_dtype_policy(previous)
    rebuilt = export.float32_model(mixed)
    assert mixed.dtype_policy.name == "mixed_float16"  # the model itself is unchanged
    assert all(layer.dtype_policy.name == "float32" for layer in rebuilt.layers)
    assert type(rebuilt) is models.GALDNet
    for a, b in zip(rebuilt.weights, mixed.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    path = export.export_model(mixed, str(tmp_path / "mixed"), format="saved_model")
    images = _images((40, 56))
    _assert_same_logits(_run_exported("saved_model", path, images),
                        _keras_logits(rebuilt, images))
    # ... and close to the float16 model itself.
    np.testing.assert_allclose(_run_exported("saved_model", path, images),
                               _keras_logits(mixed, images), atol=5e-2)


def test_cli_export_writes_a_file_that_matches_the_model(family_models, tmp_path, capsys):
    model = family_models["fcrn"]
    model_path = str(tmp_path / "fcrn.keras")
    model.save(model_path)
    output = str(tmp_path / "fcrn.tflite")
    status = cli.main(["export", "--model-path", model_path, "--format", "litert",
                       "--output", output, "--input-size", "40", "56"])
    assert status == 0
    assert f"to {output}" in capsys.readouterr().out
    images = _images((40, 56))
    _assert_same_logits(_run_exported("litert", output, images), _keras_logits(model, images))


def test_cli_export_errors(family_models, tmp_path, capsys, monkeypatch):
    model_path = str(tmp_path / "gcn.keras")
    family_models["gcn"].save(model_path)
    with pytest.raises(SystemExit) as exit_info:  # argparse: not one of the choices
        cli.main(["export", "--model-path", model_path, "--format", "tflite",
                  "--output", "x"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'tflite'" in capsys.readouterr().err
    status = cli.main(["export", "--model-path", model_path, "--format", "litert",
                       "--output", str(tmp_path / "gcn.lite")])
    assert status == 2
    assert "must end with '.tflite'" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    status = cli.main(["export", "--model-path", model_path, "--format", "onnx",
                       "--output", str(tmp_path / "gcn.onnx")])
    assert status == 2  # a known error: one line, no traceback hint
    assert "pip install 'keras_lk[export]'" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, error, match", [
    ({"format": "tflite"}, ValueError, "`format` must be one of"),
    ({"format": "litert"}, ValueError, "must end with '.tflite'"),
    ({"input_size": (40,)}, ValueError, "`input_size` must be None or"),
    ({"input_size": (40, 0)}, ValueError, "input_size width"),
    ({"batch_size": 0}, ValueError, "`batch_size` must be an integer"),
    ({"quantization": "dynamic"}, ValueError, "format='litert' only"),
    ({"format": "litert", "quantization": "int4"}, ValueError, "`quantization` must be"),
    ({"format": "litert", "quantization": "int8"}, ValueError, "needs `representative_images`"),
    ({"format": "litert", "quantization": "int8", "input_size": (40, 56),
      "representative_images": [np.zeros((32, 32, 3))]}, ValueError,
     r"representative_images`\[0\] must be .* \(40, 56\)"),
    ({"format": "litert", "quantization": "int8", "representative_images": []}, ValueError,
     "is empty"),
])
def test_export_argument_errors(kwargs, error, match, family_models, tmp_path):
    suffix = ".tflite" if kwargs.get("format") == "litert" and "quantization" in kwargs else ""
    with pytest.raises(error, match=match):
        export.export_model(family_models["gcn"], str(tmp_path / f"out{suffix}"), **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("quantization", ["dynamic", "int8"])
def test_litert_quantization_keeps_the_argmax_and_shrinks_the_file(
        quantization, family_models, tmp_path):
    """Measured on these tiny random-weight models: max abs logit error ≤ 0.1 and ≥ 99 %
    of the argmax kept (GCNSeg, GALDNet, FCRN); the file ~3.5× smaller."""
    model = family_models["gald"]
    float_path, path = str(tmp_path / "float.tflite"), str(tmp_path / "q.tflite")
    representative = [_images((40, 56), seed) for seed in range(4)]
    export.export_model(model, float_path, format="litert", input_size=(40, 56))
    export.export_model(model, path, format="litert", input_size=(40, 56),
                        quantization=quantization,
                        representative_images=representative if quantization == "int8"
                        else None)
    images = _images((40, 56), seed=9)
    got, expected = _run_exported("litert", path, images), _keras_logits(model, images)
    assert np.abs(got - expected).max() < 0.1
    assert np.mean(got.argmax(-1) == expected.argmax(-1)) > 0.99
    assert os.path.getsize(path) < os.path.getsize(float_path) / 2.5


def test_cli_int8_export_reads_representative_images(family_models, tmp_path, capsys):
    from PIL import Image

    model_path = str(tmp_path / "fcrn.keras")
    family_models["fcrn"].save(model_path)
    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"photo{i}.png"))
        Image.fromarray(np.random.RandomState(i).randint(0, 256, (30, 45, 3), np.uint8)).save(
            paths[-1])
    output = str(tmp_path / "fcrn_int8.tflite")
    status = cli.main(["export", "--model-path", model_path, "--format", "litert",
                       "--output", output, "--input-size", "40", "56",
                       "--quantization", "int8", "--representative-images", *paths])
    assert status == 0, capsys.readouterr().err
    assert os.path.exists(output)


def test_export_refuses_other_models(tmp_path):
    inputs = keras.Input((8, 8, 3))
    plain = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
    with pytest.raises(TypeError, match="keras_lk segmentation model"):
        export.export_model(plain, str(tmp_path / "plain"))


@pytest.mark.parametrize("module_name", ["tf2onnx", "onnx"])
def test_missing_converter_names_the_export_extra(module_name, family_models, tmp_path,
                                                  monkeypatch):
    if module_name == "onnx":
        # tf2onnx imports onnx itself: import it first, so that the check of onnx (not of
        # tf2onnx) is the one that fails, whichever tests ran before in this process.
        import tf2onnx  # noqa: F401
    monkeypatch.setitem(sys.modules, module_name, None)  # makes `import` fail
    with pytest.raises(ImportError, match=rf"`{module_name}`.*keras_lk\[export\]"):
        export.export_model(family_models["gcn"], str(tmp_path / "m.onnx"), format="onnx")


def test_missing_runtime_names_the_export_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"keras_lk\[export\]"):
        export.require_module("onnxruntime")


@pytest.mark.parametrize("size", [(7, 9), (1, 5), (16, 16)])
def test_phase_convolution_equals_the_x2_deconvolution(size):
    layer = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same", use_bias=False)
    x = np.random.RandomState(0).normal(size=(2, *size, 3)).astype("float32")
    layer.build(x.shape)
    layer.kernel.assign(np.random.RandomState(1).normal(size=layer.kernel.shape))
    rewritten = export._export_layer(layer)
    assert type(rewritten) is layer_rewrites.PhaseDeconvolution
    np.testing.assert_allclose(rewritten(x), layer(x), rtol=1e-5, atol=1e-5)


def test_inference_model_has_no_transposed_convolution_and_shares_weights(family_models):
    model = family_models["gcn"]
    inference = export.inference_model(model)
    # The graph's own layers; the swapped-out ones remain as the twins' weight holders.
    assert not any(isinstance(layer, (keras.layers.Conv2DTranspose, layers.GlobalConv))
                   for layer in inference.layers)
    assert {id(v) for v in inference.weights} == {id(v) for v in model.weights}


@pytest.mark.parametrize("size", [(64, 64), pytest.param(None, marks=pytest.mark.slow)])
def test_onnx_depth_to_space_becomes_a_placing_transposed_convolution(size, family_models,
                                                                      tmp_path):
    onnx = pytest.importorskip("onnx")
    model = family_models["gcn"]
    ops, kernels, upsampling_ops = {}, {}, ("DepthToSpace", "ConvTranspose")
    variants = {"with": export.REWRITES,
                "without": tuple(r for r in export.REWRITES if r != "depth_to_space")}
    for variant, rewrites in variants.items():
        path = str(tmp_path / f"{variant}.onnx")
        export.export_model(model, path, format="onnx", input_size=size, rewrites=rewrites)
        nodes = onnx.load(path).graph.node
        ops[variant] = [n.op_type for n in nodes]
        upsampled = {n.input[0] for n in nodes if n.op_type in upsampling_ops}
        kernels[variant] = [list(onnx_passes.node_attributes(n)["kernel_shape"]) for n in nodes
                            if n.op_type == "Conv" and n.output[0] in upsampled]
        images = _images((64, 64) if size else (40, 56))
        _assert_same_logits(_run_exported("onnx", path, images), _keras_logits(model, images))
    # GCNSeg's five ×2 deconvolutions: DepthToSpace without the rewrite, ConvTranspose
    # (one group per class) with it.
    assert ops["without"].count("DepthToSpace") == 5 and "ConvTranspose" not in ops["without"]
    assert ops["with"].count("ConvTranspose") == 5 and "DepthToSpace" not in ops["with"]
    # Each phase convolution: 3×3 before, its 2×2 window after.
    assert kernels["without"] == [[3, 3]] * 5 and kernels["with"] == [[2, 2]] * 5


@pytest.mark.parametrize("phase", [True, False])
def test_onnx_depth_to_space_pass_keeps_the_numbers(phase, tmp_path):
    """The ONNX pass on a bare Conv 3×3 → DepthToSpace: a phase kernel (the ×2
    deconvolution's) shrinks to 2×2, any other 3×3 kernel stays; the output is the same."""
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    classes, channels = 3, 5
    if phase:  # (3, 3, C_in, 4·C) → ONNX (4·C, C_in, 3, 3)
        deconv = rng.normal(size=(4, 4, classes, channels)).astype("float32")
        kernel = np.transpose(np.asarray(export.phase_kernel(deconv)), (3, 2, 0, 1))
    else:
        kernel = rng.normal(size=(4 * classes, channels, 3, 3)).astype("float32")
    bias = rng.normal(size=4 * classes).astype("float32")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["phases"], name="conv",
                          kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("DepthToSpace", ["phases"], ["y"], name="d2s", blocksize=2)],
        "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, channels, 7, 6])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, classes, 14, 12])],
        [numpy_helper.from_array(kernel, "w"), numpy_helper.from_array(bias, "b")])
    path = str(tmp_path / "d2s.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    x = rng.normal(size=(1, channels, 7, 6)).astype("float32")

    def run():
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x})[0]

    expected = run()
    assert onnx_passes.rewrite_onnx_file(path, ("depth_to_space",)) == 1
    nodes = onnx.load(path).graph.node
    assert [n.op_type for n in nodes] == ["Conv", "ConvTranspose"]
    assert list(onnx_passes.node_attributes(nodes[0])["kernel_shape"]) == ([2, 2] if phase else [3, 3])
    np.testing.assert_allclose(run(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dilation", [4, 1])
def test_onnx_dilated_classifier_pass_keeps_the_numbers(dilation, tmp_path):
    """The ONNX pass on a bare dilated Conv 3×3 (512 → 3, bias, dynamic size): it becomes
    a 1×1 Conv, one shifting Pad per tap and a Sum, with the same output at sizes smaller
    than a tap's offset too; an undilated Conv stays."""
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    classes, channels = 3, 512
    kernel = rng.normal(size=(classes, channels, 3, 3)).astype("float32") / 40
    bias = rng.normal(size=classes).astype("float32")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="classifier",
                          kernel_shape=[3, 3], dilations=[dilation, dilation],
                          pads=[dilation] * 4)],
        "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                            [1, channels, None, None])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        [numpy_helper.from_array(kernel, "w"), numpy_helper.from_array(bias, "b")])
    path = str(tmp_path / "classifier.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    inputs = [rng.normal(size=(1, channels, *size)).astype("float32")
              for size in [(7, 9), (1, 5), (3, 16)]]

    def run():
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return [session.run(None, {"x": x})[0] for x in inputs]

    expected = run()
    assert onnx_passes.rewrite_onnx_file(path, ("dilated_classifier",)) == (dilation > 1)
    kinds = [n.op_type for n in onnx.load(path).graph.node]
    assert kinds == (["Conv"] + ["Pad"] * 9 + ["Sum"] if dilation > 1 else ["Conv"])
    for got, want in zip(run(), expected):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("outputs, taps, groups", [
    (21, 15, 3), (19, 15, 3), (5, 9, 3), (21, 5, 1), (21, 3, 1), (32, 15, 1), (60, 15, 1),
    (3, 15, 5), (2, 15, 1)])
def test_tap_groups(outputs, taps, groups):
    """Split only where the outputs leave lanes idle and a split fills them: 21 classes
    fill 21 of 32 lanes, 3 groups 63 of 64; 3 classes 3 of 16, 5 groups 15; 5 or 3 taps
    have no group of ≥ 2 taps; 2 classes fill too few lanes however they are split."""
    assert export.tap_groups(outputs, taps) == groups


@pytest.mark.parametrize("outputs, taps, groups", [(21, 15, 1), (5, 15, 3), (3, 15, 5)])
def test_tap_groups_of_eight_lane_blocks(outputs, taps, groups):
    """AVX2's 8-channel blocks: 21 classes already fill 21 of 24 lanes; 5 fill 5 of 8,
    3 groups 15 of 16."""
    assert export.tap_groups(outputs, taps, lanes=8) == groups


@pytest.fixture(scope="module")
def tap_grouped_gcn():
    """GCNSeg with 5 classes and k = 9: `tap_groups` splits each 1-D convolution of its
    GlobalConvs into 3 groups of 3 taps (15 of 16 lanes instead of 5)."""
    keras.utils.set_random_seed(0)
    return models.GCNSeg(num_classes=5, k=9, backbone=SMALL)


@pytest.mark.parametrize("format", export.FORMATS)
def test_tap_grouped_gcn_matches_keras_at_any_size(format, tap_grouped_gcn, tmp_path):
    model = tap_grouped_gcn
    assert "tap_groups" in export.applicable_rewrites(model)
    path = export.export_model(model, str(tmp_path / f"gcn{SUFFIXES[format]}"), format=format)
    for seed, size in enumerate(SIZES):
        images = _images(size, seed)
        _assert_same_logits(_run_exported(format, path, images), _keras_logits(model, images))


def test_tap_groups_shrink_the_global_conv_kernels(tap_grouped_gcn, tmp_path):
    """In the ONNX file, each GlobalConv's four 9-tap convolutions are 3-tap ones to 15
    channels; without the rewrite they stay 9-tap ones to 5."""
    onnx = pytest.importorskip("onnx")
    kernels = {}
    for variant, rewrites in [("with", export.REWRITES),
                              ("without", tuple(r for r in export.REWRITES
                                                if r != "tap_groups"))]:
        path = export.export_model(tap_grouped_gcn, str(tmp_path / f"{variant}.onnx"),
                                   format="onnx", input_size=(64, 64), rewrites=rewrites)
        graph = onnx.load(path).graph
        shapes = {t.name: tuple(t.dims) for t in graph.initializer}
        kernels[variant] = sorted(shapes[n.input[1]] for n in graph.node if n.op_type == "Conv"
                                  and min(shapes[n.input[1]][2:]) == 1
                                  and max(shapes[n.input[1]][2:]) > 1)
    assert len(kernels["with"]) == len(kernels["without"]) == 4 * 4  # GlobalConvs res-2 … 5
    assert all(shape[0] == 5 and shape[2:] in [(9, 1), (1, 9)] for shape in kernels["without"])
    assert all(shape[0] == 15 and shape[2:] in [(3, 1), (1, 3)] for shape in kernels["with"])


def test_fcrn_on_a_wide_backbone_exports_its_classifier_as_a_tap_sum(tmp_path):
    onnx = pytest.importorskip("onnx")
    keras.utils.set_random_seed(0)
    model = models.FCRN(num_classes=3, backbone="resnet18", kernel_size=3, dilation=2)
    assert "dilated_classifier" in export.applicable_rewrites(model)
    path = export.export_model(model, str(tmp_path / "fcrn.onnx"), format="onnx")
    nodes = onnx.load(path).graph.node
    assert sum("/shift_" in n.name for n in nodes if n.op_type == "Pad") == 9
    run = export.load_exported(path)
    for seed, size in enumerate(SIZES):
        images = _images(size, seed)
        _assert_same_logits(run(images), _keras_logits(model, images))


def test_onnx_export_does_not_copy_the_graph_per_optimizer_pass(family_models, tmp_path,
                                                                monkeypatch):
    """tf2onnx's per-pass copies of the graph doubled GALDNet-R50's export memory."""
    optimizer = pytest.importorskip("tf2onnx.optimizer")
    copies = []
    deepcopy = optimizer.copy.deepcopy
    monkeypatch.setattr(optimizer.copy, "deepcopy",
                        lambda value, *args: copies.append(type(value)) or deepcopy(value, *args))
    monkeypatch.delenv("TF2ONNX_CATCH_ERRORS", raising=False)
    export.export_model(family_models["fcrn"], str(tmp_path / "m.onnx"), format="onnx")
    assert not any(kind.__name__ == "Graph" for kind in copies)
    assert "TF2ONNX_CATCH_ERRORS" not in os.environ  # restored


def test_applicable_rewrites(family_models):
    assert export.applicable_rewrites(family_models["gcn"]) == (
        "global_conv", "deconvolution", "depth_to_space")
    # Dilated backbones; FCRN's classifier reads 128 channels here, too few for a tap sum.
    assert export.applicable_rewrites(family_models["gald"]) == ("dilated_convolution",)
    assert export.applicable_rewrites(family_models["fcrn"]) == ("dilated_convolution",)


@pytest.mark.parametrize("size", [None, (40, 56)])
def test_onnx_dilated_convolutions_are_single_dilated_convs(size, family_models, tmp_path):
    """Keras builds a dilated convolution as space-to-batch, convolution, batch-to-space;
    at a dynamic size tf2onnx kept those reshuffles in the file (FCRN-101 ran 27 % slower
    in onnxruntime). The export writes each as one dilated Conv, at any size."""
    onnx = pytest.importorskip("onnx")
    model = family_models["fcrn"]
    path = export.export_model(model, str(tmp_path / "fcrn.onnx"), format="onnx",
                               input_size=size)
    nodes = onnx.load(path).graph.node
    assert not {"SpaceToDepth", "DepthToSpace"} & {n.op_type for n in nodes}
    dilations = [onnx_passes.node_attributes(n).get("dilations") for n in nodes if n.op_type == "Conv"]
    assert [2, 2] in dilations
    images = _images(size or (40, 56))
    _assert_same_logits(_run_exported("onnx", path, images), _keras_logits(model, images))


def test_load_exported_errors(family_models, tmp_path):
    with pytest.raises(FileNotFoundError, match="no exported model"):
        export.load_exported(tmp_path / "missing.onnx")
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="cannot tell the format"):
        export.load_exported(tmp_path / "model.bin")
    with pytest.raises(ValueError, match="`format` must be one of"):
        export.load_exported(tmp_path / "model.bin", format="tfjs")
    path = export.export_model(family_models["fcrn"], tmp_path / "fcrn.onnx", format="onnx",
                               input_size=(32, 32))
    run = export.load_exported(path, num_threads=1)
    assert run(_images((32, 32))).shape == (1, 32, 32, 3)
    with pytest.raises(ValueError, match=r"float \(batch, H, W, C\).*uint8"):
        run(np.zeros((1, 32, 32, 3), "uint8"))
    with pytest.raises(ValueError, match=r"shape \(32, 32, 3\)"):
        run(_images((32, 32))[0])


@pytest.fixture(scope="module")
def reparam_gcn():
    """GCNSeg with UniRepLKNet's dilated re-parameterised heads, BatchNorm statistics
    away from their defaults so that folding them shows."""
    keras.utils.set_random_seed(0)
    model = models.GCNSeg(num_classes=3, k=7, head="dilated_reparam", backbone=SMALL)
    for seed, layer in enumerate(model.layers):
        if isinstance(layer, layers.ContextHead):
            randomise_batch_norms(layer, seed)
    return model


def test_export_merges_every_reparameterised_layer_in_a_copy(reparam_gcn):
    unmerged = export.converters.unmerged_reparam_layers(reparam_gcn)
    assert len(unmerged) == 4  # one DilatedReparamConv per GCN stage, inside its head
    inference = export.inference_model(reparam_gcn)
    assert not export.converters.unmerged_reparam_layers(inference)
    assert len(export.converters.unmerged_reparam_layers(reparam_gcn)) == 4  # untouched
    images = _images((64, 64))
    got = keras.ops.convert_to_numpy(inference(images)["logits"])
    _assert_same_logits(got, _keras_logits(reparam_gcn, images))


@pytest.mark.parametrize("format", export.FORMATS)
def test_reparameterised_heads_export_merged_in_every_format(format, reparam_gcn, tmp_path):
    path = str(tmp_path / f"reparam{SUFFIXES[format]}")
    export.export_model(reparam_gcn, path, format=format)
    images = _images((64, 64), seed=3)
    _assert_same_logits(export.load_exported(path)(images), _keras_logits(reparam_gcn, images))


@pytest.mark.parametrize("format", export.FORMATS)
def test_msca_block_heads_export_in_every_format(format, tmp_path):
    """SegNeXt's unit as GCNSeg's head: its exact GELU (inside the head, where the
    export's layer swaps do not reach) is written with Erf, and BatchNorm, MSCA and the
    LayerScale convert as they are."""
    keras.utils.set_random_seed(0)
    model = models.GCNSeg(num_classes=3, k=7, head="msca_block", backbone=SMALL)
    for seed, layer in enumerate(model.layers):
        if isinstance(layer, layers.ContextHead):
            randomise_batch_norms(layer, seed)
    path = str(tmp_path / f"msca_block{SUFFIXES[format]}")
    export.export_model(model, path, format=format)
    images = _images((64, 64), seed=4)
    _assert_same_logits(export.load_exported(path)(images), _keras_logits(model, images))


def test_exact_gelu_is_exported_with_erf():
    """TensorFlow's exact GELU is an Erfc, which tf2onnx cannot convert: the export
    swaps it for `ErfGelu`, the same function written with Erf."""
    gelu = keras.layers.Activation("gelu", name="stem_gelu")
    swapped = export.converters.converted_layer(gelu)
    assert isinstance(swapped, export.converters.ErfGelu) and swapped.name == "stem_gelu"
    assert export.converters.converted_layer(keras.layers.Activation("relu")) is None
    x = np.linspace(-6, 6, 241, dtype="float32")
    expected = 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(swapped(x)), expected, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gelu(x)), expected, atol=1e-6)


@pytest.mark.slow
def test_segnext_t_exports_to_onnx(tmp_path):
    keras.utils.set_random_seed(0)
    model = models.SegNeXt(num_classes=5, backbone="mscan_t")
    path = str(tmp_path / "segnext.onnx")
    export.export_model(model, path, format="onnx", input_size=(64, 96))
    images = _images((64, 96))
    _assert_same_logits(export.load_exported(path)(images), _keras_logits(model, images))
