"""Peng et al., "Large Kernel Matters -- Improve Semantic Segmentation by Global
Convolutional Network", CVPR 2017 (arXiv:1703.02719). Tables 1-7 are on PASCAL
VOC 2012 val, Table 8 on VOC 2012 test, Table 9 on Cityscapes val and Table 10
on Cityscapes test; the metric is mean IoU in % unless a table says otherwise
(Table 5: per-pixel accuracy; Table 6: ImageNet top-5 error; Table 11: MFlops).
Parameter counts are in thousands ("K") as printed; the paper counts kernel
weights after res-5 (C_in = 2048, 21 classes) without biases and rounds to the
nearest thousand (3,483,648 is printed as 3484K).

Row labels of comparison tables are kept as printed, without their citation
numbers ("FCN-8s-heavy [29]" is keyed "FCN-8s-heavy"). The Chinese margin notes
of the source text are not part of the paper and were ignored.
"""

TABLES = {
    "Table 1": "GCN kernel size k vs the 1x1 convolution baseline (VOC 2012 val mIoU)",
    "Table 2": "GCN vs trivial kxk convolution: mIoU and parameters after res-5",
    "Table 3": "GCN vs the equivalent stack of 3x3 convolutions (VOC 2012 val mIoU)",
    "Table 4": "k = 7 stack of 3x3 convolutions with intermediate width m vs GCN",
    "Table 5": "Boundary / internal pixel accuracy and mIoU of baseline, GCN, GCN + BR",
    "Table 6": "ResNet50 vs ResNet50-GCN: ImageNet top-5 error and VOC segmentation mIoU",
    "Table 7": "VOC 2012 val mIoU per training stage (Stage-1/2/3, MS, CRF) and head",
    "Table 8": "VOC 2012 test mIoU: GCN vs published methods",
    "Table 9": "Cityscapes val mIoU per training stage (Stage-1/2, MS, CRF) of GCN + BR",
    "Table 10": "Cityscapes test mIoU: GCN vs published methods",
    "Table 11": "Architectures of ResNet50 and ResNet50-GCN (blocks, conv MFlops)",
}

# Table 1: GCN with kernel size k (no BR); "base" is the 1×1 convolution head.
TABLE_1_MIOU = {"base": 69.0, 3: 70.1, 5: 71.1, 7: 72.8, 9: 73.4, 11: 73.7, 13: 74.0, 15: 74.5}

# Table 2: GCN vs trivial k×k convolution.
TABLE_2_MIOU_GCN = {3: 70.1, 5: 71.1, 7: 72.8, 9: 73.4}
TABLE_2_MIOU_CONV = {3: 69.8, 5: 70.4, 7: 69.6, 9: 68.8}
TABLE_2_PARAMS_K_GCN = {3: 260, 5: 434, 7: 608, 9: 782}
TABLE_2_PARAMS_K_CONV = {3: 387, 5: 1075, 7: 2107, 9: 3484}

# Table 3: GCN vs the equivalent stack of 3×3 convolutions.
TABLE_3_MIOU_GCN = {3: 70.1, 5: 71.1, 7: 72.8, 9: 73.4, 11: 73.7}
TABLE_3_MIOU_STACK = {3: 69.8, 5: 71.8, 7: 71.3, 9: 69.5, 11: 67.5}

# Table 4: k = 7 stack of 3×3 with intermediate width m; last column is GCN k = 7.
TABLE_4_MIOU_STACK = {2048: 71.3, 1024: 70.4, 210: 68.8}
TABLE_4_PARAMS_K_STACK = {2048: 75885, 1024: 28505, 210: 4307}
TABLE_4_MIOU_GCN = 72.8
TABLE_4_PARAMS_K_GCN = 608

# Table 5: boundary / internal pixel accuracy (%) and overall mean IoU (%).
TABLE_5 = {
    "Baseline": {"boundary_acc": 71.3, "internal_acc": 93.9, "miou": 69.0},
    "GCN": {"boundary_acc": 71.5, "internal_acc": 95.0, "miou": 74.5},
    "GCN + BR": {"boundary_acc": 73.4, "internal_acc": 95.1, "miou": 74.7},
}

# Table 6 (Section 4.1.2): pretrained backbone ResNet50 vs ResNet50-GCN (Appendix
# Table 11). Rows: "ImageNet cls err (%)" is the top-5 error of a 224×224 centre
# crop of a 256×256 image (the caption says top-5; no top-1 is printed);
# "Seg. Score (Baseline)" is the VOC 2012 mIoU with the 1×1 convolution head
# (Figure 4 B) and "Seg. Score (GCN + BR)" with the GCN + BR head, both finetuned
# from the backbone in the column. The caption says only "standard mean IoU"; the
# split is read as VOC 2012 val, that of all of Section 4.1. The text's
# "outperforms ... by 5.5%" is 71.2 - 65.7.
TABLE_6_IMAGENET_TOP5_ERR = {"ResNet50": 7.7, "ResNet50-GCN": 7.9}
TABLE_6_MIOU_BASELINE = {"ResNet50": 65.7, "ResNet50-GCN": 71.2}
TABLE_6_MIOU_GCN_BR = {"ResNet50": 72.3, "ResNet50-GCN": 72.5}

