"""The checks table (selfeval/score/checks.py): each check fires on one seed form and not on another.

Every expected and printed value below was read in data/raw/ (the file, form and line are
named). Three checks fire on no seed form as printed (weights add up, no score is above
its weight, no met target is marked down): they are shown firing on a seed form with one
printed cell changed, read through the whole pipeline.
"""

from __future__ import annotations

import pandas as pd
import pytest

import etl
from selfeval.run import pipeline
from selfeval.schema import fields as schema
from selfeval.score import checks as checks_module
from selfeval.score.checks import CHECKS

F000, F002, F003 = "000_cbaa33e73a3cfdfd", "002_fd002be877c499a2", "003_d45a1a0ca283005b"
approx = pytest.approx


def fired(tables, check, form_id, indicator_order=None):
    c = tables["checks"]
    hit = c[(c.check == check) & (c.form_id == form_id)]
    if indicator_order is not None:
        hit = hit[hit.indicator_order == indicator_order]
    return hit


def order_at(tables, form_id, line):
    ind = tables["indicators"]
    return int(ind[(ind.form_id == form_id) & (ind.line == line)].indicator_order.iloc[0])


def one(tables, check, form_id, line=None):
    order = order_at(tables, form_id, line) if line is not None else None
    hit = fired(tables, check, form_id, order)
    assert len(hit) == 1, (check, form_id, line, hit)
    row = hit.iloc[0]
    assert row.severity == CHECKS[check].severity
    if line is not None:
        assert row.line == line
    else:
        assert pd.isna(row.indicator_order)
    return row


def none(tables, check, form_id, line=None):
    order = order_at(tables, form_id, line) if line is not None else None
    assert fired(tables, check, form_id, order).empty, (check, form_id, line)


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """002 with three printed cells changed, read by the pipeline:
    line 252 (法律顾问经费, 审核合同数量 50 vs 60, 分值 10): 得分 10 -> 8 (met, marked down);
    line 254 (法律培训 3 vs 1): 分值 10 -> 12 (weights no longer add up to 100) and
    得分 4 -> 13 (above its weight of 12); line 246 (当年财政拨款): 全年执行数 5 -> 4.5."""
    raw = tmp_path_factory.mktemp("raw")
    lines = (etl.RAW_DIR / f"{F002}.txt").read_text(encoding="utf-8").split("\n")
    assert lines[251].endswith("\t50\t60\t10\t10\t")
    assert lines[253].endswith("法律培训\t3\t1\t10\t4\t增加法律培训")
    lines[251] = lines[251].replace("\t50\t60\t10\t10\t", "\t50\t60\t10\t8\t")
    lines[253] = lines[253].replace("\t3\t1\t10\t4\t", "\t3\t1\t12\t13\t")
    assert lines[245].endswith("\t\t5\t5\t5\t—\t—\t—")
    lines[245] = lines[245].replace("\t\t5\t5\t5\t", "\t\t5\t5\t4.5\t")
    (raw / f"{F002}.txt").write_text("\n".join(lines), encoding="utf-8")
    return pipeline.collect(raw)


def test_checks_table_is_declared_and_complete(seed_tables):
    c = seed_tables["checks"]
    assert list(c.columns) == schema.columns("checks")
    assert set(c.check) <= set(CHECKS) and set(c.severity) <= {"error", "warning", "note"}
    assert set(c.form_id) <= set(seed_tables["projects"].form_id)
    # form-level checks have no indicator, indicator-level checks always do
    level = c.check.map(lambda name: CHECKS[name].level)
    assert c[level == "form"].indicator_order.isna().all() and c[level == "indicator"].indicator_order.notna().all()


def test_tolerances_are_stated():
    assert checks_module.TOLERANCE_POINTS == 0.01 and checks_module.TOLERANCE_RATE == 0.0001


# --- form-level ----------------------------------------------------------------------------


def test_execution_rate_mismatch(seed_tables):
    # 000 (服务器购置) lines 519-525: 全年 50, 执行 49.75, printed 执行率 100% -> 99.50% computed
    row = one(seed_tables, "execution_rate_mismatch", f"{F000}#004")
    assert (row.expected, row.printed) == (approx(0.995), 1.0)
    # 002 line 48: 67.7492 / 89.2947 = 75.87% as printed (the full-year budget, not 191.2947)
    none(seed_tables, "execution_rate_mismatch", f"{F002}#002")


