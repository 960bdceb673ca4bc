import math

import pytest

from keras_lk.experiments import (
    BaselineLearns,
    Evaluation,
    Greater,
    OverfitGap,
    Plateau,
    Scale,
    SeedRule,
    ThinBoundary,
    Trend,
    benjamini_hochberg,
    correct_claims,
    judge,
    summarize,
    t_interval,
)
from keras_lk.experiments.statistics import configuration_key, format_claim

CONFIG = {"model": "gcn", "backbone": "resnet10_local", "steps": 800, "learning_rate": 2e-3,
          "init_from": None, "verbose": 0, "tensorboard": False, "data_dir": None,
          "manual_dir": None}


def _runs(scores, split="test", configs=None, directory="runs"):
    """{row: [score per seed]} → runs as the results file holds them; each row's training
    configuration is `configs[row]` (default: model options naming the row)."""
    runs = []
    for row, values in scores.items():
        options = (configs or {}).get(row, {"head": row})
        for seed, value in enumerate(values):
            runs.append({"row": row, "seed": seed, "metrics": {split: {"miou": value}},
                         "config": {**CONFIG, "model_options": options, "seed": seed,
                                    "output_dir": f"{directory}/{row}/seed_{seed}"}})
    return runs


def _results(runs, splits=("val", "test")):
    return {"runs": runs, "evaluation": {"splits": list(splits), "boundary_distance": 7}}


def test_summarize_uses_the_sample_std():
    stats = summarize([1.0, 2.0, 3.0])
    assert stats == {"mean": 2.0, "std": 1.0, "n": 3}
    assert summarize([5.0]) == {"mean": 5.0, "std": 0.0, "n": 1}


def test_t_interval_by_hand():
    # mean 3, std √2.5 = 1.5811, se 0.7071, t(0.975, df 4) = 2.7764: 3 ± 1.9632.
    test = t_interval([1, 2, 3, 4, 5])
    assert test["effect"] == 3.0 and test["n"] == 5
    assert test["std"] == pytest.approx(1.5811, abs=1e-4)
    assert test["low"] == pytest.approx(3 - 1.9632, abs=1e-4)
    assert test["high"] == pytest.approx(3 + 1.9632, abs=1e-4)
    assert test["t"] == pytest.approx(3 / (1.5811388 / math.sqrt(5)), rel=1e-6)
    assert test["p"] == pytest.approx(0.01324, abs=1e-5)  # two-sided, t = 4.243, df 4
    # The critical values the notes quote: 4.30 at n = 3, 2.26 at n = 10.
    three = t_interval([0.0, 1.0, 2.0])
    assert (three["high"] - three["effect"]) / (1.0 / math.sqrt(3)) == pytest.approx(4.3027,
                                                                                   abs=1e-4)
    ten = t_interval(range(10))
    assert (ten["high"] - ten["effect"]) / (ten["std"] / math.sqrt(10)) == pytest.approx(
        2.2622, abs=1e-4)


def test_t_interval_edge_cases():
    assert t_interval([4.0])["p"] is None and t_interval([])["effect"] is None
    flat = t_interval([2.0, 2.0, 2.0])
    assert flat["p"] == 0.0 and flat["t"] is None and flat["low"] == flat["high"] == 2.0
    assert t_interval([0.0, 0.0])["p"] == 1.0


@pytest.mark.parametrize(("effects", "verdict"), [
    ([3.0, 4.0, 5.0], "agrees"),          # t = 6.9 > 4.30
    ([-3.0, -4.0, -5.0], "disagrees"),
    ([5.0, -4.0, 1.0], "inconclusive"),
    ([1.0, 2.0, 3.5], "inconclusive"),    # +3.0 standard errors: the old rule agreed; p = 0.096
    ([4.0], "inconclusive"),              # one seed is never evidence
])
def test_judge(effects, verdict):
    assert judge(effects)["verdict"] == verdict