# Table 7: VOC 2012 val mIoU, row = training phase, column = head. Stage-1: COCO +
# SBD + VOC (640×640 input); Stage-2: SBD + VOC; Stage-3: VOC only (512×512);
# "-MS" adds multi-scale testing and "-MS-CRF" a denseCRF on top. The MS and
# MS-CRF rows are printed for the GCN + BR column only (the Baseline and GCN
# cells are blank), so only that column is transcribed for them. Printed labels
# carry a "(%)" suffix ("Stage-1(%)"), dropped from the keys.
TABLE_7_MIOU = {
    "Stage-1": {"Baseline": 69.6, "GCN": 74.1, "GCN + BR": 75.0},
    "Stage-2": {"Baseline": 72.4, "GCN": 77.6, "GCN + BR": 78.6},
    "Stage-3": {"Baseline": 74.0, "GCN": 78.7, "GCN + BR": 80.3},
    "Stage-3-MS": {"GCN + BR": 80.4},
    "Stage-3-MS-CRF": {"GCN + BR": 81.0},
}

# Table 8: VOC 2012 test mIoU (online server). Only the mean IoU is printed (no
# per-class columns). "Our approach" is GCN + BR (the abstract's 82.2%).
TABLE_8_MIOU = {
    "FCN-8s-heavy": 67.2,
    "TTI_zoomout_v2": 69.6,
    "MSRA_BoxSup": 71.0,
    "DeepLab-MSc-CRF-LargeFOV": 71.6,
    "Oxford_TVG-CRF-RNN-COCO": 74.7,
    "CUHK_DPN-COCO": 77.5,
    "Oxford_TVG_HO-CRF": 77.9,
    "CASIA_IVA_OASeg": 78.3,
    "Adelaide_VeryDeep-FCN-VOC": 79.1,
    "LRR_4x_ResNet-COCO": 79.3,
    "Deeplabv2-CRF": 79.7,
    "CentraleSupélec Deep G-CRF": 80.2,
    "Our approach": 82.2,
}

# Table 9: Cityscapes val mIoU of GCN + BR (k = 25, 800×800 crops), row = phase.
# Stage-1: coarse + train-fine (22,973 images); Stage-2: train-fine only; "-MS"
# multi-scale test, "-MS-CRF" plus denseCRF. The text spells the first stage
# "Stage-I", the table "Stage-1(%)"; the table's label is kept (without "(%)").
# Stage-2 val (76.9) equals the test score of Table 10 (76.9); both as printed.
TABLE_9_MIOU = {"Stage-1": 73.0, "Stage-2": 76.9, "Stage-2-MS": 77.2, "Stage-2-MS-CRF": 77.4}

# Table 10: Cityscapes test mIoU (online server). The paper prints only the mean
# IoU, no per-class IoU, so none is transcribed. The rows are not sorted by score
# (DPN 59.1 follows FCN 8s 65.3); the printed order is kept. The label "FCN 8s"
# differs from Table 8's "FCN-8s-heavy"; each is kept as printed.
TABLE_10_MIOU = {
    "FCN 8s": 65.3,
    "DPN": 59.1,
    "CRFasRNN": 62.5,
    "Scale invariant CNN + CRF": 66.3,
    "Dilation10": 67.1,
    "DeepLabv2-CRF": 70.4,
    "Adelaide_context": 71.6,
    "LRR-4x": 71.8,
    "Our approach": 76.9,
}

# Table 11 (Appendix A): ResNet50 vs ResNet50-GCN, output size measured at 224×224
# input. ResNet50 bottlenecks are (1×1, a), (3×3, a), (1×1, out) repeated n times;
# ResNet50-GCN keeps res-2 and res-3 and replaces the first two layers of every
# res-4 / res-5 bottleneck by a GCN module (1×k, w)+(k×1, w) || (k×1, w)+(1×k, w)
# followed by (1×1, out). The conv1 / max-pool / classifier rows are printed in
# the ResNet50 column only (the ResNet50-GCN cell is blank in the text,
# presumably one merged cell): they are shared and not repeated here.
TABLE_11_RESNET50_BLOCKS = {
    "res-2": {"output_size": 56, "bottleneck": (64, 64, 256), "repeats": 3},
    "res-3": {"output_size": 28, "bottleneck": (128, 128, 512), "repeats": 4},
    "res-4": {"output_size": 14, "bottleneck": (256, 256, 1024), "repeats": 6},
    "res-5": {"output_size": 7, "bottleneck": (512, 512, 2048), "repeats": 3},
}
TABLE_11_GCN_BLOCKS = {
    "res-4": {"output_size": 14, "k": 5, "width": 85, "out_channels": 1024, "repeats": 6},
    "res-5": {"output_size": 7, "k": 7, "width": 128, "out_channels": 2048, "repeats": 3},
}
TABLE_11_MFLOPS_CONV = {"ResNet50": 3700, "ResNet50-GCN": 3700}
