"""keras_lk.papers: structure of the transcribed tables and spot checks against the papers."""

import json
import re
from pathlib import Path

import pytest

from keras_lk import papers
from keras_lk.papers import fcrn, gald, gcn, segnext

MODULES = {"gcn": gcn, "gald": gald, "fcrn": fcrn}
# Papers transcribed from their official repository's README (no paper text to check
# captions against): their tables are keyed by the README's sections.
README_MODULES = {"segnext": segnext}
# The papers' table captions and a few words around each table's first mention, copied
# from the papers' texts (the tests read only files inside the repository).
EXCERPTS = Path(__file__).parent / "paper_captions.json"
# Constants holding counts or architecture settings rather than percentages.
NOT_PERCENT = ("PARAMS", "MFLOPS", "BLOCKS")


def table_constants(module):
    return {name: value for name, value in vars(module).items() if name.startswith("TABLE_")}


def prefix(table_name):
    """"Table 1(a)" -> "TABLE_1A", "Table 10" -> "TABLE_10"."""
    match = re.fullmatch(r"Table (\d+)(?:\(([a-z])\))?", table_name)
    assert match, table_name
    return "TABLE_" + match.group(1) + (match.group(2) or "").upper()


def belongs(constant, table_name):
    return constant == prefix(table_name) or constant.startswith(prefix(table_name) + "_")