def test_budget_score_mismatch(seed_tables):
    # 000 form 1 (lines 30-36): 8216.7841 / 9234.4314 = 88.98% -> 8.90, printed 88.97% and 9
    row = one(seed_tables, "budget_score_mismatch", f"{F000}#001")
    assert (row.expected, row.printed) == (8.9, 9)
    # 002 line 138 (智能民情图): the 得分 column is blank; the rule gives 10 x 51.62/66.82 = 7.73
    row = one(seed_tables, "budget_score_mismatch", f"{F002}#005")
    assert row.expected == 7.73 and pd.isna(row.printed)
    # 002 line 10: 127.85 / 128.18 = 99.74% -> 9.97, printed 9.97
    none(seed_tables, "budget_score_mismatch", f"{F002}#001")


def test_weights_total_mismatch(seed_tables, edited):
    # 002 form 1: budget 10 + indicators 90 = printed 100 (line 39)
    none(seed_tables, "weights_total_mismatch", f"{F002}#001")
    none(seed_tables, "weights_total_mismatch", f"{F002}#008")
    # edited 002 form 8: 10 + 92 = 102 against the printed 100
    row = one(edited, "weights_total_mismatch", f"{F002}#008")
    assert (row.expected, row.printed) == (102, 100)


def test_score_total_mismatch(seed_tables):
    # 002 lines 299 and 320 (数智化接诉即办平台): budget 9.83 + indicators 90 = 99.83, printed 99.8
    row = one(seed_tables, "score_total_mismatch", f"{F002}#010")
    assert (row.expected, row.printed) == (99.83, 99.8)
    # 002 form 8 (法律顾问经费): 10 + 83 = 93, printed 93 (line 264)
    none(seed_tables, "score_total_mismatch", f"{F002}#008")


# --- indicator-level ------------------------------------------------------------------------


def test_fund_lines_total_mismatch(seed_tables, edited):
    # no seed form fires: e.g. 000 line 33/43 prints 9234.4314 in 年度资金总额 and in 当年财政拨款
    assert seed_tables["checks"].query("check == 'fund_lines_total_mismatch'").empty
    # edited 002 line 246: 当年财政拨款 executed 4.5 against 年度资金总额 5 (line 245)
    row = one(edited, "fund_lines_total_mismatch", f"{F002}#008")
    assert (row.expected, row.printed, row.line) == (4.5, 5, 245)
    assert "executed" in row.message


def test_score_above_weight(seed_tables, edited):
    none(seed_tables, "score_above_weight", f"{F002}#008", 254)  # 4 of 10 as printed
    row = one(edited, "score_above_weight", f"{F002}#008", 254)  # edited: 13 of 12
    assert (row.expected, row.printed) == (12, 13)


def test_full_score_missed_target(seed_tables):
    # 002 line 82: ≥400000 vs 40000 scored 6 of 6; the rule gives 6 x 0.1 = 0.6
    row = one(seed_tables, "full_score_missed_target", f"{F002}#003", 82)
    assert (row.expected, row.printed) == (0.6, 6)
    # 003 line 800: cost ≥58800元 vs 63420元 scored 10 of 10: a cost is a ceiling (issue 12), so
    # overspent; rule 10 x 58800/63420 = 9.27
    row = one(seed_tables, "full_score_missed_target", f"{F003}#035", 800)
    assert (row.expected, row.printed) == (9.27, 10)
    # 003 line 66: cost ≥30万元 vs 31.98万元 scored 20 of 20; rule 20 x 30/31.98 = 18.76
    row = one(seed_tables, "full_score_missed_target", f"{F003}#003", 66)
    assert (row.expected, row.printed) == (18.76, 20)
    # 003 line 638: cost ≥250万元 vs 143.669312 (cut by review): within the ceiling, not a miss
    none(seed_tables, "full_score_missed_target", f"{F003}#028", 638)
    # 002 line 254: 法律培训 3 vs 1 missed but scored 4 of 10, not full marks
    none(seed_tables, "full_score_missed_target", f"{F002}#008", 254)


def test_below_weight_met_target(seed_tables, edited):
    none(seed_tables, "below_weight_met_target", f"{F002}#008", 252)  # 50 vs 60 scored 10 of 10
    row = one(edited, "below_weight_met_target", f"{F002}#008", 252)  # edited: 8 of 10
    assert (row.expected, row.printed) == (10, 8)


