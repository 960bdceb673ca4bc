"""Sentences of the paper READMEs that state CPU-scale verdicts, outside the generated
sections, checked against the committed results (`report.paper_verdicts`), so they
cannot go stale silently."""

import json
import os
import re

from keras_lk.experiments import report, statistics

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _prose(paper):
    with open(os.path.join(ROOT, "recipes", paper, "README.md")) as f:
        return " ".join(f.read().split(report.BEGIN)[0].split())  # one line, no wrapping


def _verdicts(paper):
    """The paper's corrected CPU-scale comparisons (`report.paper_verdicts`)."""
    return report.paper_verdicts(os.path.join(ROOT, "recipes", paper), "cpu")


def _interval(comparison):
    return f"[{comparison['low']:+.2f}, {comparison['high']:+.2f}]"


def test_gald_summary_matches_the_corrected_verdicts():
    text = _prose("gald")
    correction = _verdicts("gald")
    by_statement = {c["statement"]: c for c in correction["comparisons"]}
    verdicts = [c["verdict"] for c in correction["comparisons"]]
    found = re.search(r"Of GALD's (\d+) comparisons at this scale, corrected together "
                      r"\(Benjamini–Hochberg, q = 0.05\), (\d+) agrees? with the paper", text)
    assert found, "the GALD README no longer sums up its CPU-scale verdicts"
    assert (int(found[1]), int(found[2])) == (correction["m"], verdicts.count("agrees"))
    assert f"The other {verdicts.count('inconclusive')} are inconclusive and none disagrees" \
        in text and "disagrees" not in verdicts
    bilinear = by_statement["depth-wise > bilinear"]
    assert bilinear["verdict"] == "agrees"
    assert (f"+{bilinear['effect']:.2f} points, 95 % interval {_interval(bilinear)}, "
            f"{bilinear['n']} seeds") in text
    for statement in ("+LD > FCN (Baseline)", "+CGNL + LD > +CGNL"):
        comparison = by_statement[statement]
        assert comparison["verdict"] == "inconclusive"
        assert f"{comparison['effect']:+.2f} points, {_interval(comparison)}" in text
        assert f"{comparison['p_adjusted']:.3f}" in text
    # The initialisation check (`ld_initialization.py`): both of its claims undecided.
    for statement in ("with glorot's start: depth-wise > bilinear",
                      "PyTorch's start > glorot's start (depth-wise LD)"):
        comparison = by_statement[statement]
        assert comparison["verdict"] == "inconclusive"
        assert f"{comparison['effect']:+.2f} points, {_interval(comparison)}" in text
    starts = by_statement["PyTorch's start > glorot's start (depth-wise LD)"]
    assert f"({starts['n']} seeds, inconclusive)" in text


def _test_miou_by_seed(results, row):
    """{seed: test mIoU in %} of `row`'s runs."""
    return {run["seed"]: 100 * run["metrics"]["test"]["miou"]
            for run in results["runs"] if run["row"] == row}


def test_fcrn_summary_matches_the_plateau_and_the_claims():
    text = _prose("fcrn")
    correction = _verdicts("fcrn")
    verdicts = {c["verdict"] for c in correction["comparisons"]}
    count = len(correction["comparisons"])
    assert verdicts == {"not testable here"}
    assert f"none of FCRN's {count} CPU-scale claims gets a verdict" in text
    with open(os.path.join(ROOT, "recipes", "fcrn", "results", "plateau_cpu.json")) as f:
        decision = json.load(f)["decision"]
    assert not decision["reached"] and decision["steps"] == 1600
    moves = [f"{decision['effects'][steps]:+.2f}" for steps in ("400", "800", "1600")]
    assert f"moved {moves[0]}, {moves[1]} and {moves[2]} points" in text


