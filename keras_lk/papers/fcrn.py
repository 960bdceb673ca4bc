"""Wu, Shen and van den Hengel, "High-performance Semantic Segmentation Using Very
Deep Fully Convolutional Networks", arXiv preprint 2016 (arXiv:1604.04339, the id
under which the GCN and GALD papers cite it; the source text prints neither venue
nor id). The fully convolutional residual network (FCRN) with online
bootstrapping of hard pixels. Datasets: PASCAL VOC 2012 val / test (Tables 1, 3,
4, 5) and Cityscapes val (Tables 2, 4, 6). Metrics in %: pixel accuracy, mean
(class-wise) pixel accuracy and mean IoU.

Row keys follow the printed columns: (depth, resolution, kernel, dilation) with
the resolution as printed ("1/8", the output stride of the score map), kernel the
classifier's kernel size and dilation its dilation. The printed FoV column is
kept as an int; it always equals stride × (dilation × (kernel - 1) + 1), e.g.
8 × (12 × 4 + 1) = 392. Row labels of comparison tables are kept without their
citation numbers ("FCN-8s [1]" is keyed "FCN-8s").
"""

TABLES = {
    "Table 1": "VOC 2012 val: vanilla FCRN depth x resolution x classifier kernel/dilation (FoV)",
    "Table 2": "Cityscapes val: vanilla FCRN depth x resolution x classifier kernel/dilation (FoV)",
    "Table 3": "VOC 2012 val: training vs testing resolution of a 101-layer 5x5 FCRN",
    "Table 4": "VOC 2012 / Cityscapes val: online bootstrapping K and dropout",
    "Table 5": "VOC 2012 per-class and mean IoU: val with/without bootstrapping, test vs others",
    "Table 6": "Cityscapes val per-class and mean IoU with/without bootstrapping",
}

# Table 1: vanilla FCRNs (no bootstrapping, no dropout) on VOC 2012 val; key
# (depth, resolution, kernel, dilation). The text: "the largest FoV is 392"; at
# depth 152 dilation 18 is worse than 12 (71.85 < 72.29), both as printed.
TABLE_1 = {
    (50, "1/16", 3, 6): {"fov": 208, "pixel_acc": 92.74, "mean_acc": 78.68, "miou": 69.09},
    (50, "1/8", 3, 6): {"fov": 104, "pixel_acc": 92.50, "mean_acc": 77.60, "miou": 67.61},
    (50, "1/8", 3, 12): {"fov": 200, "pixel_acc": 93.03, "mean_acc": 79.51, "miou": 69.94},
    (50, "1/8", 3, 18): {"fov": 296, "pixel_acc": 93.02, "mean_acc": 79.28, "miou": 70.01},
    (50, "1/8", 5, 6): {"fov": 200, "pixel_acc": 92.98, "mean_acc": 79.34, "miou": 69.81},
    (50, "1/8", 5, 12): {"fov": 392, "pixel_acc": 93.25, "mean_acc": 79.84, "miou": 71.10},
    (50, "1/8", 7, 6): {"fov": 296, "pixel_acc": 93.14, "mean_acc": 79.54, "miou": 70.67},
    (101, "1/16", 3, 6): {"fov": 208, "pixel_acc": 93.22, "mean_acc": 80.16, "miou": 70.93},
    (101, "1/8", 3, 6): {"fov": 104, "pixel_acc": 93.20, "mean_acc": 79.87, "miou": 70.20},
    (101, "1/8", 3, 12): {"fov": 200, "pixel_acc": 93.68, "mean_acc": 81.29, "miou": 72.34},
    (101, "1/8", 3, 18): {"fov": 296, "pixel_acc": 93.67, "mean_acc": 81.15, "miou": 72.37},
    (101, "1/8", 5, 6): {"fov": 200, "pixel_acc": 93.52, "mean_acc": 81.00, "miou": 71.97},
    (101, "1/8", 5, 12): {"fov": 392, "pixel_acc": 93.87, "mean_acc": 81.87, "miou": 73.41},
    (101, "1/8", 7, 6): {"fov": 296, "pixel_acc": 93.61, "mean_acc": 81.34, "miou": 72.56},
    (152, "1/16", 3, 6): {"fov": 208, "pixel_acc": 93.32, "mean_acc": 80.21, "miou": 71.27},
    (152, "1/8", 3, 6): {"fov": 104, "pixel_acc": 93.25, "mean_acc": 79.78, "miou": 70.23},
    (152, "1/8", 3, 12): {"fov": 200, "pixel_acc": 93.65, "mean_acc": 80.97, "miou": 72.29},
    (152, "1/8", 3, 18): {"fov": 296, "pixel_acc": 93.62, "mean_acc": 80.44, "miou": 71.85},
    (152, "1/8", 5, 6): {"fov": 200, "pixel_acc": 93.59, "mean_acc": 80.92, "miou": 71.95},
    (152, "1/8", 5, 12): {"fov": 392, "pixel_acc": 93.85, "mean_acc": 81.53, "miou": 73.32},
    (152, "1/8", 7, 6): {"fov": 296, "pixel_acc": 93.81, "mean_acc": 81.38, "miou": 72.94},
}