def test_actual_at_threshold(seed_tables):
    # 002 line 20: 数据维护数量 ≥1500000 vs 1500000
    row = one(seed_tables, "actual_at_threshold", f"{F002}#001", 20)
    assert (row.expected, row.printed) == (1500000, 1500000)
    # 002 line 288: 硬件采购成本 ≤51万元 vs 49.8万元, inside the bound
    none(seed_tables, "actual_at_threshold", f"{F002}#009", 288)
    # 003 line 958: ≥15个 vs ≥15个 is a repeated bound, not a value at the threshold
    none(seed_tables, "actual_at_threshold", f"{F003}#042", 958)


def test_target_far_exceeded(seed_tables):
    # 003 line 43: 设备采购成本 ≤608540元 vs 81497元: 608540 / 81497 = 7.47 (ceiling set high)
    row = one(seed_tables, "target_far_exceeded", f"{F003}#002", 43)
    assert (row.expected, row.printed) == (1.3, approx(608540 / 81497))
    # 002 line 119: 软件采购数量 ≥0个 vs 1个: a target of 0 (no ratio)
    row = one(seed_tables, "target_far_exceeded", f"{F002}#004", 119)
    assert pd.isna(row.printed) and "target of 0" in row.message
    # 002 line 252: 审核合同数量 50 vs 60 = 1.2, under 1.3
    none(seed_tables, "target_far_exceeded", f"{F002}#008", 252)
    # 003 line 638: cost ≥250万元 read as a ceiling, spent 143.669312 (cut by review): 250 / 143.669312 = 1.74
    row = one(seed_tables, "target_far_exceeded", f"{F003}#028", 638)
    assert row.printed == pytest.approx(250 / 143.669312)


def test_percent_target_above_100(seed_tables):
    # 002 line 282: 系统集成完成率 ≥400% vs 400%
    row = one(seed_tables, "percent_target_above_100", f"{F002}#009", 282)
    assert (row.expected, row.printed) == (100, 400)
    # 002 line 21: 系统故障修复率 ≥100%, not above 100%
    none(seed_tables, "percent_target_above_100", f"{F002}#001", 21)


def test_actual_repeats_target(seed_tables):
    # 003 line 958: ≥15个 vs ≥15个
    row = one(seed_tables, "actual_repeats_target", f"{F003}#042", 958)
    assert (row.expected, row.printed) == (15, 15)
    # 002 line 20: ≥1500000 vs 1500000 (the comparator is gone: not the same text)
    none(seed_tables, "actual_repeats_target", f"{F002}#001", 20)


def test_cost_target_floor(seed_tables):
    # 003 line 638: 建设工程预算 ≥250万元 (a cost written as a floor), actual 143.669312
    row = one(seed_tables, "cost_target_floor", f"{F003}#028", 638)
    assert (row.expected, row.printed) == (250, 143.669312)
    assert "scored as a ceiling: met, rule 10; as printed: missed, rule 5.75" in row.message
    # 003 line 800: 总体培训成本 ≥58800元 vs 63420元: overspent as a ceiling, met as printed
    row = one(seed_tables, "cost_target_floor", f"{F003}#035", 800)
    assert (row.expected, row.printed) == (58800, 63420)
    assert "scored as a ceiling: missed, rule 9.27; as printed: met, rule 10" in row.message
    # 002 line 288: 硬件采购成本 ≤51万元, a ceiling
    none(seed_tables, "cost_target_floor", f"{F002}#009", 288)


def test_counts_on_the_seed_forms(seed_tables):
    """How often each check fires on the 70 seed forms (see the report in findings)."""
    counts = seed_tables["checks"].check.value_counts().to_dict()
    assert {name: counts.get(name, 0) for name in CHECKS} == {
        "execution_rate_mismatch": 1,
        "budget_score_mismatch": 8,
        "weights_total_mismatch": 0,
        "score_total_mismatch": 1,
        "score_above_weight": 0,
        "full_score_missed_target": 4,
        "below_weight_met_target": 0,
        "actual_at_threshold": 124,
        "target_far_exceeded": 8,
        "percent_target_above_100": 1,
        "actual_repeats_target": 310,
        "cost_target_floor": 4,
        "fund_lines_total_mismatch": 0,
    }
