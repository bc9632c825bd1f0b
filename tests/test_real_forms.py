"""Real forms of other provinces found in stored public pages (tests/examples/real/, sources in SOURCES.md),
read through the whole run (pipeline.collect: parse, score, validate). Every expected value was read by hand
from the fixture's text, not from the parser's output:

- 01 Chizhou 委托业务项目 2022: a .docx flattened onto one line; 年度资金总额 printed `0 0 0 10 0 0` while
  `其中:本年财政拨款 90 89.974 89.974` holds the amounts; 9 indicators before the cut in the 满意度 block.
- 02 Daying 安可替代 2023: pipe rows; the tail of the previous form (合计, 评价结论...) before the title;
  `总额 | 0.00 | 3.36 | 3.36 | 100.00% | 10 | 10`; cut inside its first indicator row (`= | 100 |`).
- 03 Langfang 暖通改造 2019: one cell per paragraph; header cells wrapped over two paragraphs
  (年初/预算数, 年度/指标值, 经济效益/指标); `指标1工程完工率`; empty `指标2` template rows.
- 04-07: a headless fragment and three document-site texts whose cells run together: no form, one error each.
- 08: a 部门整体支出绩效自评表 (a department's form, not a project's): not loaded as a project.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from selfeval.paths import ROOT
from selfeval.run import pipeline

REAL = ROOT / "tests" / "examples" / "real"


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    for path in sorted(REAL.glob("*.txt")):
        shutil.copy(path, raw / path.name)
    return pipeline.collect(raw)


def _project(tables, stem: str) -> pd.Series:
    projects = tables["projects"]
    rows = projects[projects.source_file.str.startswith(stem)]
    assert len(rows) == 1
    return rows.iloc[0]


def _funds(tables, stem: str) -> dict[str, pd.Series]:
    funds = tables["funds"]
    return {row.fund_line: row for _, row in funds[funds.form_id.str.startswith(stem)].iterrows()}


def _indicators(tables, stem: str) -> pd.DataFrame:
    indicators = tables["indicators"]
    return indicators[indicators.form_id.str.startswith(stem)].sort_values("indicator_order").reset_index(drop=True)


def _row(indicators: pd.DataFrame, order: int) -> tuple:
    row = indicators.iloc[order - 1]
    cells = ("level1", "level2", "indicator_prefix", "indicator_name", "target_raw", "actual_raw", "weight_raw")
    return (*(None if pd.isna(row[c]) else row[c] for c in cells), None if pd.isna(row.score_raw) else row.score_raw)


def _file(tables, stem: str) -> pd.Series:
    files = tables["files"]
    rows = files[files.source_file.str.startswith(stem)]
    assert len(rows) == 1
    return rows.iloc[0]


def _issues(tables, stem: str) -> pd.DataFrame:
    issues = tables["parse_issues"]
    return issues[issues.source_file.str.startswith(stem)]


def test_01_chizhou_flattened_docx_amounts_from_the_sub_line(tables):
    project = _project(tables, "01_")
    assert (project.layout, project.year, project.project_name) == ("flattened", 2022, "委托业务项目")
    assert (project.department, project.implementing_unit) == (
        "219-池州市贵池区棠溪镇人民政府",
        "219001-池州市贵池区棠溪镇人民政府",
    )
    assert (project.initial_budget, project.full_year_budget, project.executed) == (90, 89.974, 89.974)
    assert (project.budget_weight, project.funds_unit_raw) == (10, "万元")
    assert project.goal_text.startswith("本项目共申请预算资金90万元。其中:30万元用于基建工程项目预算编制;")
    assert project.achievement_text.endswith("29.99万元用于基建工程项目设计、规划、测绘。")
    funds = _funds(tables, "01_")
    total = funds["total"]
    assert [total.initial_budget_raw, total.full_year_budget_raw, total.executed_raw, total.weight_raw] == [
        "0",
        "0",
        "0",
        "10",
    ]
    assert total.repaired_from == "current_appropriation"
    sub = funds["current_appropriation"]
    assert (sub.fund_label, sub.initial_budget, sub.full_year_budget, sub.executed) == (
        "其中:本年财政拨款",
        90,
        89.974,
        89.974,
    )
    # cut in the 满意度 block ("满意度指标 公众满"): 9 indicators, no total, loaded as partial
    assert (project.n_indicators, project.completeness, project.missing_parts) == (9, "partial", "total")
    assert pd.isna(project.total_score)
    indicators = _indicators(tables, "01_")
    assert len(indicators) == 9
    assert _row(indicators, 1) == ("output", "quantity", None, "基建工程委托业务项目数量", "≥50个", "50", "8", "8")
    assert _row(indicators, 5) == ("output", "cost", None, "项目总成本", "≤90万元", "90", "8", "8")
    assert _row(indicators, 9) == (
        "effect",
        "sustainability",
        None,
        "对推动基建项目“四项制度”健全和落实的持续性影响",
        "效果明显",
        "达成预期指标",
        "10",
        "10",
    )


def test_02_daying_pipe_rows_after_the_tail_of_another_form(tables):
    assert _file(tables, "02_").forms_loaded == 1  # the previous form's tail is not a form of its own
    project = _project(tables, "02_")
    assert (project.layout, project.year) == ("pipe_table", 2023)
    assert project.project_name == "51092324T000010263357-2023年全县安可替代补助资金项目"
    assert (project.department, project.implementing_unit) == ("大英县司法局部门", "大英县司法局")
    assert project.goal_text == "根据要求购买安可设备,并完成项目资金支付。"
    # 年度目标完成情况 "完成", then the answer to 2.项目实施内容及过程概述 joined to it (with a warning)
    assert project.achievement_text == "完成\n2023年购买13台安可电脑,并于12月前完成资金支付。"
    assert (project.initial_budget, project.full_year_budget, project.executed) == (0, 3.36, 3.36)
    assert (project.budget_weight, project.execution_rate_raw, project.budget_score) == (10, "100.00%", 10)
    total = _funds(tables, "02_")["total"]
    assert (total.fund_label, total.weight_raw, total.score_raw) == ("总额", "10", "10")
    # the only indicator row is cut after `= | 100 |`: 100 is the 指标值 after the comparator, not a weight,
    # so the row has no weight/score and is reported, not read
    assert len(_indicators(tables, "02_")) == 0
    assert (project.completeness, project.missing_parts) == ("partial", "indicators; total")
    assert pd.isna(project.total_score)
    not_read = _issues(tables, "02_")
    assert "完成安可产品购买并按要求支付资金 | = | 100" in set(not_read.raw_text)
    # 财政专户管理资金 and 单位资金 (lines 17-18): fund lines of Sichuan's template, read with their codes
    assert not_read[not_read.message.str.contains("without a known fund-line label")].empty
    funds = _funds(tables, "02_")
    for code, label in (("special_account", "财政专户管理资金"), ("unit_funds", "单位资金")):
        assert (funds[code].fund_label, funds[code].initial_budget, funds[code].executed) == (label, 0, 0)
    assert (funds["current_appropriation"].fund_label, funds["current_appropriation"].executed) == (
        "其中:财政资金",
        3.36,
    )


def test_03_langfang_paragraphs_with_wrapped_header_cells_and_template_rows(tables):
    project = _project(tables, "03_")
    assert (project.layout, project.year, project.project_name) == (
        "paragraphs",
        2019,
        "办公宿舍楼、食堂及餐厅暖通改造经费",
    )
    assert (project.department, project.implementing_unit) == ("廊坊市发改委", "廊坊市食品工程学校")
    # 年初/预算数, 全年/预算数, 全年/执行数 printed over two paragraphs each: still six columns
    assert (project.initial_budget, project.full_year_budget, project.executed) == (43.2, 43.2, 37.24)
    assert (project.budget_weight, project.execution_rate_raw, project.budget_score) == (10, "86%", 9)
    assert (project.goal_text, project.achievement_text) == ("43.2", "37.24")  # what the form prints there
    sub = _funds(tables, "03_")["current_appropriation"]
    assert (sub.initial_budget, sub.full_year_budget, sub.executed) == (43.2, 43.2, 37.24)
    indicators = _indicators(tables, "03_")
    assert len(indicators) == project.n_indicators == 9
    assert _row(indicators, 1) == ("output", "quantity", "指标1", "工程资金金额", "43.2", "37.24", "10", "9")
    assert indicators.deviation_note[0] == "已完工,剩余3%尾款未付,且最高限价低于预算金额。提高预算准确度。"
    assert _row(indicators, 3) == ("output", "quality", "指标2", "工程验收合格率", "100", "100", "10", "10")
    # 经济效益/指标 and 满意度/指标 wrapped: the level labels are read whole
    assert _row(indicators, 6) == ("effect", "economic_benefit", "指标1", "安全率", "100", "100", "10", "10")
    assert _row(indicators, 9) == ("satisfaction", "satisfaction", "指标1", "学生满意度", "100", "100", "10", "10")
    # the empty 指标2 rows of the template are reported, and never become another indicator's 偏差原因
    assert indicators.deviation_note.isin(["指标2"]).sum() == 0
    placeholders = _issues(tables, "03_").message.str.contains("placeholder row").sum()
    # counted in the text: 指标2 under 数量 时效 成本 经济效益 社会效益 可持续 满意度, 指标1 and 指标2 under 生态效益
    assert placeholders == 9
    assert (project.completeness, project.missing_parts) == ("partial", "total")


@pytest.mark.parametrize(
    "stem, title_inside",
    [("04_", None), ("05_", "项目支出绩效自评表"), ("06_", None), ("07_", "绩效目标自评表")],
)
def test_texts_with_no_form_give_one_error_each(tables, stem, title_inside):
    row = _file(tables, stem)
    assert (row.status, row.forms_loaded, row.forms_rejected) == ("failed", 0, 0)
    assert row.reason.startswith("no self-evaluation form found")
    issues = _issues(tables, stem)
    errors = issues[issues.severity == "error"]
    assert len(errors) == 1 and errors.message.iloc[0] == row.reason
    # a title word inside a line (05 line 1: "《银川市本级部门项目支出绩效自评表.docx》由会员分享...", the form
    # itself run together on line 2; 07 line 1: "1/1年学生资助项目绩效目标自评表填报日期...") is named, so the
    # analyst sees why nothing was read
    inside = issues[issues.message.str.contains("not as a title line")]
    if title_inside is None:
        assert inside.empty
    else:
        assert list(inside.message.str.split(" ").str[0]) == [title_inside] and list(inside.line) == [1]


def test_08_a_department_form_is_not_loaded_as_a_project(tables):
    row = _file(tables, "08_")
    assert (row.status, row.forms_loaded, row.forms_rejected) == ("failed", 0, 1)
    assert "no 项目名称 found and no fund line" in row.reason
    assert not tables["projects"].source_file.str.startswith("08_").any()


def test_every_fixture_has_its_source(tables):
    sources = (REAL / "SOURCES.md").read_text(encoding="utf-8")
    for path in REAL.glob("*.txt"):
        assert f"| {path.name} | http" in sources
    assert len(tables["files"]) == len(list(REAL.glob("*.txt"))) == 8


def test_inspect_does_not_list_prefixed_indicator_names_as_unknown_labels():
    """03 line 163: 指标1工程完工率 is read (prefix 指标1, name 工程完工率): not an unknown label."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    selfeval = Path(sys.executable).parent / "selfeval"
    path = REAL / "03_hebei_langfang_shipin_nuantong_2019.txt"
    done = subprocess.run([str(selfeval), "inspect", "--json", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    form = json.loads(done.stdout)["forms"][0]
    assert "指标1工程完工率" in path.read_text(encoding="utf-8")
    assert not [cell for cell in form["unknown_labels"] if cell.startswith("指标")]