def test_benjamini_hochberg_on_a_known_list():
    adjusted, rejected = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert rejected == [True, True, True, True]
    adjusted, rejected = benjamini_hochberg([0.001, 0.2, 0.03])
    assert adjusted == pytest.approx([0.003, 0.2, 0.045])
    assert rejected == [True, False, True]
    # The step-up: 0.04 · 2 / 1 = 0.08 is lowered to the larger p's 0.045 · 2 / 2.
    assert benjamini_hochberg([0.04, 0.045])[0] == pytest.approx([0.045, 0.045])
    assert benjamini_hochberg([]) == ([], [])


def test_greater_is_paired_by_seed():
    # Row A beats B by exactly 1 point in every seed although both vary by 10 points
    # between seeds: paired, the claim is clear.
    runs = _runs({"A": [0.51, 0.61, 0.41, 0.55], "B": [0.50, 0.60, 0.40, 0.54]})
    claim = Greater("A > B", "A", "B")
    assert claim.effects(runs, "test") == pytest.approx([1.0, 1.0, 1.0, 1.0])
    result = claim.evaluate(runs, "test")
    assert result["verdict"] == "agrees" and result["low"] == pytest.approx(1.0)
    assert Greater("B > A", "B", "A").evaluate(runs, "test")["verdict"] == "disagrees"


def test_trend_fits_a_slope_per_seed():
    runs = _runs({"k1": [0.50, 0.40, 0.45], "k3": [0.52, 0.42, 0.47], "k5": [0.54, 0.44, 0.49]})
    claim = Trend("rises", ("k1", "k3", "k5"), (1, 3, 5))
    assert claim.effects(runs, "test") == pytest.approx([1.0, 1.0, 1.0])
    falling = Trend("falls", ("k1", "k3", "k5"), (1, 3, 5), sign=-1)
    assert falling.evaluate(runs, "test")["verdict"] == "disagrees"


def test_format_claim_prints_the_interval_t_and_p():
    runs = _runs({"A": [0.51, 0.62, 0.43], "B": [0.50, 0.60, 0.40]})
    line = format_claim(Greater("A > B", "A", "B").evaluate(runs, "test"))
    assert "+2.00 ± 1.00 points" in line and "95 % t-interval [-0.48, +4.48]" in line
    assert "n = 3" in line and "t = +3.46" in line and "p = 0.074" in line
    assert line.startswith("A > B: inconclusive")


# --- One comparison counted once over a paper's tables ---


def _two_tables():
    """Table 1 (rows base, k15, k7) and Table 5 (rows Baseline, GCN: Table 1's base and
    k15 configurations, trained in other folders)."""
    configs = {"base": {"head": "conv1x1"}, "k15": {"head": "gcn", "k": 15},
               "k7": {"head": "gcn", "k": 7}, "Baseline": {"head": "conv1x1"},
               "GCN": {"head": "gcn", "k": 15}}
    scores = {"base": [0.30, 0.25, 0.30, 0.28, 0.31],
              "k15": [0.34, 0.28, 0.35, 0.31, 0.36],   # +3 to +5 points: p ≈ 0.001
              "k7": [0.31, 0.24, 0.32, 0.27, 0.33]}    # +1, -1, +2, -1, +2: p ≈ 0.3
    table1 = _results(_runs(scores, configs=configs, directory="runs1"), splits=("test",))
    table5 = _results(_runs({"Baseline": scores["base"], "GCN": scores["k15"]},
                            configs=configs, directory="runs5"), splits=("test",))
    claims1 = (Greater("k = 15 > base", "k15", "base"), Greater("k = 7 > base", "k7", "base"))
    claims5 = (Greater("GCN > Baseline", "GCN", "Baseline"),)
    return [("Table 1", table1, claims1), ("Table 5", table5, claims5)]


