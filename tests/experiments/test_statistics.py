import math

import pytest

from keras_lk.experiments import Greater, Trend, judge, summarize


def _runs(scores):
    """{row: [score per seed]} → runs as the results file holds them (split "test")."""
    return [{"row": row, "seed": seed, "metrics": {"test": {"miou": value}}}
            for row, values in scores.items() for seed, value in enumerate(values)]


def test_summarize_uses_the_sample_std():
    stats = summarize([1.0, 2.0, 3.0])
    assert stats == {"mean": 2.0, "std": 1.0, "n": 3}
    assert summarize([5.0]) == {"mean": 5.0, "std": 0.0, "n": 1}


@pytest.mark.parametrize(("effects", "verdict"), [
    ([3.0, 4.0, 5.0], "agrees"),          # mean 4, se 0.577: +6.9 standard errors
    ([-3.0, -4.0, -5.0], "disagrees"),
    ([5.0, -4.0, 1.0], "inconclusive"),   # mean 0.67, se 2.6
    ([4.0], "inconclusive"),              # one seed is never evidence
])
def test_judge(effects, verdict):
    assert judge(effects)["verdict"] == verdict


def test_judge_reports_standard_errors():
    result = judge([3.0, 4.0, 5.0])
    assert result["effect"] == 4.0 and result["n"] == 3
    assert math.isclose(result["standard_errors"], 4.0 / (1.0 / math.sqrt(3)))


def test_greater_is_paired_by_seed():
    # Row A beats B by exactly 1 point in every seed although both vary by 10 points
    # between seeds: paired, the claim is clear.
    runs = _runs({"A": [0.51, 0.61, 0.41], "B": [0.50, 0.60, 0.40]})
    claim = Greater("A > B", "A", "B")
    assert claim.effects(runs, "test") == pytest.approx([1.0, 1.0, 1.0])
    assert claim.evaluate(runs, "test")["verdict"] == "agrees"
    assert Greater("B > A", "B", "A").evaluate(runs, "test")["verdict"] == "disagrees"


def test_trend_fits_a_slope_per_seed():
    runs = _runs({"k1": [0.50, 0.40, 0.45], "k3": [0.52, 0.42, 0.47], "k5": [0.54, 0.44, 0.49]})
    claim = Trend("rises", ("k1", "k3", "k5"), (1, 3, 5))
    assert claim.effects(runs, "test") == pytest.approx([1.0, 1.0, 1.0])
    falling = Trend("falls", ("k1", "k3", "k5"), (1, 3, 5), sign=-1)
    assert falling.evaluate(runs, "test")["verdict"] == "disagrees"
