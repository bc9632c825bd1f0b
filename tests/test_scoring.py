"""The rule-based re-score (selfeval/score/scoring.py): the rule on numbers, then on seed forms.

Seed rows are named by file, form and raw line; every printed value asserted below
was read in data/raw/ (002 = Fengtai 2024, 003 = Chaoyang Xiaoguan 2022, 000 =
Chaoyang 2021). Rule numbers are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from selfeval.schema import fields as schema
from selfeval.score import scoring
from selfeval.score.scoring import (
    BEIJING,
    FINANCE_SOFTWARE,
    HAIDIAN_2016,
    Rule,
    assess,
    budget_rule_score,
    direction_of,
    grade,
    indicator_rule_score,
    is_met,
    rate_basis,
    round2,
    score_band,
)

F000, F002, F003 = "000_cbaa33e73a3cfdfd", "002_fd002be877c499a2", "003_d45a1a0ca283005b"
approx = pytest.approx


def row(tables, form_id, line):
    ind = tables["indicators"]
    hit = ind[(ind.form_id == form_id) & (ind.line == line)]
    assert len(hit) == 1, (form_id, line)
    return hit.iloc[0]


def project(tables, form_id):
    return tables["projects"].set_index("form_id").loc[form_id]


def is_null(value):
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


# --- the rule on plain numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    "comparator, level1, level2, expected",
    [
        (">=", "output", "quantity", "higher"),
        (">", "output", "quantity", "higher"),
        ("<=", "output", "quality", "lower"),
        ("<", "output", "quality", "lower"),
        ("=", "output", "quantity", "exact"),
        (None, "output", "cost", "lower"),  # 成本指标 under 产出指标 (2021/2022 forms)
        (None, "cost", "economic_cost", "lower"),  # 成本指标 as level-1 (2024 forms)
        (None, "output", "quantity", "higher"),
        (None, "satisfaction", "satisfaction", "higher"),
        (">=", "output", "cost", "lower"),  # issue 12: a cost is lower-is-better whatever is printed
        (">", "cost", "economic_cost", "lower"),
        ("=", "output", "cost", "lower"),
    ],
)
def test_direction(comparator, level1, level2, expected):
    assert direction_of(comparator, level1, level2) == expected


def test_literal_direction_keeps_the_printed_comparator():
    assert scoring.literal_direction_of(">=", "output", "cost") == "higher"
    assert scoring.effective_comparator(">=", "output", "cost") == "<="
    assert scoring.effective_comparator(">", "cost", "economic_cost") == "<"
    assert scoring.effective_comparator(">=", "output", "quantity") == ">="


def test_met_is_inclusive_for_ge_le_and_strict_for_gt_lt():
    assert is_met(">=", "higher", 90, 90) and not is_met(">", "higher", 90, 90)
    assert is_met("<=", "lower", 2, 2) and not is_met("<", "lower", 2, 2)
    assert is_met("=", "exact", 2, 2) and not is_met("=", "exact", 2, 3)
    assert is_met(None, "lower", 50, 49.75) and not is_met(None, "higher", 50, 49.75)


def test_quantitative_rule_beijing_and_finance_software():
    # met: full weight, whatever the variant
    assert indicator_rule_score(10, "higher", True, 100, 120) == 10
    # higher missed: weight x B/A in both variants
    assert indicator_rule_score(10, "higher", False, 3, 1) == 3.33
    assert indicator_rule_score(10, "higher", False, 3, 1, FINANCE_SOFTWARE) == 3.33
    # lower missed, Beijing "A/B": 10 x 2/3 = 6.67; finance software: 10 x (1 - (3-2)/2) = 5
    assert indicator_rule_score(10, "lower", False, 2, 3) == 6.67
    assert indicator_rule_score(10, "lower", False, 2, 3, FINANCE_SOFTWARE) == 5.0
    # finance software: 0 from twice the target on; Beijing: 10 x 2/5 = 4
    assert indicator_rule_score(10, "lower", False, 2, 5, FINANCE_SOFTWARE) == 0.0
    assert indicator_rule_score(10, "lower", False, 2, 4, FINANCE_SOFTWARE) == 0.0
    assert indicator_rule_score(10, "lower", False, 2, 5) == 4.0
    # exact missed: from below as B/A, from above as A/B
    assert indicator_rule_score(9, "exact", False, 2, 1) == 4.5
    assert indicator_rule_score(9, "exact", False, 2, 3) == 6.0
    # never above the weight, never below 0
    assert indicator_rule_score(6, "higher", False, 500000, 6) == 0.0
    assert indicator_rule_score(5, "higher", False, 0.0, 0.0) <= 5


def test_rounding_is_half_up_to_two_decimals():
    assert round2(7.725) == 7.73 and round2(2.675) == 2.68 and round2(9.7647) == 9.76
    assert round2(None) is None


def test_budget_rule_score_and_grades_and_bands():
    assert budget_rule_score(0.758715, 10) == 7.59
    assert budget_rule_score(1.2, 10) == 10  # capped at the weight
    assert budget_rule_score(None, 10) is None
    assert [grade(x) for x in (100, 90, 89.99, 80, 79.99, 60, 59.99)] == [
        "excellent",
        "excellent",
        "good",
        "good",
        "fair",
        "fair",
        "poor",
    ]
    assert [score_band(s, 10) for s in (10, 8, 7.99, 6, 5.99)] == [
        "achieved",
        "achieved",
        "partly_achieved",
        "partly_achieved",
        "not_achieved",
    ]


def test_rate_basis_names_the_denominator_the_printed_rate_matches():
    # 002 line 48 (城指中心搬迁信息化建设): 67.7492 / 89.2947 = 75.87%, / 191.2947 = 35.42%
    assert rate_basis(0.7587, 67.7492, 89.2947, 191.2947) == "full_year"
    # the same numbers with the initial budget's rate printed: only executed / initial matches
    assert rate_basis(0.3542, 67.7492, 89.2947, 191.2947) == "initial"
    assert rate_basis(0.50, 67.7492, 89.2947, 191.2947) == "neither"
    assert rate_basis(None, 67.7492, 89.2947, 191.2947) is None


def test_rule_options_are_validated():
    with pytest.raises(ValueError):
        Rule(lower_missed="quadratic")
    with pytest.raises(ValueError):
        Rule(budget_denominator="adjusted")
    assert (BEIJING.budget_denominator, BEIJING.lower_missed) == ("full_year", "ratio")
    assert HAIDIAN_2016.budget_denominator == "initial" and FINANCE_SOFTWARE.lower_missed == "linear"


@pytest.mark.parametrize(
    "target, actual, reason",
    [
        ("1205名监督员、133名座席员", "监督员月均911人；座席员月均128人", "compound"),  # 000 line 88
        ("按月支付", "已完成", "qualitative"),  # 000 line 108
        ("受益群众满意度达到80%", "已完成", "qualitative"),  # 000 line 139
        ("正常运转", None, "actual missing"),  # 002 line 343
        (None, "90%", "target missing"),  # 003 line 894
        ("268件", "100%", "units not comparable"),  # 003 line 40
        ("优良中低差", "优", "rating"),  # 003 line 939
        ("≥15个", "≥15个", "actual repeats target"),  # 003 line 958
        ("≤153.48万元", "≤153.4", "actual is a bound"),  # 002 line 127
        ("≥400000", "40000", None),  # 002 line 82
        ("100%", "100%", None),  # 003: a value, verbatim
    ],
)
def test_unverifiable_reasons(target, actual, reason):
    out = assess(target, actual, "output", "quantity", 10, 10)
    assert out["unverifiable_reason"] == reason
    assert out["verifiable"] is (reason is None)
    if reason:  # not re-scored: the self-score is kept, met unknown
        assert out["rule_score"] == 10 and out["met"] is None and out["inflation"] == 0


def test_kept_self_score_is_capped_at_the_weight():
    out = assess("按月支付", "已完成", "output", "timeliness", 10, 12)
    assert (out["verifiable"], out["rule_score"], out["inflation"]) == (False, 10, 2)


# --- seed forms ---------------------------------------------------------------------------


def test_every_form_and_indicator_is_rescored(seed_tables):
    projects, ind = seed_tables["projects"], seed_tables["indicators"]
    assert len(projects) == 70
    for column in (
        "computed_execution_rate",
        "rule_budget_score",
        "self_total",
        "rule_total",
        "verifiable_weight_share",
        "inflation",
        "self_grade",
        "rule_grade",
    ):
        assert projects[column].notna().all(), column
    assert ind["target_kind"].notna().all() and ind["actual_kind"].notna().all()
    assert ind["rule_score"].notna().all()
    assert (ind["verifiable"] == ind["met"].notna()).all()
    assert (ind["verifiable"] == ind["unverifiable_reason"].isna()).all()
    assert (ind["rule_score"] <= ind["weight"] + 1e-9).all()
    # unverifiable rows keep their self-score
    unverifiable = ind[~ind["verifiable"]]
    assert (unverifiable["rule_score"] == unverifiable["score"]).all()
    # the form total is the rule budget score plus the indicators' rule scores
    sums = ind.groupby("form_id")["rule_score"].sum()
    expected = (projects.set_index("form_id")["rule_budget_score"] + sums).round(2)
    assert (projects.set_index("form_id")["rule_total"] - expected).abs().max() < 1e-9
    assert set(schema.columns("indicators")) >= {
        "target_comparator",
        "target_number",
        "target_unit",
        "target_kind",
        "actual_comparator",
        "actual_number",
        "actual_unit",
        "actual_kind",
        "direction",
        "met",
        "attainment_ratio",
        "verifiable",
        "unverifiable_reason",
        "rule_score",
    }


def test_002_line_82_missed_target_rescored(seed_tables):
    """002 line 82 (接诉即办运维, 数据维护数量): ≥400000 vs 40000, weight 6, scored 6.
    Rule: 6 x 40000/400000 = 0.6; inflation 5.4."""
    r = row(seed_tables, f"{F002}#003", 82)
    assert (r.target_comparator, r.target_number, r.target_kind) == (">=", 400000, "quantitative")
    assert is_null(r.actual_comparator) and r.actual_number == 40000
    assert (r.direction, r.met, r.verifiable) == ("higher", False, True)
    assert r.attainment_ratio == approx(0.1)
    assert (r.rule_score, r.score, r.inflation) == (0.6, 6, 5.4)
    p = project(seed_tables, f"{F002}#003")
    # 002 lines 72 and 102: budget 45 / 40.68 -> 90.40%, 9.04 printed and by the rule; total 99.04
    assert (p.rule_budget_score, p.self_total) == (9.04, 99.04)
    assert p.rule_total == approx(99.04 - 5.4) and p.inflation == approx(5.4)


def test_002_form_008_partial_score_on_a_missed_target(seed_tables):
    """002 line 254 (法律顾问经费, 法律培训): target 3, actual 1, weight 10, scored 4.
    Rule: 10 x 1/3 = 3.33; the unit gave itself 0.67 more. Total 93 printed (line 264)."""
    r = row(seed_tables, f"{F002}#008", 254)
    assert (r.target_number, r.actual_number, r.weight, r.score) == (3, 1, 10, 4)
    assert (r.direction, r.met, r.rule_score, r.inflation) == ("higher", False, 3.33, 0.67)
    assert r.score_band == "not_achieved"  # 4 of 10 is below 60% of the weight
    p = project(seed_tables, f"{F002}#008")
    # line 245: 5 / 5 / 5, 100%, 10; every other indicator is met or kept as self-scored
    assert (p.computed_execution_rate, p.rule_budget_score, p.self_total) == (1.0, 10, 93)
    assert p.rule_total == approx(92.33) and p.inflation == approx(0.67)
    # 审核合同数量 50 vs 60 (line 252): met, ratio 1.2; 及时反馈法律意见 3工作日 vs 100% (line 257)
    assert row(seed_tables, f"{F002}#008", 252).attainment_ratio == approx(1.2)
    assert row(seed_tables, f"{F002}#008", 257).unverifiable_reason == "units not comparable"


def test_002_form_002_rate_is_executed_over_full_year_budget(seed_tables):
    """002 line 48: 年初 191.2947, 全年 89.2947, 执行 67.7492, printed 75.87% and 7.59.
    67.7492 / 89.2947 = 0.758715 (matches); / 191.2947 = 0.354162 (does not)."""
    p = project(seed_tables, f"{F002}#002")
    assert p.computed_execution_rate == approx(67.7492 / 89.2947)
    assert p.execution_rate_basis == "full_year"
    assert p.rule_budget_score == 7.59 == p.budget_score
    # the Haidian 2016 variant divides by the initial budget: 10 x 0.354162 = 3.54
    assert scoring.execution_rate(67.7492, 89.2947, 191.2947, HAIDIAN_2016) == approx(0.354162, abs=1e-6)
    assert budget_rule_score(scoring.execution_rate(67.7492, 89.2947, 191.2947, HAIDIAN_2016), 10) == 3.54
    # every indicator of this form is met (≤2% vs 2%, ≥100% vs 100%, ...): rule total = printed 97.59
    assert (p.rule_total, p.inflation, p.verifiable_weight_share) == (97.59, 0, 1.0)


def test_002_form_005_budget_score_not_printed(seed_tables):
    """002 lines 131-170 (智能民情图): 66.82 / 51.62, printed 77.25%, 得分 column blank,
    total 97.72. Rule budget: 10 x 0.772523 = 7.73; line 148 ≥500000条 vs 6 scored 6 of 6
    -> rule 0; inflation 97.72 - (7.73 + 90 - 6) = 5.99."""
    p = project(seed_tables, f"{F002}#005")
    assert is_null(p.budget_score) and p.self_total == 97.72
    assert p.rule_budget_score == 7.73 and p.rule_total == approx(91.73) and p.inflation == approx(5.99)
    assert row(seed_tables, f"{F002}#005", 148).rule_score == 0


def test_003_line_638_cost_floor_scored_as_a_ceiling(seed_tables):
    """003 line 638 (高原街环境改造, 成本指标 建设工程预算): ≥250万元 vs 143.669312 (no unit: 万元
    from the target), weight 10, scored 10, note: the project amount was cut by review
    (审减). A cost is lower-is-better: 143.67 <= 250 is met, rule 10, no inflation. The
    literal reading (≥ higher is better: 10 x 143.669312/250 = 5.75) is kept in the row."""
    r = row(seed_tables, f"{F003}#028", 638)
    assert (r.target_comparator, r.target_number, r.target_unit) == (">=", 250, "万元")
    assert (r.actual_number, r.compared_actual) == (143.669312, 143.669312)
    assert (r.direction, r.met, r.rule_score, r.inflation) == ("lower", True, 10, 0)
    assert (r.literal_direction, r.literal_met, r.literal_rule_score) == ("higher", False, 5.75)
    assert r.evidence == "measured"
    assert project(seed_tables, f"{F003}#028").inflation == 0


def test_003_line_800_cost_floor_overspent(seed_tables):
    """003 line 800 (社工培训, 成本指标 总体培训成本): ≥58800元 vs 63420元, weight 10, scored 10.
    As a ceiling it is overspent: 10 x 58800/63420 = 9.2715 -> 9.27, inflation 0.73; read
    literally (≥) it was met with full marks. The budget line (line 790) 6.342 / 6.342 万元
    (100%, 10 printed); the other indicators are met or not re-scored (line 797 ≥130人 vs
    ≥130人): rule total 100 - 0.73 = 99.27."""
    r = row(seed_tables, f"{F003}#035", 800)
    assert (r.target_comparator, r.target_number, r.target_unit, r.actual_number) == (">=", 58800, "元", 63420)
    assert (r.direction, r.met, r.rule_score, r.inflation) == ("lower", False, 9.27, 0.73)
    assert (r.literal_direction, r.literal_met, r.literal_rule_score) == ("higher", True, 10)
    p = project(seed_tables, f"{F003}#035")
    assert (p.self_total, p.rule_total, p.inflation) == (100, 99.27, approx(0.73))


def test_cost_indicators_without_comparator_are_lower_is_better(seed_tables):
    """000 line 607: 成本指标 50万 vs 49.75万 -> lower, met; 003 line 157: 100000元 vs 27222元."""
    r = row(seed_tables, f"{F000}#004", 607)
    assert (r.level2, r.direction, r.met, r.rule_score) == ("cost", "lower", True, 20)
    assert r.attainment_ratio == approx(0.995)
    r = row(seed_tables, f"{F003}#007", 157)
    assert (r.direction, r.met, r.attainment_ratio) == ("lower", True, approx(0.27222))


def test_units_are_converted_and_exact_targets(seed_tables):
    """002 line 92: ≤20分钟 vs 20分 (minutes in context); 002 line 187: =2 vs 2条."""
    r = row(seed_tables, f"{F002}#003", 92)
    assert (r.target_unit, r.actual_unit, r.compared_actual, r.met) == ("分钟", "分", 20, True)
    r = row(seed_tables, f"{F002}#006", 187)
    assert (r.target_comparator, r.direction, r.met, r.rule_score) == ("=", "exact", True, 9)


def test_000_form_001_budget_and_verifiable_share(seed_tables):
    """000 lines 30-36 (公共事务协管经费): 8216.7841 / 9234.4314 = 88.98%, printed 88.97% and 9;
    rule 8.90. Only the budget line is verifiable: the six indicators are compound or
    qualitative (weight 90), so 10 of 100 points can be checked."""
    p = project(seed_tables, f"{F000}#001")
    assert p.rule_budget_score == 8.9 and p.budget_score == 9
    assert p.verifiable_weight_share == approx(0.1)
    assert (p.self_total, p.rule_total, p.inflation) == (99, 98.9, approx(0.1))
    assert (p.self_grade, p.rule_grade) == ("excellent", "excellent")


def test_finance_software_variant_changes_only_lower_is_better_misses(seed_tables):
    """The seed forms miss a lower-is-better target twice, both cost floors read as ceilings:
    003 line 66 (≥30万元 vs 31.98万元, weight 20): ratio 20 x 30/31.98 = 18.76, linear
    20 x (1 - 1.98/30) = 18.68; 003 line 800 (≥58800元 vs 63420元, weight 10): ratio 9.27,
    linear 10 x (1 - 4620/58800) = 9.21. Every other rule score is the same."""
    ind = seed_tables["indicators"]
    lower_missed = ind[(ind.direction == "lower") & (ind.met == False)]  # noqa: E712
    assert sorted(lower_missed.line) == [66, 800]
    rescored = scoring.score_indicators(ind.drop(columns=["rule_score"]), FINANCE_SOFTWARE)
    changed = rescored[rescored["rule_score"].astype(float).values != ind["rule_score"].astype(float).values]
    assert sorted(zip(changed.line, changed.rule_score)) == [(66, 18.68), (800, 9.21)]
    assert sorted(lower_missed.rule_score) == [9.27, 18.76]