def test_a_comparison_shown_in_two_tables_is_counted_once():
    tables = _two_tables()
    correction = correct_claims(tables)
    assert correction["m"] == 2  # not 3: "GCN > Baseline" is "k = 15 > base"
    shared, other = correction["comparisons"]
    assert shared["tables"] == ["Table 1", "Table 5"]
    assert shared["statements"] == ["k = 15 > base", "GCN > Baseline"]
    # BH over the two unique p-values, not three.
    adjusted, _ = benjamini_hochberg([shared["p"], other["p"]])
    assert [shared["p_adjusted"], other["p_adjusted"]] == pytest.approx(adjusted)
    table1, table5 = correction["claims"]["Table 1"], correction["claims"]["Table 5"]
    assert table1[0]["comparison"] == table5[0]["comparison"] == 1
    assert table1[0]["p_adjusted"] == table5[0]["p_adjusted"] == shared["p_adjusted"]
    assert table1[0]["verdict"] == table5[0]["verdict"] == "agrees"
    assert table1[1]["verdict"] == "inconclusive" and table1[1]["comparison"] == 2
    # The uncorrected interval stays beside the corrected verdict.
    assert table1[0]["low"] == pytest.approx(shared["low"]) and table1[0]["corrected"]


def test_comparison_keys_ignore_seed_and_folders_but_not_the_configuration():
    run = _runs({"a": [0.3]})[0]
    moved = {**run, "config": {**run["config"], "output_dir": "elsewhere/seed_4", "seed": 4,
                               "verbose": 2}}
    assert configuration_key(run) == configuration_key(moved)
    longer = {**run, "config": {**run["config"], "steps": 2400}}
    assert configuration_key(run) != configuration_key(longer)
    tested_otherwise = {**run, "evaluation": {"splits": ["test"], "flip": True}}
    assert configuration_key(run) != configuration_key(tested_otherwise)


def test_a_reversed_claim_is_the_same_comparison_with_the_opposite_verdict():
    tables = _two_tables()
    name, results, _ = tables[1]
    tables[1] = (name, results, (Greater("Baseline > GCN", "Baseline", "GCN"),))
    correction = correct_claims(tables)
    assert correction["m"] == 2
    assert correction["claims"]["Table 1"][0]["verdict"] == "agrees"
    assert correction["claims"]["Table 5"][0]["verdict"] == "disagrees"
    assert correction["claims"]["Table 5"][0]["comparison"] == 1


def test_the_fcr_interval_excludes_zero_exactly_for_rejected_comparisons():
    correction = correct_claims(_two_tables())
    assert correction["rejections"] == 1
    assert correction["fcr_level"] == pytest.approx(1 - 1 * 0.05 / 2)
    shared, other = correction["comparisons"]
    assert shared["fcr_low"] > 0 and shared["fcr_low"] < shared["low"]  # wider than 95 %
    assert other["fcr_low"] < 0 < other["fcr_high"]


def test_the_correction_can_turn_an_uncorrected_agreement_inconclusive():
    # r0 − base = 1, 2, 3, 1 points: p = 0.035 alone; with a second comparison (p ≈ 0.9)
    # BH adjusts it to 2 × 0.035 = 0.07 > 0.05.
    scores = {"base": [0.30, 0.30, 0.30, 0.30], "r0": [0.31, 0.32, 0.33, 0.31],
              "r1": [0.31, 0.29, 0.305, 0.297]}
    claims = (Greater("r0 > base", "r0", "base"), Greater("r1 > base", "r1", "base"))
    results = _results(_runs(scores), splits=("test",))
    alone = claims[0].evaluate(results["runs"], "test")
    assert alone["verdict"] == "agrees" and alone["p"] == pytest.approx(0.0354, abs=1e-3)
    correction = correct_claims([("T", results, claims)])
    first = correction["claims"]["T"][0]
    assert first["p_adjusted"] == pytest.approx(2 * alone["p"])
    assert first["verdict"] == "inconclusive" and first["verdict_uncorrected"] == "agrees"
    assert correction["rejections"] == 0 and correction["fcr_level"] == pytest.approx(0.975)


# --- Preconditions: "not testable here" ---


def _with(runs, **fields):
    return [{**run, **fields} for run in runs]


def _precondition_runs():
    runs = _runs({"A": [0.40, 0.42, 0.41], "B": [0.30, 0.31, 0.32]}, split="val")
    for run in runs:
        run["metrics"]["val"].update(per_class_iou=[0.9, 0.05, 0.3], boundary_pixels=300,
                                     internal_pixels=700)
        run["final_training_miou"] = run["metrics"]["val"]["miou"] + 0.08
        run["plateau"] = {"reached": True, "step": 700}
    return runs