def numeric_leaves(value, key=None):
    """(key, number) for every number in a (nested) dict / tuple, keys excluded."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from numeric_leaves(v, k)
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from numeric_leaves(v, key)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield key, value


def test_package_lists_every_paper():
    assert set(papers.__all__) == set(MODULES) | set(README_MODULES)
    for name, module in {**MODULES, **README_MODULES}.items():
        assert getattr(papers, name) is module


def test_segnext_readme_tables():
    assert segnext.__doc__ and "arXiv:2209.08575" in segnext.__doc__
    tables = {"README ADE20K": segnext.README_ADE20K,
              "README Cityscapes": segnext.README_CITYSCAPES}
    assert set(segnext.TABLES) == set(tables)
    for table in tables.values():
        assert list(table) == ["SegNeXt-T", "SegNeXt-S", "SegNeXt-B", "SegNeXt-L"]
        for row in table.values():
            assert isinstance(row["miou_ss"], float) and row["miou_ss"] < row["miou_ms"]
            assert isinstance(row["params_m"], int) and isinstance(row["gflops"], int)
    assert segnext.README_ADE20K["SegNeXt-L"]["miou_ms"] == 52.1
    assert segnext.README_CITYSCAPES["SegNeXt-T"]["gflops"] == 56
    # The README rounds the paper's figures.
    assert round(segnext.PAPER_PARAMS_M["SegNeXt-T"]) == segnext.README_ADE20K[
        "SegNeXt-T"]["params_m"]
    assert round(segnext.PAPER_GFLOPS_ADE20K["SegNeXt-T"]) == segnext.README_ADE20K[
        "SegNeXt-T"]["gflops"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_tables_index_matches_constants(name):
    module = MODULES[name]
    assert module.__doc__ and "arXiv:" in module.__doc__
    tables = module.TABLES
    assert tables, name
    for table_name, description in tables.items():
        assert isinstance(description, str) and description and "\n" not in description
        assert any(belongs(c, table_name) for c in table_constants(module)), table_name
    for constant in table_constants(module):
        assert any(belongs(constant, t) for t in tables), f"{constant} has no TABLES entry"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_metric_values_are_float_percentages(name):
    for constant, value in table_constants(MODULES[name]).items():
        if any(tag in constant for tag in NOT_PERCENT):
            continue
        leaves = list(numeric_leaves(value))
        assert leaves, constant
        for key, number in leaves:
            if key == "fov":  # FCRN's field of view, in pixels
                assert isinstance(number, int) and number > 0
                continue
            assert isinstance(number, float), (constant, key, number)
            low = -100.0 if "_DELTA_" in constant else 0.0
            assert low <= number <= 100.0, (constant, key, number)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_tables_index_covers_the_papers_captions(name):
    """Every table the paper prints has an entry, and every entry's name is the paper's:
    against the captions and mentions excerpted from the papers' texts
    (tests/paper_captions.json; the tests read no file outside the repository)."""
    excerpts = json.loads(EXCERPTS.read_text(encoding="utf-8"))[name]
    printed = {re.match(r"Table (\d+)[:.]", caption).group(1)
               for caption in excerpts["captions"]}
    listed = {re.match(r"Table (\d+)", t).group(1) for t in MODULES[name].TABLES}
    assert printed == listed
    for table_name in MODULES[name].TABLES:
        assert re.search(re.escape(table_name).replace(r"Table\ ", r"Table\.? "),
                         excerpts["mentions"].get(table_name, "")), table_name


def test_gcn_spot_checks():
    # Tables 1-5 keep their names (recipes and the demo import them).
    assert gcn.TABLE_1_MIOU[15] == 74.5 and gcn.TABLE_5["GCN + BR"]["miou"] == 74.7
    assert gcn.TABLE_6_IMAGENET_TOP5_ERR == {"ResNet50": 7.7, "ResNet50-GCN": 7.9}
    assert round(gcn.TABLE_6_MIOU_BASELINE["ResNet50-GCN"]
                 - gcn.TABLE_6_MIOU_BASELINE["ResNet50"], 1) == 5.5  # "by 5.5%" in the text
    assert gcn.TABLE_7_MIOU["Stage-3-MS-CRF"] == {"GCN + BR": 81.0}
    assert gcn.TABLE_7_MIOU["Stage-2"]["GCN"] == 77.6
    assert gcn.TABLE_8_MIOU["Our approach"] == 82.2 == max(gcn.TABLE_8_MIOU.values())
    assert gcn.TABLE_9_MIOU["Stage-2-MS-CRF"] == 77.4
    assert gcn.TABLE_10_MIOU["Our approach"] == 76.9 and gcn.TABLE_10_MIOU["DPN"] == 59.1
    assert gcn.TABLE_11_GCN_BLOCKS["res-4"]["k"] == 5
    assert gcn.TABLE_11_GCN_BLOCKS["res-5"]["width"] == 128


def test_gald_spot_checks():
    assert gald.TABLE_1A_MIOU["+CGNL"] == 78.2
    assert gald.TABLE_1D_MIOU[("FCN (Baseline)", "ResNet101")] == 75.3
    assert gald.TABLE_1E_DELTA_B["+CGNL+LD(average pooling)"] == -1.7
    assert gald.TABLE_2B_MIOU[("GALDNet(+Mapillary)", "ResNet101")] == 83.3
    assert gald.TABLE_3A_MAP50[("ResNet101", "+ GALD")] == 83.0
    assert gald.TABLE_3B_AP_MASK[("ResNet101", "+ GALD")] == 37.8
    assert gald.TABLE_5_IOU["Ours+ Mapillary"]["pole"] == 73.1
    assert gald.TABLE_6_AP["Ours"]["horse"] == 87.9  # printed "house"


def test_gald_tables_agree_with_each_other():
    # The fine-only GALDNet results of Table 2(a) are the "Ours" rows of Table 4, the
    # coarse / Mapillary ones of Table 2(b) those of Table 5.
    assert gald.TABLE_2A_MIOU[("GALDNet", "ResNet50")] == gald.TABLE_4_MIOU["Ours(ResNet50)"]
    assert gald.TABLE_2A_MIOU[("GALDNet", "ResNet101")] == gald.TABLE_4_MIOU["Ours(ResNet101)"]
    assert gald.TABLE_2B_MIOU[("GALDNet", "ResNet101")] == gald.TABLE_5_MIOU["Ours(ResNet101)"]
    assert gald.TABLE_3A_MAP50[("ResNet101", "+ GALD")] == gald.TABLE_6_MAP["Ours"]
    assert gald.TABLE_1B_MIOU["+CGNL + LD"] == gald.TABLE_1C_MIOU["+GALD"] == 79.6
    for table in (gald.TABLE_4_IOU, gald.TABLE_5_IOU):
        for row in table.values():
            assert tuple(row) == gald.CITYSCAPES_COLUMNS
    for row in gald.TABLE_6_AP.values():
        assert tuple(row) == gald.VOC_COLUMNS
    # The mean of the printed class IoUs disagrees with the printed mIoU for one row
    # only (documented in gald.py).
    tables = ((gald.TABLE_4_IOU, gald.TABLE_4_MIOU), (gald.TABLE_5_IOU, gald.TABLE_5_MIOU))
    off = {
        method
        for table, means in tables
        for method, row in table.items()
        if abs(sum(row.values()) / len(row) - means[method]) > 0.15
    }
    assert off == {"Ours(ResNet50)"}


def test_fcrn_spot_checks():
    assert fcrn.TABLE_1[(101, "1/8", 5, 12)] == {
        "fov": 392, "pixel_acc": 93.87, "mean_acc": 81.87, "miou": 73.41}
    assert fcrn.TABLE_2[(152, "1/8", 5, 12)]["miou"] == 71.51
    assert fcrn.TABLE_3[("1/8", "1/4")]["miou"] == 73.65
    assert fcrn.TABLE_4["Cityscapes"][(152, 512, False)]["miou"] == 74.64
    assert fcrn.TABLE_4["PASCAL VOC 2012"][(152, 512, True)]["miou"] == 75.90
    assert fcrn.TABLE_5_MIOU["test VOC+COCO"]["ours"] == 78.3
    assert fcrn.TABLE_5_IOU["test VOC"]["ours"]["cat"] == 94.9
    assert fcrn.TABLE_6_IOU["FCRN + Bs."]["traffic light"] == 65.7


def test_fcrn_tables_agree_with_each_other():
    for table in (fcrn.TABLE_1, fcrn.TABLE_2):
        for (_, resolution, kernel, dilation), row in table.items():
            stride = int(resolution.split("/")[1])
            assert row["fov"] == stride * (dilation * (kernel - 1) + 1)
    # Table 4's "F/F" rows are the vanilla rows of Tables 1 and 2, Table 3's
    # (1/8, 1/8) row is Table 1's 101-layer 5×5 dilation-12 row.
    for dataset, vanilla in (("PASCAL VOC 2012", fcrn.TABLE_1), ("Cityscapes", fcrn.TABLE_2)):
        for (depth, k, dropout), row in fcrn.TABLE_4[dataset].items():
            if k is None and not dropout:
                expected = dict(vanilla[(depth, "1/8", 5, 12)])
                expected.pop("fov")
                assert row == expected
    expected = dict(fcrn.TABLE_1[(101, "1/8", 5, 12)])
    expected.pop("fov")
    assert fcrn.TABLE_3[("1/8", "1/8")] == expected
    # In every setting, keeping the 512 hardest pixels is the best K (Section 4.5).
    for rows in fcrn.TABLE_4.values():
        for depth in {d for d, _, _ in rows}:
            no_dropout = {k: r["miou"] for (d, k, do), r in rows.items() if d == depth and not do}
            assert max(no_dropout, key=no_dropout.get) == 512
    # Cityscapes val: the mean of the 19 class IoUs is the printed mean.
    for method, row in fcrn.TABLE_6_IOU.items():
        assert tuple(row) == fcrn.CITYSCAPES_COLUMNS
        assert abs(sum(row.values()) / 19 - fcrn.TABLE_6_MIOU[method]) < 0.05
    for section in fcrn.TABLE_5_IOU.values():
        for row in section.values():
            assert tuple(row) == fcrn.VOC_COLUMNS
