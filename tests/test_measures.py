"""selfeval/analysis/measures.py: every measure declared once, and its values on the seed forms, checked
against hand-read raw lines or an independent computation from the tables' printed columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from selfeval.analysis import measures, notebook

approx = pytest.approx
F000, F002, F003 = "000_cbaa33e73a3cfdfd", "002_fd002be877c499a2", "003_d45a1a0ca283005b"


@pytest.fixture(scope="module")
def results(seed_tables):
    return measures.compute(seed_tables)


def test_every_measure_is_declared_whole():
    assert len(measures.MEASURES) >= 15
    for name, m in measures.MEASURES.items():
        assert m.name == name and name.isidentifier()
        assert m.label_zh and m.label_en and m.unit and m.definition_en and m.definition_zh, name
        assert callable(m.function)
    for notebook_name, names in measures.NOTEBOOKS.items():
        assert 3 <= len(names) <= 7 and set(names) <= set(measures.MEASURES), notebook_name


def test_headline_and_result_interface(seed_tables):
    top = measures.headline(seed_tables, "02_score_inflation")
    assert [r.name for r in top] == measures.NOTEBOOKS["02_score_inflation"]
    assert top[0].name == "evidence_profile" and top[1].name == "inflation_range"
    for r in top:
        assert {"form_id", "project_name", "unit"} <= set(r.forms.columns)
        assert list(r.left_out.columns) == ["form_id", "project_name", "reason"]
        d = r.as_dict()
        assert d["name"] == r.name and d["text"] == r.text


@pytest.mark.parametrize("name", list(measures.NOTEBOOKS))
def test_every_notebook_has_its_headline(seed_tables, name):
    top = measures.headline(seed_tables, name)
    assert 3 <= len(top) <= 7 and all(r.text for r in top)


def test_forms_above_and_below_the_rule(seed_tables, results):
    """One threshold (0.01 points) for both sides; the forms named are those of the tables'
    self_total - rule_total."""
    p = seed_tables["projects"]
    gap = (p.self_total - p.rule_total).round(2)
    r = results["forms_off_rule"]
    assert (
        r.value
        == {
            "above": int((gap >= 0.01).sum()),
            "below": int((gap <= -0.01).sum()),
            "equal": int(((gap > -0.01) & (gap < 0.01)).sum()),
        }
        == {"above": 8, "below": 6, "equal": 56}
    )
    assert set(r.forms.form_id) == set(p.form_id[gap.abs() >= 0.01])
    # 002 line 82 (≥400000 vs 40000 scored 6 of 6) puts 002#003 above; 003 line 800 puts 003#035 above
    assert {f"{F002}#003", f"{F003}#035"} <= set(r.forms.form_id[r.forms.side == "above"])


def test_inflation_range(seed_tables, results):
    p = seed_tables["projects"]
    r = results["inflation_range"]
    assert r.value["lower"] == approx((p.self_total - p.rule_total).round(2).mean())
    assert r.value["upper"] == approx((p.self_total - p.substantiated_total).round(2).mean())
    assert r.value["lower"] < r.value["upper"]
    assert r.left_out.empty and len(r.forms) == 70
    assert set(r.by_unit.index) == {
        "丰台区城市管理指挥中心",
        "北京市朝阳区人民政府小关街道办事处",
        "北京市朝阳区城市管理监督指挥中心",
    }
    # 003#035 (lines 786-803): 100 / 99.27 / 19.27 (see test_evidence)
    row = r.forms.set_index("form_id").loc[f"{F003}#035"]
    assert (row.lower, row.upper) == (approx(0.73), approx(80.73))


def test_evidence_profile_sums_the_points(seed_tables, results):
    p, ind = seed_tables["projects"], seed_tables["indicators"]
    points = ind.groupby("evidence").score.sum()
    budget = p.budget_score.fillna(0).sum()  # every form prints its amounts: the budget line is measured
    assert p.rule_budget_score.notna().all()
    total = points.sum() + budget
    value = results["evidence_profile"].value
    assert value["measured"] == approx((points["measured"] + budget) / total)
    assert value["restated"] == approx(points["restated"] / total)
    assert sum(value.values()) == approx(1)
    by_unit = results["evidence_profile"].by_unit
    assert (by_unit[["measured", "restated", "bare_claim", "missing"]].sum(axis=1) - 1).abs().max() < 1e-9


def test_left_out_forms_are_counted_and_named(results):
    r = results["budget_changed"]
    # 002 forms 11 and 14 and 003 forms 39-48 print no 年初预算数 (e.g. 003 line 928: 年度资金总额 |  | 30 | 30)
    assert r.left_out_text() == "12 forms print no initial budget"
    assert set(r.left_out.form_id) == {f"{F002}#011", f"{F002}#014", *(f"{F003}#{k:03d}" for k in range(39, 49))}
    assert "(left out: 12 forms print no initial budget)" in r.text
    assert r.value["cut"] + r.value["raised"] + r.value["unchanged"] == 58


def test_execution_rate_against_the_indicator_score_only(seed_tables, results):
    """The total contains the budget score (rate x 10): correlate the rate with the total
    minus the printed budget score instead. 002#005 prints no budget score (left out)."""
    p = seed_tables["projects"]
    rate = (p.executed / p.full_year_budget).astype(float)
    indicator = (p.self_total - p.budget_score).astype(float)
    ok = indicator.notna()
    r = results["execution_vs_indicator_score"]
    assert r.value == approx(np.corrcoef(rate[ok], indicator[ok])[0, 1])
    assert abs(r.value) < 0.1
    with_total = np.corrcoef(rate[ok], p.self_total[ok].astype(float))[0, 1]
    assert with_total > 0.4  # the artefact the measure avoids
    assert list(r.left_out.form_id) == [f"{F002}#005"]


