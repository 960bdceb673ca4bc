"""Every table of the papers is a recipe, or is listed with the reason it is not."""

import os

from keras_lk import papers
from keras_lk.experiments import coverage

RECIPES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "recipes")


def test_every_paper_table_is_a_recipe_or_has_a_reason():
    assert coverage.uncovered(RECIPES) == []
    for key, reason in {**coverage.OUT_OF_SCOPE, **coverage.PENDING}.items():
        paper, table = key
        assert table in getattr(papers, paper).TABLES, key  # no stale entry
        assert len(reason) > 40, key


def test_a_listed_table_has_no_recipe_and_the_recipes_name_paper_tables():
    recipes = coverage.recipe_tables(RECIPES)
    for paper, table in {**coverage.OUT_OF_SCOPE, **coverage.PENDING}:
        assert not any(p == paper and coverage.covers(t, table) for p, t in recipes)
    known = {(paper, table) for paper in coverage.PAPERS
             for table in getattr(papers, paper).TABLES}
    extra = [key for key in recipes
             if not any(key[0] == p and coverage.covers(key[1], t) for p, t in known)]
    # The studies that are not paper tables.
    assert sorted(extra) == [("gald", "LD initialisation"), ("gcn", "Large-kernel kit"),
                             ("gcn", "Regime sweep"), ("gcn", "Transfer")]
    assert recipes["gcn", "Table 7"] == os.path.join("gcn", "table7_voc_stages.py")
    # SegNeXt's tables are the official README's, one recipe each.
    assert set(papers.segnext.TABLES) == {"README ADE20K", "README Cityscapes"}
    assert recipes["segnext", "README ADE20K"] == os.path.join("segnext", "table_ade20k.py")
    assert recipes["segnext", "README Cityscapes"] == os.path.join("segnext",
                                                                   "table_cityscapes.py")


def test_coverage_rules():
    assert coverage.covers("Table 2", "Table 2(a)")
    assert coverage.covers("Table 4 (VOC 2012)", "Table 4")
    assert not coverage.covers("Table 1", "Table 10")
    assert not coverage.covers("Table 1(a)", "Table 1(b)")
