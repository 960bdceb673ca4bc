"""Sentences of the paper READMEs that state CPU-scale verdicts, outside the generated
sections, checked against the committed results (`report.paper_verdicts`), so they
cannot go stale silently."""

import os
import re

from keras_lk.experiments import report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _prose(paper):
    with open(os.path.join(ROOT, "recipes", paper, "README.md")) as f:
        return " ".join(f.read().split(report.BEGIN)[0].split())  # one line, no wrapping


def _interval(comparison):
    return f"[{comparison['low']:+.2f}, {comparison['high']:+.2f}]"


def test_gald_summary_matches_the_corrected_verdicts():
    text = _prose("gald")
    correction = report.paper_verdicts(os.path.join(ROOT, "recipes", "gald"), "cpu")
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
