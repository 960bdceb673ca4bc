"""Peng et al., "Large Kernel Matters -- Improve Semantic Segmentation by Global
Convolutional Network", CVPR 2017 (arXiv:1703.02719). PASCAL VOC 2012 val,
mean IoU in %. Parameter counts are in thousands ("K") as printed; the paper
counts kernel weights after res-5 (C_in = 2048, 21 classes) without biases and
rounds to the nearest thousand (3,483,648 is printed as 3484K).
"""

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