# Table 2: the same on Cityscapes val. It has the rows of Table 1 plus two at
# depth 50, (50, "1/8", 5, 18) and (50, "1/8", 7, 12), both FoV 584. In the text
# the caption "Table 2: ..." stands above these rows (inside Section 4.5) and
# "Table 3: ..." below them, above Table 3's rows; read so, each caption matches
# its rows' columns.
TABLE_2 = {
    (50, "1/16", 3, 6): {"fov": 208, "pixel_acc": 93.83, "mean_acc": 74.67, "miou": 66.41},
    (50, "1/8", 3, 6): {"fov": 104, "pixel_acc": 94.38, "mean_acc": 74.89, "miou": 66.58},
    (50, "1/8", 3, 12): {"fov": 200, "pixel_acc": 94.47, "mean_acc": 75.91, "miou": 67.68},
    (50, "1/8", 3, 18): {"fov": 296, "pixel_acc": 94.53, "mean_acc": 76.52, "miou": 68.38},
    (50, "1/8", 5, 6): {"fov": 200, "pixel_acc": 94.48, "mean_acc": 76.17, "miou": 68.04},
    (50, "1/8", 5, 12): {"fov": 392, "pixel_acc": 94.61, "mean_acc": 76.68, "miou": 68.71},
    (50, "1/8", 5, 18): {"fov": 584, "pixel_acc": 94.64, "mean_acc": 76.34, "miou": 68.53},
    (50, "1/8", 7, 6): {"fov": 296, "pixel_acc": 94.58, "mean_acc": 76.88, "miou": 68.79},
    (50, "1/8", 7, 12): {"fov": 584, "pixel_acc": 94.64, "mean_acc": 76.57, "miou": 68.79},
    (101, "1/16", 3, 6): {"fov": 208, "pixel_acc": 94.11, "mean_acc": 76.26, "miou": 67.62},
    (101, "1/8", 3, 6): {"fov": 104, "pixel_acc": 94.68, "mean_acc": 77.15, "miou": 68.58},
    (101, "1/8", 3, 12): {"fov": 200, "pixel_acc": 94.78, "mean_acc": 78.30, "miou": 69.99},
    (101, "1/8", 3, 18): {"fov": 296, "pixel_acc": 94.82, "mean_acc": 78.21, "miou": 70.00},
    (101, "1/8", 5, 6): {"fov": 200, "pixel_acc": 94.75, "mean_acc": 78.11, "miou": 69.89},
    (101, "1/8", 5, 12): {"fov": 392, "pixel_acc": 94.87, "mean_acc": 79.17, "miou": 71.16},
    (101, "1/8", 7, 6): {"fov": 296, "pixel_acc": 94.75, "mean_acc": 78.43, "miou": 70.40},
    (152, "1/16", 3, 6): {"fov": 208, "pixel_acc": 94.26, "mean_acc": 76.89, "miou": 68.30},
    (152, "1/8", 3, 6): {"fov": 104, "pixel_acc": 94.82, "mean_acc": 78.30, "miou": 69.69},
    (152, "1/8", 3, 12): {"fov": 200, "pixel_acc": 94.94, "mean_acc": 78.79, "miou": 70.66},
    (152, "1/8", 3, 18): {"fov": 296, "pixel_acc": 94.93, "mean_acc": 79.19, "miou": 70.92},
    (152, "1/8", 5, 6): {"fov": 200, "pixel_acc": 94.88, "mean_acc": 78.77, "miou": 70.61},
    (152, "1/8", 5, 12): {"fov": 392, "pixel_acc": 95.00, "mean_acc": 79.38, "miou": 71.51},
    (152, "1/8", 7, 6): {"fov": 296, "pixel_acc": 94.91, "mean_acc": 79.08, "miou": 70.87},
}