def test_fcrn_bootstrapping_paragraph_matches_table_4():
    """The stalled seeds per K, their test mIoU, and K = 64 against plain cross-entropy."""
    text = _prose("fcrn")
    with open(os.path.join(ROOT, "recipes", "fcrn", "results",
                           "table_4__voc_2012_cpu.json")) as f:
        results = json.load(f)
    plain = _test_miou_by_seed(results, "local F/F")
    weakest = min(plain.values())
    assert f"weakest plain cross-entropy seed ({weakest:.1f})" in text

    def split(row):
        values = _test_miou_by_seed(results, row)
        assert len(values) == 5, row
        stalled = sorted(v for v in values.values() if v < weakest / 2)
        return stalled, sorted(v for v in values.values() if v >= weakest / 2)

    stalled, trained = split("local 256/F")
    assert not trained and f"all 5 seeds collapse to background everywhere (test mIoU " \
        f"{max(stalled):.1f}" in text and f"{min(stalled):.1f}" == f"{max(stalled):.1f}"
    for run in results["runs"]:
        if run["row"] == "local 256/F":
            assert not any(run["metrics"]["test"]["per_class_iou"][1:])
    stalled, trained = split("local 512/F")
    assert (f"{len(trained)} of 5 seeds train (test mIoU {trained[0]:.1f}–{trained[-1]:.1f}), "
            f"{len(stalled)} stall ({', '.join(f'{v:.1f}' for v in stalled)})") in text
    stalled, trained = split("local 1024/F")
    assert not stalled
    larger = _test_miou_by_seed(results, "local 1024/F")
    effects = [larger[seed] - plain[seed] for seed in sorted(plain)]
    interval = statistics.t_interval(effects)
    assert min(effects) > 0 and "every one beats plain cross-entropy of the same seed" in text
    assert (f"{interval['effect']:+.2f} points of test mIoU, 95 % interval "
            f"[{interval['low']:+.2f}, {interval['high']:+.2f}]") in text

    def rare_iou(row, index):
        values = [round(100 * run["metrics"]["test"]["per_class_iou"][index])
                  for run in results["runs"] if run["row"] == row]
        return f"{min(values)}–{max(values)}"

    assert (f"disc {rare_iou('local 1024/F', 1)} against {rare_iou('local F/F', 1)}, "
            f"square {rare_iou('local 1024/F', 2)} against {rare_iou('local F/F', 2)}") in text
    for run in results["runs"]:
        if run["row"] == "local 512/F" and 100 * run["metrics"]["test"]["miou"] < weakest / 2:
            assert all(100 * iou < 0.5 for iou in run["metrics"]["test"]["per_class_iou"][1:3])
    assert "both rare classes' IoU under 0.5" in text
    without, _ = split("local 512/F, 200 train")
    with_dropout, _ = split("local 512/T, 200 train")
    assert (f"K = 32 stalls in {len(without)} of 5 seeds, and with dropout in "
            f"{'all 5' if len(with_dropout) == 5 else len(with_dropout)}") in text


def _counts_sentence(correction):
    """"A agree with the paper, D disagree, I are inconclusive and N is not testable
    here", as the GCN summary words its corrected verdicts."""
    verdicts = [c["verdict"] for c in correction["comparisons"]]
    count = {verdict: verdicts.count(verdict) for verdict in
             ("agrees", "disagrees", "inconclusive", "not testable here")}
    agree, disagree = count["agrees"], count["disagrees"]
    return (f"{agree} agree{'s' * (agree == 1)} with the paper, "
            f"{disagree} disagree{'s' * (disagree == 1)}, "
            f"{count['inconclusive']} {'is' if count['inconclusive'] == 1 else 'are'} "
            f"inconclusive and {count['not testable here']} "
            f"{'is' if count['not testable here'] == 1 else 'are'} not testable here")


def test_gcn_summary_matches_the_corrected_verdicts():
    """The counts, and each comparison's effect and interval under its verdict's item."""
    text = _prose("gcn")
    correction = _verdicts("gcn")
    assert (f"Of GCN's {len(correction['comparisons'])} comparisons at this scale, corrected "
            f"together (Benjamini–Hochberg, q = 0.05), {_counts_sentence(correction)}") in text
    items = {"agrees": "- What agrees:", "disagrees": "- What disagrees:",
             "inconclusive": "- Inconclusive:", "not testable here": "- Not testable here:"}
    starts = sorted((text.index(item), verdict) for verdict, item in items.items())
    bounds = {verdict: (start, next_start) for (start, verdict), (next_start, _) in
              zip(starts, [*starts[1:], (len(text), None)])}
    for comparison in correction["comparisons"]:
        low, high = bounds[comparison["verdict"]]
        if comparison["verdict"] == "not testable here":
            assert comparison["statement"].removeprefix("CPU: ") in text[low:high]
            gap = re.search(r"gap \+(\d+\.\d) points", comparison["untestable"])[1]
            assert f"train − val gap, {gap} points" in text[low:high]
            continue
        figures = [f"{comparison['effect']:+.2f} {unit}, {_interval(comparison)}"
                   for unit in ("points", "points per unit of k", "points per px")]
        assert any(figure in text[low:high] for figure in figures), comparison["statement"]