def test_plateau():
    runs = _precondition_runs()
    assert Plateau(("A",)).check(runs, "val") is None
    assert Plateau().check(runs, "val", ("A", "B")) is None  # the claim's rows
    missing = [{key: value for key, value in run.items() if key != "plateau"} for run in runs]
    assert "plateau not recorded" in Plateau(("A",)).check(missing, "val")
    runs[1]["plateau"] = {"reached": False, "step": 0}
    assert "'A' seed 1 did not reach its plateau" in Plateau(("A",)).check(runs, "val")


def test_overfit_gap():
    runs = _precondition_runs()  # train − val = 8 points on every run
    assert OverfitGap("A", 5).check(runs, "val") is None
    assert "gap +8.0 points" in OverfitGap("A", 10).check(runs, "val")
    unrecorded = _with(runs, final_training_miou=None)
    assert "not recorded" in OverfitGap("A", 5).check(unrecorded, "val")


def test_baseline_learns():
    runs = _precondition_runs()  # per-class IoU 90, 5, 30
    assert BaselineLearns("B", (0, 2), 20).check(runs, "val") is None
    reason = BaselineLearns("B", (1, 2), 20).check(runs, "val")
    assert "class 1 5.0" in reason and "class 2" not in reason
    for run in runs:
        run["metrics"]["val"]["per_class_iou"] = [0.9, None, 0.3]
    assert "class 1 absent" in BaselineLearns("B", (1,), 1).check(runs, "val")


def test_thin_boundary():
    runs = _precondition_runs()  # 300 of 1,000 labelled pixels: 30 %
    assert ThinBoundary(0.35).check(runs, "val", ("A", "B")) is None
    assert "30%" in ThinBoundary(0.10).check(runs, "val", ("A", "B"))
    for run in runs:
        del run["metrics"]["val"]["boundary_pixels"]
    assert "not recorded" in ThinBoundary(0.35).check(runs, "val", ("A", "B"))
    for run in runs:
        run["metrics"]["val"]["boundary_fraction"] = 0.05
    assert ThinBoundary(0.10).check(runs, "val", ("A", "B")) is None


def test_a_failed_precondition_makes_the_claim_not_testable_and_names_it():
    runs = _precondition_runs()
    testable = Greater("A > B", "A", "B", preconditions=(OverfitGap("A", 5),))
    assert testable.evaluate(runs, "val")["verdict"] == "agrees"
    claim = Greater("dropout helps", "A", "B", preconditions=(
        Plateau(), OverfitGap("A", 20)))
    result = claim.evaluate(runs, "val")
    assert result["verdict"] == "not testable here"
    assert result["untestable"].startswith(
        "needs train − val mIoU of 'A' ≥ 20 points, but gap +8.0")
    assert result["effect"] == pytest.approx(10.0)  # still measured, not judged
    assert "not testable here [needs train − val mIoU of 'A' ≥ 20 points" in format_claim(result)


def test_untestable_comparisons_leave_the_family():
    tables = _two_tables()
    name, results, claims = tables[0]
    blocked = Greater("k = 7 > base", "k7", "base", preconditions=(Plateau(),))
    tables[0] = (name, results, (claims[0], blocked))
    correction = correct_claims(tables)
    assert correction["m"] == 1
    second = correction["comparisons"][1]
    assert second["verdict"] == "not testable here" and second["p_adjusted"] is None
    assert "plateau not recorded" in second["untestable"]
    assert correction["claims"]["Table 1"][1]["verdict"] == "not testable here"


# --- The seed rule ---


def _val_test_runs(effects_val, effects_test, other=None):
    """Rows base, A (A − base: `effects_val` / `effects_test` points per seed) and
    optionally C (C − base: `other` on both splits)."""
    runs = []
    for seed, (on_val, on_test) in enumerate(zip(effects_val, effects_test)):
        base = 0.30 + 0.01 * (seed % 3)
        values = {"base": (base, base), "A": (base + on_val / 100, base + on_test / 100)}
        if other is not None:
            values["C"] = (base + other[seed] / 100,) * 2
        for row, (val, test) in values.items():
            runs.append({"row": row, "seed": seed,
                         "metrics": {"val": {"miou": val}, "test": {"miou": test}}})
    return runs