# Table 3 (Section 4.4): two 101-layer FCRNs with 5×5 classifier kernels, trained
# at 1/16 or 1/8 and tested at 1/16, 1/8 or 1/4 (testing finer than training uses
# the hole algorithm / the high-resolution simulation of Section 3.2); key
# (training resolution, testing resolution). Ambiguity: neither the caption nor
# the text names the dataset or the dilations; the (1/8, 1/8) row equals Table 1's
# (101, "1/8", 5, 12) row exactly (93.87 / 81.87 / 73.41), so this is read as VOC
# 2012 val with dilation 12 at 1/8. The 1/16 network's dilation is not printed.
TABLE_3 = {
    ("1/16", "1/16"): {"pixel_acc": 93.49, "mean_acc": 80.96, "miou": 72.19},
    ("1/16", "1/8"): {"pixel_acc": 93.75, "mean_acc": 81.71, "miou": 72.96},
    ("1/16", "1/4"): {"pixel_acc": 93.83, "mean_acc": 81.98, "miou": 73.24},
    ("1/8", "1/8"): {"pixel_acc": 93.87, "mean_acc": 81.87, "miou": 73.41},
    ("1/8", "1/4"): {"pixel_acc": 93.94, "mean_acc": 82.13, "miou": 73.65},
}

# Table 4: online bootstrapping ("Bs.") and dropout ("Do."), val sets; every row
# is resolution 1/8, kernel 5, dilation 12. Key (depth, K, dropout): the printed
# "Bs./Do." cell "512/T" is (512, True): keep the K = 512 hardest pixels per image
# crop, with dropout in some top-most blocks; "F/F" is (None, False): no
# bootstrapping, no dropout. The "F/F" rows repeat Tables 1 and 2 exactly. The
# dataset comes from the printed section rows ("PASCAL VOC 2012", "Cityscapes");
# Cityscapes has depth 152 only and no dropout row.
TABLE_4 = {
    "PASCAL VOC 2012": {
        (101, None, False): {"pixel_acc": 93.87, "mean_acc": 81.87, "miou": 73.41},
        (101, 256, False): {"pixel_acc": 94.11, "mean_acc": 81.44, "miou": 74.41},
        (101, 512, False): {"pixel_acc": 94.23, "mean_acc": 82.09, "miou": 74.80},
        (101, 1024, False): {"pixel_acc": 94.08, "mean_acc": 81.84, "miou": 74.17},
        (101, 512, True): {"pixel_acc": 94.27, "mean_acc": 84.82, "miou": 75.45},
        (152, None, False): {"pixel_acc": 93.85, "mean_acc": 81.53, "miou": 73.32},
        (152, 256, False): {"pixel_acc": 94.19, "mean_acc": 81.64, "miou": 74.53},
        (152, 512, False): {"pixel_acc": 94.23, "mean_acc": 82.06, "miou": 74.72},
        (152, 1024, False): {"pixel_acc": 94.15, "mean_acc": 81.94, "miou": 74.40},
        (152, 512, True): {"pixel_acc": 94.46, "mean_acc": 85.13, "miou": 75.90},
    },
    "Cityscapes": {
        (152, None, False): {"pixel_acc": 95.00, "mean_acc": 79.38, "miou": 71.51},
        (152, 256, False): {"pixel_acc": 95.41, "mean_acc": 81.37, "miou": 73.97},
        (152, 512, False): {"pixel_acc": 95.46, "mean_acc": 82.04, "miou": 74.64},
        (152, 1024, False): {"pixel_acc": 95.38, "mean_acc": 81.00, "miou": 73.45},
    },
}

