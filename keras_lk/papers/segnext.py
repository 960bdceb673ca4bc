"""Guo et al., "SegNeXt: Rethinking Convolutional Attention Design for Semantic
Segmentation", NeurIPS 2022 (arXiv:2209.08575).

Source: the tables of the official repository's README
(https://github.com/Visual-Attention-Network/SegNeXt, ``README.md`` at commit c87bcae,
section "Results": "ADE20K" and "Cityscapes"), transcribed as printed. The paper's own
tables could not be read where this was transcribed, so they are not keyed by the
paper's table numbers; `PAPER_PARAMS_M` and `PAPER_GFLOPS_ADE20K` hold the two figures
of SegNeXt-T that the issue quotes from the paper (4.3 M, 6.6 G), which the README
rounds to 4M and 7G.

README conventions: single-scale / multi-scale(+flip) mIoU in % on the val sets
(ADE20K at 512×512, 150 classes; Cityscapes at 1024×1024 crops, sliding-window test,
19 classes), 160 k iterations from ImageNet-1K weights; "Params" in millions and
"FLOPs" in G rounded to integers as printed; the FLOPs are torchprofile's
multiply-adds ("calculated on the input size of 512 × 512 for ADE20K, 2048 × 1024 for
Cityscapes by torchprofile"). Rows are keyed by model (the README's "Backbone" column
MSCAN-T is SegNeXt-T).
"""

TABLES = {
    "README ADE20K": "ADE20K val mIoU (ss/ms), params and GFLOPs at 512² of SegNeXt-T/S/B/L",
    "README Cityscapes": "Cityscapes val mIoU (ss/ms), params and GFLOPs at 2048×1024, T/S/B/L",
}

README_ADE20K = {
    "SegNeXt-T": {"miou_ss": 41.1, "miou_ms": 42.2, "params_m": 4, "gflops": 7},
    "SegNeXt-S": {"miou_ss": 44.3, "miou_ms": 45.8, "params_m": 14, "gflops": 16},
    "SegNeXt-B": {"miou_ss": 48.5, "miou_ms": 49.9, "params_m": 28, "gflops": 35},
    "SegNeXt-L": {"miou_ss": 51.0, "miou_ms": 52.1, "params_m": 49, "gflops": 70},
}

README_CITYSCAPES = {
    "SegNeXt-T": {"miou_ss": 79.8, "miou_ms": 81.4, "params_m": 4, "gflops": 56},
    "SegNeXt-S": {"miou_ss": 81.3, "miou_ms": 82.7, "params_m": 14, "gflops": 125},
    "SegNeXt-B": {"miou_ss": 82.6, "miou_ms": 83.8, "params_m": 28, "gflops": 276},
    "SegNeXt-L": {"miou_ss": 83.2, "miou_ms": 83.9, "params_m": 49, "gflops": 578},
}

# The paper's unrounded figures of SegNeXt-T on ADE20K (150 classes, 512×512), as the
# issue quotes them; tests/models/test_segnext.py checks keras_lk's model against them.
PAPER_PARAMS_M = {"SegNeXt-T": 4.3}
PAPER_GFLOPS_ADE20K = {"SegNeXt-T": 6.6}