RULE = SeedRule(initial=5, maximum=10, min_abs_t=1.0)
CLAIMS = (Greater("A > base", "A", "base"), Greater("C > base", "C", "base"))
STRADDLES = [3.0, -1.0, 2.0, 0.5, 1.0]   # mean 1.1, t = 1.62, interval [-0.79, +2.99]
DECIDED = [5.0, 5.2, 4.8, 5.1, 4.9]


def test_the_seed_rule_adds_seeds_only_to_an_undecided_claims_rows():
    runs = _val_test_runs(STRADDLES, DECIDED, other=DECIDED)
    todo = RULE.seeds_to_run(CLAIMS, runs, "val", ["base", "A", "C"])
    assert todo == {"base": (5, 6, 7, 8, 9), "A": (5, 6, 7, 8, 9)}  # C > base is decided


def test_the_seed_rule_reads_val_not_test():
    # Decided on val, undecided on test: nothing is added.
    runs = _val_test_runs(DECIDED, STRADDLES)
    assert RULE.seeds_to_run(CLAIMS[:1], runs, "val", ["base", "A"]) == {}
    # Undecided on val, decided on test: seeds are added.
    runs = _val_test_runs(STRADDLES, DECIDED)
    assert RULE.seeds_to_run(CLAIMS[:1], runs, "val", ["base", "A"])["A"] == (5, 6, 7, 8, 9)


def test_the_seed_rule_leaves_small_t_alone():
    small = [2.0, -2.0, 1.0, -1.5, 0.8]  # mean 0.06, |t| = 0.08
    runs = _val_test_runs(small, small)
    assert RULE.seeds_to_run(CLAIMS[:1], runs, "val", ["base", "A"]) == {}


def test_the_seed_rule_never_goes_beyond_its_maximum():
    runs = _val_test_runs(STRADDLES * 2, STRADDLES * 2)  # seeds 0-9 done, still undecided
    assert RULE.seeds_to_run(CLAIMS[:1], runs, "val", ["base", "A"]) == {}
    # Missing initial seeds come first, with no extension before they are run.
    runs = [run for run in _val_test_runs(STRADDLES, STRADDLES) if run["seed"] < 3]
    assert RULE.seeds_to_run(CLAIMS[:1], runs, "val", ["base", "A"]) == {
        "base": (3, 4), "A": (3, 4)}


def test_the_seed_rule_skips_untestable_claims():
    runs = _val_test_runs(STRADDLES, STRADDLES)
    blocked = Greater("A > base", "A", "base", preconditions=(Plateau(),))
    assert RULE.seeds_to_run((blocked,), runs, "val", ["base", "A"]) == {}


def test_a_scale_with_a_seed_rule_starts_from_its_initial_seeds():
    with pytest.raises(ValueError, match="initial seeds"):
        Scale(name="cpu", train={}, evaluation=Evaluation(), seeds=(0, 1, 2), seed_rule=RULE)
    scale = Scale(name="cpu", train={}, seeds=RULE.initial_seeds, seed_rule=RULE)
    assert scale.smoked().seed_rule is None and scale.smoked().seeds == (0,)
    with pytest.raises(ValueError, match="2 ≤ initial ≤ maximum"):
        SeedRule(initial=6, maximum=5)


def test_claims_whose_rows_did_not_run_compare_nothing():
    tables = _two_tables()
    name, results, claims = tables[0]
    tables[0] = (name, results, (*claims, Greater("k = 99 > base", "k99", "base")))
    correction = correct_claims(tables)
    assert correction["m"] == 2 and len(correction["comparisons"]) == 2
    assert correction["not_run"] == [{"table": "Table 1", "statement": "k = 99 > base"}]
    missing = correction["claims"]["Table 1"][2]
    assert missing["comparison"] is None and missing["verdict"] == "inconclusive"