# PASCAL VOC 2012 class columns of Table 5 as printed (background is not printed).
VOC_COLUMNS = ("aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor")
# Cityscapes class columns of Table 6 as printed.
CITYSCAPES_COLUMNS = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
                      "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
                      "truck", "bus", "train", "motorcycle", "bicycle")


def _voc(values):
    return dict(zip(VOC_COLUMNS, values, strict=True))


def _cityscapes(values):
    return dict(zip(CITYSCAPES_COLUMNS, values, strict=True))


# Table 5: VOC 2012 per-class IoU and mean IoU, keyed by the printed section:
# "val" ("Results on val set"), "test VOC" ("Results on test set obtained with
# models trained only using PASCAL VOC data") and "test VOC+COCO" ("... trained
# using PASCAL VOC + COCO data"); "ours" is the paper's method, "FCRN + Bs." is
# FCRN with bootstrapping. The printed Mean is over 21 classes including the
# unprinted background (the mean of the 20 columns is about 1 point lower), so it
# cannot be recomputed from the columns. The val rows match Table 4's depth-101
# rows (73.41 -> 73.4, 74.80 -> 74.8; depth 152's 74.72 would print 74.7). The
# test "ours" means are printed "77.3 ²" and "78.3 ³": the superscripts are
# footnote marks (server result links), dropped. The depth of the test models is
# not stated. Text checks: 77.3 - 75.3 = 2.0 ("outperforms the previous best
# performer by 2.0%"), and "ours" is best in 12 (VOC) and 13 (VOC + COCO, counting
# the aeroplane tie with UoA-Context) of the 20 classes, as the text says.
TABLE_5_IOU = {
    "val": {
        "FCRN": _voc((86.7, 39.5, 85.5, 66.9, 79.3, 90.7, 84.7, 90.6, 34.0, 79.1, 51.6, 83.9, 80.6,
                      80.0, 83.0, 55.7, 80.6, 40.3, 82.7, 72.9)),
        "FCRN + Bs.": _voc((88.3, 40.4, 86.5, 66.6, 80.1, 91.6, 84.3, 90.1, 36.6, 83.7, 53.6, 84.5,
                            85.1, 79.9, 83.9, 59.0, 83.3, 44.6, 81.1, 74.5)),
    },
    "test VOC": {
        "FCN-8s": _voc((76.8, 34.2, 68.9, 49.4, 60.3, 75.3, 74.7, 77.6, 21.4, 62.5, 46.8, 71.8,
                        63.9, 76.5, 73.9, 45.2, 72.4, 37.4, 70.9, 55.1)),
        "DeepLab": _voc((84.4, 54.5, 81.5, 63.6, 65.9, 85.1, 79.1, 83.4, 30.7, 74.1, 59.8, 79.0,
                         76.1, 83.2, 80.8, 59.7, 82.2, 50.4, 73.1, 63.7)),
        "CRFasRNN": _voc((87.5, 39.0, 79.7, 64.2, 68.3, 87.6, 80.8, 84.4, 30.4, 78.2, 60.4, 80.5,
                          77.8, 83.1, 80.6, 59.5, 82.8, 47.8, 78.3, 67.1)),
        "DeconvNet": _voc((89.9, 39.3, 79.7, 63.9, 68.2, 87.4, 81.2, 86.1, 28.5, 77.0, 62.0, 79.0,
                           80.3, 83.6, 80.2, 58.8, 83.4, 54.3, 80.7, 65.0)),
        "DPN": _voc((87.7, 59.4, 78.4, 64.9, 70.3, 89.3, 83.5, 86.1, 31.7, 79.9, 62.6, 81.9, 80.0,
                     83.5, 82.3, 60.5, 83.2, 53.4, 77.9, 65.0)),
        "UoA-Context": _voc((90.6, 37.6, 80.0, 67.8, 74.4, 92.0, 85.2, 86.2, 39.1, 81.2, 58.9,
                             83.8, 83.9, 84.3, 84.8, 62.1, 83.2, 58.2, 80.8, 72.3)),
        "ours": _voc((91.9, 46.5, 91.2, 65.1, 74.8, 90.9, 87.2, 94.9, 32.2, 88.7, 57.5, 90.5, 90.9,
                      87.8, 86.0, 60.8, 88.5, 52.3, 84.5, 67.9)),
    },
    "test VOC+COCO": {
        "DeepLab": _voc((89.1, 38.3, 88.1, 63.3, 69.7, 87.1, 83.1, 85.0, 29.3, 76.5, 56.5, 79.8,
                         77.9, 85.8, 82.4, 57.4, 84.3, 54.9, 80.5, 64.1)),
        "CRFasRNN": _voc((90.4, 55.3, 88.7, 68.4, 69.8, 88.3, 82.4, 85.1, 32.6, 78.5, 64.4, 79.6,
                          81.9, 86.4, 81.8, 58.6, 82.4, 53.5, 77.4, 70.1)),
        "DPN": _voc((89.0, 61.6, 87.7, 66.8, 74.7, 91.2, 84.3, 87.6, 36.5, 86.3, 66.1, 84.4, 87.8,
                     85.6, 85.4, 63.6, 87.3, 61.3, 79.4, 66.4)),
        "UoA-Context": _voc((92.9, 39.6, 84.0, 67.9, 75.3, 92.7, 83.8, 90.1, 44.3, 85.5, 64.9,
                             87.3, 88.8, 84.5, 85.5, 68.1, 89.0, 62.8, 81.2, 71.4)),
        "ours": _voc((92.9, 45.6, 88.1, 70.1, 75.4, 90.9, 88.7, 94.3, 35.2, 86.8, 60.6, 89.7, 91.6,
                      88.5, 87.0, 62.6, 89.4, 55.1, 85.4, 72.4)),
    },
}
TABLE_5_MIOU = {
    "val": {"FCRN": 73.4, "FCRN + Bs.": 74.8},
    "test VOC": {
        "FCN-8s": 62.2,
        "DeepLab": 71.6,
        "CRFasRNN": 72.0,
        "DeconvNet": 72.5,
        "DPN": 74.1,
        "UoA-Context": 75.3,
        "ours": 77.3,
    },
    "test VOC+COCO": {
        "DeepLab": 72.7,
        "CRFasRNN": 74.7,
        "DPN": 77.5,
        "UoA-Context": 77.8,
        "ours": 78.3,
    },
}

# Table 6: Cityscapes val per-class IoU and mean IoU; only val rows are printed
# (no test set results). The means match Table 4's depth-152 Cityscapes rows
# (71.51 -> 71.5, 74.64 -> 74.6) and the mean of the 19 columns (71.50, 74.64).
TABLE_6_IOU = {
    "FCRN": _cityscapes((97.4, 80.3, 90.8, 47.6, 53.8, 53.1, 58.1, 70.2, 91.2, 59.6, 93.2, 77.1,
                         54.4, 93.0, 67.1, 79.4, 62.2, 57.3, 72.7)),
    "FCRN + Bs.": _cityscapes((97.6, 82.0, 91.7, 52.3, 56.2, 57.0, 65.7, 74.4, 91.7, 62.5, 93.8,
                               79.8, 59.6, 94.0, 66.2, 83.7, 70.3, 64.2, 75.5)),
}
TABLE_6_MIOU = {"FCRN": 71.5, "FCRN + Bs.": 74.6}