def test_missed_targets_split_typos_from_real_misses(results):
    r = results["missed_targets"]
    # 002 line 82: ≥400000 vs 40000 is exactly /10 (a lost zero); 003 line 800: 63420元 over a 58800元 ceiling
    assert r.value["typo"] == 1 and "002#003 line 82" in r.text.split("real misses")[0]
    assert "002#005 line 148" in r.text.split("real misses")[1]  # the first five real misses are named
    rows = r.as_dict()["rows"]
    assert (
        "002#003 line 82 数据维护数量 ≥400000 -> 40000" in rows
        and "003#035 line 800 总体培训成本 ≥58800元 -> 63420元" in rows
    )
    assert measures.typo_like(pd.Series([0.1, 10.0, 100.0, 0.5, 9.99])).tolist() == [True, True, True, False, False]


def test_weight_split(results):
    r = results["weight_split"]
    split = r.forms.set_index("form_id")
    # 000 lines 577-645: 产出 10 + 20 + 10 + 20 (成本) = 60, 效益 10 + 10 = 20, 满意度 10
    assert tuple(split.loc[f"{F000}#004", ["output", "effect", "satisfaction"]]) == (60, 20, 10)
    # 003 lines 797-802: 10 + 10 + 20 + 10 = 50, 30, 10: on the norm, not listed
    assert f"{F003}#035" not in split.index
    assert r.value["off_norm"] + r.value["on_norm"] == 70


def test_cost_lines_that_restate_the_budget(results):
    r = results["cost_restates_budget"]
    # 003 lines 170 and 180: budget 4 / 4 / 4 万元; 成本指标 宣传成本 4万 -> 4万
    assert "003#008 line 180 宣传成本 4万 -> 4万" in r.as_dict()["rows"]
    # the sentence names the first rows and counts the rest
    assert r.text.startswith("27 of 82 cost indicators") and "000#002 line 274" in r.text and "and 22 more" in r.text
    assert "第274行" in r.text_zh and "另有 22 项" in r.text_zh
    assert f"{F003}#008" in set(r.forms.form_id)
    # 003 line 638: ≥250万元 vs 143.669312 (万元 from the target): the 全年执行数 of line 628
    # (221.2221 / 143.669312 / 143.669312): the actual is the spending, the target not the budget
    row = r.forms.set_index("form_id")
    assert "003#028 line 638 建设工程预算 ≥250万元 -> 143.669312" in r.as_dict()["rows"] and f"{F003}#028" in row.index


def test_bare_claim_achievements(seed_tables, results):
    r = results["bare_claim_achievements"]
    # 000 line 560: 已完成预期目标; 003 line 795: 已完成。; 002 line 143 (a description) is not
    assert {f"{F000}#004", f"{F003}#035"} <= set(r.forms.form_id)
    assert f"{F002}#005" not in set(r.forms.form_id)
    assert r.value == 49


def test_empty_notes_next_to_a_miss(results):
    r = results["empty_notes_on_misses"]
    # 003 line 800 (overspent cost, note 无) is listed; 002 line 254 (法律培训 3 vs 1, note 增加法律培训) is not
    assert "003#035 line 800" in r.text and "line 254" not in r.text


def test_a_selection_computes_on_its_own_forms(unit_tables):
    selection = notebook.select(unit_tables, department="丰台区城市管理指挥中心")
    r = measures.compute(selection.tables, ["forms_off_rule", "evidence_profile"])
    assert r["forms_off_rule"].value == {"above": 4, "below": 6, "equal": 5}
    assert set(r["evidence_profile"].forms.form_id) == set(selection.projects.form_id)
