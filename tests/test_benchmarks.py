"""The deployment benchmarks run end to end at tiny size (slow: CI's RUN_SLOW=1): every
exported file is checked against Keras inside them, so a broken export fails here."""

import pytest

from tests.scripts import run_script

pytest.importorskip("onnxruntime", reason="needs the optional `export` extra")


@pytest.mark.slow
def test_inference_benchmark_smoke():
    out = run_script("benchmarks/inference.py", "--smoke", "--models", "gcn_r50", "fcrn_r101",
                     "--rewrites", "none", "all", "--profile", "1")
    # A row per rewrite set for each model with rewrites (GCNSeg; FCRN's dilated backbone,
    # and so its dilated bare backbone too); the undilated bare ResNet and Keras: one row.
    for row in ("| gcn_r50 [none] | onnx |", "| gcn_r50 [all] | onnx |",
                "| fcrn_r101 [all] | onnx |", "| gcn_r50 | keras |",
                "| bare resnet10_narrow OS32 64×96 | onnx |",
                "| bare resnet10_narrow OS8 64×96 [none] | litert |"):
        assert row in out, out
    assert "OS32 64×96 [none]" not in out
    # --profile: onnxruntime's profile of each ONNX file of the model, beside its bare's.
    for row in ("gcn_r50 [none]", "gcn_r50 [all]", "fcrn_r101 [none]", "fcrn_r101 [all]"):
        assert f"onnxruntime profile of {row} (" in out, out
    assert "| Conv |" in out and "| total |" in out, out


@pytest.mark.slow
def test_export_fidelity_benchmark_smoke():
    out = run_script("benchmarks/export_fidelity.py", "--backbone", "resnet10_narrow",
                     "--size", "40", "56")
    rows = [line.split("|")[1:-1] for line in out.splitlines()
            if line.startswith(("| GCNSeg", "| GALDNet", "| FCRN"))]
    assert len(rows) == 9, out  # three families × three formats
    assert all(float(row[2]) < 1e-4 for row in rows), out  # max abs logit difference


@pytest.mark.slow
def test_inference_benchmark_large_kernel_rows_smoke():
    """SegNeXt-T beside the bare MSCAN-T, and the large-kernel blocks alone beside their
    plain references, in onnxruntime and LiteRT, every file checked against Keras."""
    blocks = ("block_msca", "block_replk", "block_dilated_reparam", "head_msca", "head_replk",
              "head_dilated_reparam")
    out = run_script("benchmarks/inference.py", "--smoke", "--models", "segnext_t", *blocks,
                     "--runtimes", "onnx", "litert")
    for runtime in ("onnx", "litert"):
        for row in ("segnext_t", "bare mscan_t OS32 64×96", *blocks,
                    "depth-wise 21×21 8×12×16", "depth-wise 31×31 8×12×16",
                    "depth-wise 13×13 8×12×16", "GlobalConv k = 15 8×12×16"):
            assert f"| {row} | {runtime} |" in out, out
    assert "block_replk: ReparamLargeKernelConv 31 + 5 alone on a 8×12×16 map" in out, out
    differences = [float(line.rsplit("Keras", 1)[1].split(",")[0])
                   for line in out.splitlines() if "max abs logit diff vs Keras" in line]
    assert len(differences) == 2 * 2 * (1 + len(blocks)), out  # model and its reference
    assert max(differences) < 1e-4, out
