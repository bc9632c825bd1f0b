"""Level labels repaired across twin forms (selfeval/twins.py), on the cases of issue 12 read by
hand from data/raw/002_fd002be877c499a2.txt (PDF export: merged level cells printed off their row)."""

from __future__ import annotations

import pytest

from selfeval.parse import twins

F002 = "002_fd002be877c499a2"


def row(tables, form, line):
    ind = tables["indicators"]
    found = ind[(ind.form_id == f"{F002}#{form:03d}") & (ind.line == line)]
    assert len(found) == 1
    return found.iloc[0]


def issue(tables, form, line):
    issues = tables["parse_issues"]
    found = issues[(issues.form_id == f"{F002}#{form:03d}") & (issues.line == line) & (issues.field == "level")]
    assert len(found) == 1, (form, line)
    return found.iloc[0]


@pytest.mark.parametrize(
    "form, line, name, level1, level2",
    [
        # lines 164-169: 可持续影响指标 printed on line 164 only; 软件维护成本 ... 应用系统维护成本 are the
        # 经济成本指标 block of twin form 3 (lines 97-100), between 可持续影响 and 满意度
        (5, 165, "软件维护成本", "cost", "economic_cost"),
        (5, 166, "数据维护成本", "cost", "economic_cost"),
        (5, 167, "年度维护成本变化率", "cost", "economic_cost"),
        (5, 168, "应用系统维护成本", "cost", "economic_cost"),
        # line 201: 租用专线成本 printed with 满意度指标 (the label of line 202); 经济成本指标 on line 200,
        # and in twin form 7 (line 234) it is an economic cost
        (6, 201, "租用专线成本", "cost", "economic_cost"),
        # lines 341 / 417: 单位人员成本 just above the row that prints 成本指标 (342 / 418)
        (11, 341, "单位人员成本", "output", "cost"),
        (14, 417, "单位人员成本", "output", "cost"),
        # line 419: 保障城市运行指挥中心系统的正常运转 carried as cost from 418; social benefit in the
        # twins (form 11 line 343, 13 line 393, 15 line 444), and 社会效益指标 starts on line 420
        (14, 419, "保障城市运行指挥中心系统的正常运转", "effect", "social_benefit"),
    ],
)
def test_issue_cases_repaired(seed_tables, form, line, name, level1, level2):
    r = row(seed_tables, form, line)
    assert r.indicator_name == name
    assert (r.level1, r.level2) == (level1, level2)
    found = issue(seed_tables, form, line)
    assert found.severity == "repaired" and f"-> {level1}/{level2}" in found.message


def test_printed_labels_are_kept(seed_tables):
    r = row(seed_tables, 6, 201)  # "满意度指标 |  | 租用专线成本 | ≤ 39.6 万元 ..."
    assert r.level1_raw == "满意度指标" and (r.level1, r.level2) == ("cost", "economic_cost")
    assert "one row off" in issue(seed_tables, 6, 201).message
    # line 202 (使用人员满意度) stays satisfaction
    assert (row(seed_tables, 6, 202).level1, row(seed_tables, 6, 202).level2) == ("satisfaction", "satisfaction")


def test_correct_labels_are_left_alone(seed_tables):
    # form 3 lines 97-100: 成本指标 | 经济成本指标 printed on line 97; form 5's carried labels do not outvote it
    for line in (97, 98, 99, 100):
        assert row(seed_tables, 3, line).level2 == "economic_cost"
    # form 7 lines 233-234 (成本指标 printed): unchanged, no issue
    assert row(seed_tables, 7, 234).level2 == "economic_cost"
    issues = seed_tables["parse_issues"]
    assert not ((issues.form_id == f"{F002}#007") & (issues.field == "level")).any()
    # only file 002 (the PDF export) has labels off their row
    level = issues[issues.field == "level"]
    assert set(level.source_file) == {f"{F002}.txt"}


def _rows(form, labels):
    return [
        {
            "form_id": form,
            "indicator_order": i + 1,
            "line": 10 * int(form[-1]) + i,
            "indicator_name": name,
            "level1": l1,
            "level2": l2,
            "level1_raw": None,
            "level2_raw": l2,
        }
        for i, (name, l1, l2) in enumerate(labels)
    ]


def test_unresolved_disagreement_names_both_forms():
    """Two forms of one unit list 甲 under different blocks, each label printed on its row,
    in an order the other's position cannot confirm: a warning naming both forms."""
    projects = [{"form_id": "x#001", "department": "某单位"}, {"form_id": "x#002", "department": "某单位"}]
    a = _rows("x#001", [("甲", "output", "quantity"), ("乙", "output", "quality")])
    b = _rows("x#002", [("乙", "output", "quality"), ("甲", "effect", "social_benefit")])
    issues = twins.repair("x.txt", projects, a + b)
    assert [(i.form_id, i.severity) for i in issues] == [("x#002", "warning")]
    assert "#001 line 10" in issues[0].message and "output/quantity" in issues[0].message
    assert (b[1]["level1"], b[1]["level2"]) == ("effect", "social_benefit")  # not changed


def test_forms_of_other_units_are_not_twins():
    projects = [{"form_id": "x#001", "department": "甲单位"}, {"form_id": "x#002", "department": "乙单位"}]
    a = _rows("x#001", [("丙", "output", "quantity")])
    b = _rows("x#002", [("丙", "effect", "social_benefit")])
    assert twins.repair("x.txt", projects, a + b) == []
