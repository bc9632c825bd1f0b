"""Unit tests of the parser's steps on small hand-made inputs: reading (extract.read), each text
layout (extract.layouts), the layout test (extract.cells) and the form parser (parse.form).
The end-to-end tests on the seed files are in test_etl.py."""

from __future__ import annotations

from selfeval.extract import cells
from selfeval.extract.layouts import cell_per_line, tab_rows
from selfeval.extract.read import decode, is_title, split_forms
from selfeval.extract.row import Row
from selfeval.parse.form import parse_form

T = "\t"
# A small form in the tab-rows layout of file 003 (PDF export), shortened to two indicators.
TAB_FORM = "\n".join(
    [
        "朝阳区项目支出绩效自评表",
        "(2022年度)",
        "",
        T.join(["项目名称", "软件运维服务经费", "", "", "", "", "", "", ""]),
        T.join(["主管部门", "某街道办事处", "", "", "实施单位", "某街道办事处", "", "", ""]),
        T.join(["项目资金 (万元)", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分", ""]),
        T.join(["", "年度资金总额", "0.69", "0.69", "0.6", "10", "86.96%", "8.7", ""]),
        T.join(["", "其中：当年财政拨款", "0.69", "0.69", "0.6", "—", "", "—", ""]),
        T.join(["年度 总体 目标", "预期目标", "", "", "实际完成情况", "", "", "", ""]),
        T.join(["", "保障软件正常使用。", "", "", "已完成", "", "", "", ""]),
        T.join(
            ["绩效 指标", "一级指标", "二级指标", "三级指标", "年度 指标值", "实际 完成值", "分值", "得分", "偏差原因"]
        ),
        T.join(["", "产出指标", "数量指标", "指标1：软件运维", "1套", "1套", "40", "40", "无"]),
        T.join(["", "满意度指标", "服务对象满意度指标", "指标1：使用人满意度", "≥90%", "85%", "50", "50", ""]),
        T.join(["总分", "", "", "", "", "", "100", "98.7", ""]),
        "",
    ]
)


def _only_form(text: str):
    chunks, issues = split_forms(text, "hand.txt")
    assert len(chunks) == 1 and not [i for i in issues if i.severity == "error"]
    layout, rows = cells.to_rows(chunks[0].lines)
    return chunks[0], layout, rows


# --- reading --------------------------------------------------------------------------------


def test_decode_reads_a_bom_and_gb18030_alike():
    for data in (TAB_FORM.encode("utf-8-sig"), TAB_FORM.encode("gb18030"), TAB_FORM.replace("\n", "\r\n").encode()):
        text, _, issues = decode(data, "x.txt")
        assert text == TAB_FORM and not issues


def test_decode_refuses_an_empty_file_with_one_error():
    text, encoding, issues = decode(b"  \n", "empty.txt")
    assert text is None and encoding is None
    assert [(i.severity, i.message) for i in issues] == [
        ("error", "empty.txt: empty file, no self-evaluation form found")
    ]


def test_title_lines_with_the_district_and_the_year_on_one_line():
    assert is_title("朝阳区项目支出绩效自评表")
    assert is_title("项目支出绩效自评表 (2022年度)")
    assert not is_title("关于项目支出绩效自评表的说明如下所述")  # a sentence that mentions the form


def test_split_forms_cuts_at_titles_and_reports_text_before_the_first():
    text = "附件1\n" + TAB_FORM + TAB_FORM
    chunks, issues = split_forms(text, "two.txt")
    assert [(c.ordinal, c.first_line, c.form_id) for c in chunks] == [(1, 2, "two#001"), (2, 16, "two#002")]
    assert chunks[0].lines[0] == (3, "(2022年度)")
    assert [(i.severity, i.line) for i in issues] == [("warning", 1)]
    none, issues = split_forms("no form here\n", "note.txt")
    assert none == [] and issues[0].severity == "error" and "no self-evaluation form found" in issues[0].message


# --- layouts --------------------------------------------------------------------------------


def test_tab_rows_one_row_per_line_cells_stripped_blank_lines_skipped():
    lines = [(10, " a \tb\t\t"), (11, ""), (12, "c\t d")]
    assert tab_rows.to_rows(lines, [text.strip() for _, text in lines]) == [
        Row(10, ["a", "b", "", ""]),
        Row(12, ["c", "d"]),
    ]


def test_cell_per_line_joins_wrapped_text_and_a_blank_line_ends_the_row():
    # Word export: each cell a line starting with a tab; "绩\n效" wraps; ASCII words join with a space
    lines = [(1, "\t绩"), (2, "效"), (3, "\tproject"), (4, "name"), (5, ""), (6, "\t总分"), (7, "\t100")]
    assert cell_per_line.to_rows(lines, [text.strip() for _, text in lines]) == [
        Row(1, ["绩效", "project name"]),
        Row(6, ["总分", "100"]),
    ]


def test_layout_is_detected_per_form_from_the_lines():
    tabbed = [(1, "项目名称\t经费"), (2, "主管部门\t某单位")]
    one_cell = [(1, "\t项目名称"), (2, "\t经费"), (3, ""), (4, "\t主管部门")]
    assert cells.detect_layout(tabbed) == cells.TAB_ROWS
    assert cells.detect_layout(one_cell) == cells.CELL_PER_LINE
    assert cells.to_rows(one_cell)[1] == [Row(1, ["项目名称", "经费"]), Row(4, ["主管部门"])]


# --- the form parser ------------------------------------------------------------------------


def test_a_small_form_parses_field_by_label():
    chunk, layout, rows = _only_form(TAB_FORM)
    form = parse_form(chunk, layout, rows)
    assert layout == "tab_rows" and not [i for i in form.issues if i.severity == "error"]
    assert form.project["year"] == 2022
    assert form.project["project_name"] == "软件运维服务经费"
    assert (form.project["department"], form.project["implementing_unit"]) == ("某街道办事处", "某街道办事处")
    assert (form.project["goal_text"], form.project["achievement_text"]) == ("保障软件正常使用。", "已完成")
    total = next(f for f in form.funds if f["fund_line"] == "total")
    assert (total["initial_budget"], total["full_year_budget"], total["executed"]) == (0.69, 0.69, 0.6)
    assert (total["weight"], total["execution_rate"], total["execution_rate_raw"], total["score"]) == (
        10,
        86.96,
        "86.96%",
        8.7,
    )
    appropriation = next(f for f in form.funds if f["fund_line"] == "current_appropriation")
    assert appropriation["weight"] is None and appropriation["weight_raw"] == "—"  # blank stays null, never 0
    first, second = form.indicators
    assert (first["level1_raw"], first["level1"], first["level2_raw"], first["level2"]) == (
        "产出指标",
        "output",
        "数量指标",
        "quantity",
    )
    assert (first["indicator_prefix"], first["indicator_name"], first["indicator_order"]) == ("指标1", "软件运维", 1)
    assert (second["target_raw"], second["actual_raw"], second["weight"], second["score"]) == ("≥90%", "85%", 50, 50)
    assert second["deviation_note"] is None and second["line"] == 13  # the row's line in the file
    assert (form.project["total_weight"], form.project["total_score"]) == (100, 98.7)


def test_a_form_without_a_project_name_is_loaded_as_partial_with_a_warning_naming_its_line():
    """Issue 14 part 4: a form with a fund line but no 项目名称 is loaded, marked partial."""
    text = TAB_FORM.replace("项目名称\t软件运维服务经费", "说明\t软件运维服务经费")
    chunk, layout, rows = _only_form(text)
    form = parse_form(chunk, layout, rows)
    assert not [i for i in form.issues if i.severity == "error"]
    assert [(i.field, i.line, i.message) for i in form.issues if i.field == "project_name"] == [
        ("project_name", 1, "no 项目名称 found")
    ]
    assert (form.project["completeness"], form.project["missing_parts"]) == ("partial", "project_name")


def test_a_form_with_neither_name_nor_fund_line_is_an_error_naming_its_line():
    text = TAB_FORM.replace("项目名称\t软件运维服务经费", "说明\t软件运维服务经费")
    text = "\n".join(line for line in text.split("\n") if "资金" not in line and "拨款" not in line)
    chunk, layout, rows = _only_form(text)
    errors = [i for i in parse_form(chunk, layout, rows).issues if i.severity == "error"]
    assert [(e.field, e.line) for e in errors] == [("form", 1)]
    assert "no 项目名称 found and no fund line" in errors[0].message
