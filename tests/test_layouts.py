"""Each text layout of issue 14 part 2 on small hand-made forms: detected by scoring (not by file name),
cut into cells, and read by the label-driven parser to the same values as the tab-separated form.

The fixture is one form, written once as its table rows, and printed in each layout the way real
publications print it (see ../shared/examples/README.md): one cell per paragraph with blank lines
between and U+00A0 for an empty cell; `| a | b |` rows; one cell per line ending ` |`; the whole
form on one line; columns aligned with spaces as `pdftotext -layout` writes them."""

from __future__ import annotations

import pytest

from selfeval.extract import cells
from selfeval.extract.layouts import aligned, flattened, paragraphs, pipe_table
from selfeval.extract.row import Row
from selfeval.parse.form import parse_form
from selfeval.run.per_file import parse_file

TITLE = "某区项目支出绩效自评表 (2023年度)"
# The table of one form, row by row, as printed ("" an empty cell).
TABLE = [
    ["项目名称", "社区养老服务补贴", "", ""],
    ["主管部门", "某区民政局", "实施单位", "某街道办事处"],
    ["项目资金 (万元)", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["", "年度资金总额", "50", "48", "46.5", "10", "96.88%", "9.69"],
    ["", "其中:当年财政拨款", "50", "48", "46.5", "—", "", "—"],
    ["年度总体目标", "预期目标", "为辖区老人提供助餐服务。", "实际完成情况", "全年助餐三万人次。"],
    [
        "绩效指标",
        "一级指标",
        "二级指标",
        "三级指标",
        "年度指标值",
        "实际完成值",
        "分值",
        "得分",
        "偏差原因分析及改进措施",
    ],
    ["", "产出指标", "数量指标", "助餐服务人次", "≥30000人次", "31000人次", "30", "30", ""],
    ["", "", "时效指标", "补贴发放及时率", "100%", "95%", "20", "18", "个别月份延迟"],
    ["", "效益指标", "社会效益指标", "老人生活质量", "明显提高", "明显提高", "20", "20", ""],
    ["", "满意度指标", "服务对象满意度指标", "老人满意度", "≥90%", "93%", "20", "20", ""],
    ["总分", "", "", "", "", "", "100", "97.69", ""],
]


def _tab(table):
    return "\n".join([TITLE, *("\t".join(row) for row in table)]) + "\n"


def _paragraphs(table):
    """Word saved as text: a paragraph per cell, a blank line after each, U+00A0 for an empty cell."""
    out = [TITLE, ""]
    for row in table:
        for cell in row:
            out += [cell or "\u00a0", ""]
    return "\n".join(out)


def _pipe_rows(table, drop_empty=False):
    """An HTML table flattened to `| a | b |` lines; drop_empty: the export dropped empty cells."""
    lines = [TITLE]
    for row in table:
        row = [c for c in row if c] if drop_empty else row
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _markdown(table):
    """A Markdown table: `| a | b |` rows under a `|---|---|` line."""
    lines = _pipe_rows(table).rstrip("\n").split("\n")
    return "\n".join([lines[0], lines[1], "|" + "---|" * len(table[0]), *lines[2:]]) + "\n"


def _pipe_cell_per_line(table):
    """Example 06's HTML page: one cell per line ending ` |`, `|` alone for an empty cell."""
    lines = [TITLE + " |"]
    for row in table:
        lines += [f"{cell} |" if cell else "|" for cell in row]
    return "\n".join(lines) + "\n"


def _flattened(table):
    """Example 03: the whole form on one line, cells separated by single spaces, empty cells gone."""
    return "附件: " + TITLE + " " + " ".join(c for row in table for c in row if c) + "\n"


def _aligned(table):
    """pdftotext -layout: cells padded to fixed columns, two spaces at least between them."""
    lines = [TITLE, ""]
    for row in table:
        lines.append("".join(f"{cell:<14}" if cell else " " * 14 for cell in row).rstrip() + "  ")
    return "\n".join(lines) + "\n"


RENDERINGS = {
    "paragraphs": _paragraphs(TABLE),
    "pipe_rows": _pipe_rows(TABLE),
    "pipe_rows_empty_cells_dropped": _pipe_rows(TABLE, drop_empty=True),
    "pipe_cell_per_line": _pipe_cell_per_line(TABLE),
    "markdown": _markdown(TABLE),
    "flattened": _flattened(TABLE),
    "aligned": _aligned(TABLE),
}
EXPECTED_LAYOUT = {
    "paragraphs": "paragraphs",
    "pipe_rows": "pipe_table",
    "pipe_rows_empty_cells_dropped": "pipe_table",
    "pipe_cell_per_line": "pipe_table",
    "markdown": "pipe_table",
    "flattened": "flattened",
    "aligned": "aligned",
}


def _read(text: str, name: str = "hand.txt"):
    result = parse_file(name, text.encode("utf-8"), None)
    assert result.file_row["titles_seen"] == 1, [i.message for i in result.issues]
    return result


def _essentials(result):
    project = result.projects[0]
    funds = {
        f["fund_line"]: tuple(
            f[c] for c in ("initial_budget", "full_year_budget", "executed", "weight", "execution_rate", "score")
        )
        for f in result.funds
    }
    indicators = [
        (i["level1"], i["level2"], i["indicator_name"], i["target_raw"], i["actual_raw"], i["weight"], i["score"])
        for i in result.indicators
    ]
    head = tuple(
        project[c]
        for c in (
            "year",
            "project_name",
            "department",
            "implementing_unit",
            "goal_text",
            "achievement_text",
            "total_weight",
            "total_score",
            "completeness",
        )
    )
    return head, funds, indicators


def test_the_tab_separated_form_reads_as_printed():
    """The reference every other layout must give."""
    head, funds, indicators = _essentials(_read(_tab(TABLE)))
    assert head == (
        2023,
        "社区养老服务补贴",
        "某区民政局",
        "某街道办事处",
        "为辖区老人提供助餐服务。",
        "全年助餐三万人次。",
        100,
        97.69,
        "complete",
    )
    assert funds == {
        "total": (50, 48, 46.5, 10, 96.88, 9.69),
        "current_appropriation": (50, 48, 46.5, None, None, None),
    }
    assert indicators == [
        ("output", "quantity", "助餐服务人次", "≥30000人次", "31000人次", 30, 30),
        ("output", "timeliness", "补贴发放及时率", "100%", "95%", 20, 18),
        ("effect", "social_benefit", "老人生活质量", "明显提高", "明显提高", 20, 20),
        ("satisfaction", "satisfaction", "老人满意度", "≥90%", "93%", 20, 20),
    ]


@pytest.mark.parametrize("rendering", sorted(RENDERINGS))
def test_each_layout_is_detected_and_reads_the_same_values(rendering):
    expected = _essentials(_read(_tab(TABLE)))
    result = _read(RENDERINGS[rendering], f"{rendering}.txt")
    assert result.projects[0]["layout"] == EXPECTED_LAYOUT[rendering]
    head, funds, indicators = _essentials(result)
    assert head == expected[0]
    assert funds == expected[1]
    assert [row[:5] for row in indicators] == [row[:5] for row in expected[2]]
    assert [row[5:] for row in indicators] == [row[5:] for row in expected[2]]
    assert not [i for i in result.issues if i.severity == "error"]


def test_a_deviation_note_is_read_where_empty_cells_are_kept():
    for rendering in ("pipe_rows", "pipe_cell_per_line", "paragraphs"):
        result = _read(RENDERINGS[rendering])
        assert [i["deviation_note"] for i in result.indicators] == [None, "个别月份延迟", None, None], rendering


# --- the layout modules, cell by cell ----------------------------------------------------------


def _lines(text: str):
    return list(enumerate(text.split("\n"), start=1))


def test_paragraphs_turn_no_break_spaces_into_empty_cells():
    lines = _lines("项目名称\n\n\u00a0\n\n经费\n\n")
    assert paragraphs.to_rows(lines, [t.strip() for _, t in lines]) == [
        Row(1, ["项目名称"]),
        Row(3, [""]),
        Row(5, ["经费"]),
    ]


def test_pipe_table_cells_and_a_cell_spilling_onto_the_next_line():
    lines = _lines("| 项目名称 | 社区养老 |\n| 经济效益\n指标 | 老人收入 | 10 |\n|\n缴费 |")
    assert pipe_table.to_rows(lines, [t.strip() for _, t in lines]) == [
        Row(1, ["项目名称", "社区养老"]),
        Row(2, ["经济效益指标", "老人收入", "10"]),
        Row(5, ["缴费"]),
    ]


def test_flattened_joins_a_long_text_with_a_space_and_a_unit_printed_apart():
    goal = "本项目共申请预算资金2026400元,其中村级组织运转400000元,村民组长,党小组长基本报酬252000元,村民监督委员会"
    lines = [(1, f"项目资金 (万元) 年初预算数 {goal} 工资28000元。 绩效指标 =8个 8")]
    assert flattened.to_rows(lines, [lines[0][1]]) == [
        Row(1, ["项目资金 (万元)", "年初预算数", goal + " 工资28000元。", "绩效指标", "=8个", "8"])
    ]


def test_aligned_cuts_at_two_spaces_or_more_and_between_narrow_number_columns():
    lines = _lines(
        "项目名称      社区养老服务补贴\n  年度资金总额   50   48\n  助餐服务人次  ≥30000人次  31000人次  30 30"
    )
    assert aligned.to_rows(lines, [t.strip() for _, t in lines]) == [
        Row(1, ["项目名称", "社区养老服务补贴"]),
        Row(2, ["年度资金总额", "50", "48"]),
        Row(3, ["助餐服务人次", "≥30000人次", "31000人次", "30", "30"]),
    ]


def test_detection_is_by_scoring_the_lines_not_the_file_name():
    for rendering, text in RENDERINGS.items():
        chunks, _ = cells.read_forms(text, "same_name.txt")
        assert cells.detect_layout(chunks[0].lines) == EXPECTED_LAYOUT[rendering], rendering
    chunks, _ = cells.read_forms(_tab(TABLE), "paragraphs.txt")
    assert cells.detect_layout(chunks[0].lines) == cells.TAB_ROWS


def test_a_title_inside_a_line_is_cut_out_and_line_numbers_stay_the_files():
    text = "说明\n" + _flattened(TABLE)
    chunks, issues = cells.read_forms(text, "flat.txt")
    assert [c.title for c in chunks] == [TITLE]
    assert chunks[0].first_line == 2 and {n for n, line in chunks[0].lines if line} == {2}
    assert [i.line for i in issues] == [1]  # the text before the title, at its own line


def test_tab_separated_forms_parse_as_before():
    chunks, _ = cells.read_forms(_tab(TABLE), "t.txt")
    layout, rows = cells.to_rows(chunks[0].lines)
    assert layout == cells.TAB_ROWS and rows[0] == Row(2, ["项目名称", "社区养老服务补贴", "", ""])
    assert parse_form(chunks[0], layout, rows).project["project_name"] == "社区养老服务补贴"


@pytest.mark.parametrize("rendering", sorted(RENDERINGS))
def test_every_layout_cut_anywhere_never_crashes_and_accounts_for_its_form(rendering):
    """A copy stopped short (the examples are cut at 2,000 bytes): every cut is read or rejected
    with its reason, never a crash of the parser."""
    text = RENDERINGS[rendering]
    for cut in range(len(TITLE) + 2, len(text), max(1, len(text) // 40)):
        result = _read_any(text[:cut])
        assert not [i for i in result.issues if "parser failed" in i.message], (cut, text[:cut][-40:])
        row = result.file_row
        assert row["forms_loaded"] + row["forms_rejected"] == row["titles_seen"]
        for project in result.projects:
            assert project["completeness"] in ("complete", "partial")


def _read_any(text: str):
    return parse_file("cut.txt", text.encode("utf-8"), None)


def test_two_forms_flattened_onto_one_line_are_two_forms():
    line = _flattened(TABLE).rstrip("\n") + " " + _flattened(TABLE).replace("社区养老服务补贴", "老年助餐点建设")
    result = _read_any(line)
    assert [p["project_name"] for p in result.projects] == ["社区养老服务补贴", "老年助餐点建设"]
    assert [p["total_score"] for p in result.projects] == [97.69, 97.69]
