"""Templates of other places and years (issue 14 parts 3-5) on small hand-made forms: label synonyms,
extra columns, the funds unit, traditional characters, comparators, forms cut off, and the traps of
real forms (a zero 年度资金总额, 年初预算数 0, a blank self-evaluation, a fragment after a total)."""

from __future__ import annotations

import dataclasses

import opencc
import pytest

from selfeval.run import pipeline
from selfeval.run.per_file import parse_file
from selfeval.score import scoring
from selfeval.score.values import parse_value

T = "\t"


def _form(*rows: list[str], title: str = "某区项目支出绩效自评表", year: str = "(2023年度)") -> str:
    return "\n".join([title, year, *(T.join(row) for row in rows)]) + "\n"


HEADER = [["项目名称", "社区养老服务补贴"], ["主管部门", "某区民政局", "实施单位", "某街道办事处"]]
GOAL = [["年度总体目标", "预期目标", "为辖区老人提供助餐服务。", "实际完成情况", "全年助餐三万人次。"]]
BEIJING_FUNDS = [
    ["项目资金 (万元)", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
    ["年度资金总额", "50", "48", "46.5", "10", "96.88%", "9.69"],
    ["其中:当年财政拨款", "50", "48", "46.5", "—", "", "—"],
]
BEIJING_INDICATORS = [
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
    ["", "产出指标", "数量指标", "助餐服务人次", "≥30000人次", "31000人次", "50", "50", ""],
    ["", "满意度指标", "服务对象满意度指标", "老人满意度", "≥90%", "93%", "40", "38", ""],
]
TOTAL = [["总分", "100", "97.69"]]


def _read(text: str, name: str = "t.txt"):
    result = parse_file(name, text.encode("utf-8"), None)
    return result


def _values(result):
    total = next(f for f in result.funds if f["fund_line"] == "total")
    return (
        [total[c] for c in ("initial_budget", "full_year_budget", "executed", "weight", "execution_rate", "score")],
        [(i["indicator_name"], i["target_raw"], i["actual_raw"], i["weight"], i["score"]) for i in result.indicators],
    )


REFERENCE = _form(*HEADER, *BEIJING_FUNDS, *GOAL, *BEIJING_INDICATORS, *TOTAL)


def test_label_synonyms_of_other_templates_read_the_same_values():
    funds = [
        ["预算执行情况(10分)", "年初预算", "调整后预算数", "预算执行数", "权重", "执行率", "得分"],
        ["总额", "50", "48", "46.5", "10", "96.88%", "9.69"],
        ["其中:本年一般公共预算拨款", "50", "48", "46.5", "—", "", "—"],
    ]
    goal = [
        ["年度总体目标", "年初设定目标", "为辖区老人提供助餐服务。", "年度总体目标完成情况综述", "全年助餐三万人次。"]
    ]
    indicators = [[c.replace("分值", "权重") for c in BEIJING_INDICATORS[0]], *BEIJING_INDICATORS[1:]]
    result = _read(_form(*HEADER, *funds, *goal, *indicators, *TOTAL))
    assert _values(result) == _values(_read(REFERENCE))
    project = result.projects[0]
    assert (project["goal_text"], project["achievement_text"]) == ("为辖区老人提供助餐服务。", "全年助餐三万人次。")
    assert (
        next(f for f in result.funds if f["fund_line"] == "current_appropriation")["fund_label"]
        == "其中:本年一般公共预算拨款"
    )


def test_a_funds_table_without_initial_budget_and_with_a_reason_column():
    funds = [
        ["资金情况 (万元)", "全年预算数(A)", "全年执行数(B)", "分值", "执行率(B/A)", "得分", "原因"],
        ["年度资金总额:", "48", "46.5", "10", "96.88%", "9.69", "年中调减"],
        ["其中:财政资金", "48", "46.5", "10", "96.88%", "9.69", ""],
    ]
    result = _read(_form(*HEADER, *funds, *GOAL, *BEIJING_INDICATORS, *TOTAL))
    funds_read, _ = _values(result)
    assert funds_read == [None, 48, 46.5, 10, 96.88, 9.69]


def test_extra_indicator_columns_are_read_or_ignored_by_label():
    """指标性质 and 度量单位 are read into the target; 复核分 and 得分计算方法 are ignored; 分值 printed
    before 年度指标值 is found by its label."""
    indicators = [
        [
            "绩效指标",
            "一级指标",
            "二级指标",
            "三级指标",
            "分值",
            "指标性质",
            "指标值",
            "度量单位",
            "完成值",
            "得分",
            "复核分",
            "得分计算方法",
        ],
        ["", "产出指标", "数量指标", "助餐服务人次", "50", "≥", "30000", "人次", "31000", "50", "48", "按比例"],
        ["", "满意度指标", "服务对象满意度指标", "老人满意度", "40", "≥", "90", "%", "93%", "38", "38", "达标得分"],
    ]
    result = _read(_form(*HEADER, *BEIJING_FUNDS, *GOAL, *indicators, *TOTAL))
    assert result.projects[0]["layout"] == "tab_rows"
    assert _values(result)[1] == [
        ("助餐服务人次", "≥30000人次", "31000", 50, 50),
        ("老人满意度", "≥90%", "93%", 40, 38),
    ]


def test_amounts_printed_in_yuan_are_stored_in_wan_yuan_with_the_printed_unit_kept():
    funds = [
        ["项目资金 (元)", *BEIJING_FUNDS[0][1:]],
        ["年度资金总额", "500000", "480000", "465000", "10", "96.88%", "9.69"],
        ["其中:当年财政拨款", "500000", "480000", "465000", "—", "", "—"],
    ]
    result = _read(_form(*HEADER, *funds, *GOAL, *BEIJING_INDICATORS, *TOTAL))
    total = next(f for f in result.funds if f["fund_line"] == "total")
    assert (total["initial_budget"], total["full_year_budget"], total["executed"]) == (50, 48, 46.5)
    assert (total["initial_budget_raw"], total["unit_raw"]) == ("500000", "元")
    assert (result.projects[0]["funds_unit_raw"], result.projects[0]["full_year_budget"]) == ("元", 48)


def test_traditional_characters_are_matched_and_the_printed_text_kept():
    traditional = opencc.OpenCC("s2t").convert(REFERENCE)
    assert "項目支出績效自評表" in traditional and "年度資金總額" in traditional
    result = _read(traditional)
    assert result.file_row["forms_loaded"] == 1
    assert _values(result)[0] == _values(_read(REFERENCE))[0]
    project = result.projects[0]
    assert project["project_name"] == "社區養老服務補貼"  # as printed
    assert [i["indicator_name"] for i in result.indicators] == ["助餐服務人次", "老人滿意度"]
    assert [(i["level1"], i["level2"]) for i in result.indicators] == [
        ("output", "quantity"),
        ("satisfaction", "satisfaction"),
    ]


@pytest.mark.parametrize("printed", ["≧", "═", "﹦", "＝"])
def test_comparators_of_other_exports(printed):
    expected = ">=" if printed == "≧" else "="
    assert (parse_value(f"{printed}100%").comparator, parse_value(f"{printed}100%").number) == (expected, 100)


# --- forms cut off (part 4) -----------------------------------------------------------------------


def test_a_form_cut_before_its_indicators_is_loaded_as_partial():
    result = _read(_form(*HEADER, *BEIJING_FUNDS, *GOAL))
    assert result.file_row["forms_loaded"] == 1 and result.file_row["forms_rejected"] == 0
    project = result.projects[0]
    assert (project["completeness"], project["missing_parts"], project["n_indicators"]) == (
        "partial",
        "indicators; total",
        0,
    )
    assert [i.message for i in result.issues if "cut off" in i.message] == [
        "form cut off: no indicators, total; loaded as partial"
    ]


def test_a_form_with_a_name_but_no_funds_is_partial_and_one_with_neither_is_rejected():
    named = _read(_form(*HEADER))
    assert named.file_row["forms_loaded"] == 1
    assert named.projects[0]["missing_parts"] == "fund_total; goal; indicators; total"
    fragment = _read(_form(*BEIJING_INDICATORS[1:], *TOTAL))
    assert (fragment.file_row["forms_loaded"], fragment.file_row["forms_rejected"]) == (0, 1)
    assert any("no 项目名称 found and no fund line" in i.message for i in fragment.issues if i.severity == "error")


def test_complete_forms_are_complete_in_the_seed_layouts():
    result = _read(REFERENCE)
    assert (result.projects[0]["completeness"], result.projects[0]["missing_parts"]) == ("complete", None)


# --- traps (part 5) ---------------------------------------------------------------------------------


def test_a_zero_total_of_formula_cells_takes_the_amounts_of_the_appropriation_line():
    funds = [
        BEIJING_FUNDS[0],
        ["年度资金总额", "0", "0", "0", "10", "0", "0"],
        ["其中:当年财政拨款", "50", "48", "46.5", "", "96.88%", ""],
    ]
    result = _read(_form(*HEADER, *funds, *GOAL, *BEIJING_INDICATORS, *TOTAL))
    total = next(f for f in result.funds if f["fund_line"] == "total")
    assert (total["initial_budget"], total["full_year_budget"], total["executed"], total["execution_rate"]) == (
        50,
        48,
        46.5,
        96.88,
    )
    assert (total["initial_budget_raw"], total["repaired_from"]) == ("0", "current_appropriation")
    assert [i.severity for i in result.issues if "printed as zeros" in i.message] == ["repaired"]
    # a total of zeros without amounts elsewhere is what was printed: no repair
    plain = [BEIJING_FUNDS[0], ["年度资金总额", "0", "0", "0", "10", "0", "0"], ["其中:当年财政拨款", "0", "0", "0"]]
    total = next(
        f for f in _read(_form(*HEADER, *plain, *GOAL, *BEIJING_INDICATORS, *TOTAL)).funds if f["fund_line"] == "total"
    )
    assert (total["executed"], total.get("repaired_from")) == (0, None)


def test_an_initial_budget_of_zero_gives_no_rate_against_it(tmp_path):
    funds = [BEIJING_FUNDS[0], ["年度资金总额", "0", "48", "46.5", "10", "96.88%", "9.69"]]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "zero.txt").write_text(_form(*HEADER, *funds, *GOAL, *BEIJING_INDICATORS, *TOTAL), encoding="utf-8")
    project = pipeline.collect(raw)["projects"].iloc[0]
    assert project.initial_budget == 0
    assert project.computed_execution_rate == pytest.approx(46.5 / 48) and project.execution_rate_basis == "full_year"
    initial = dataclasses.replace(scoring.BEIJING, budget_denominator="initial")
    assert scoring.execution_rate(46.5, 48, 0, initial) is None  # null, not infinity


def test_a_blank_self_evaluation_reads_as_no_score(tmp_path):
    """合计 100 under empty 得分 cells is the weight total (example 06), never a score of 100."""
    indicators = [
        BEIJING_INDICATORS[0],
        ["", "产出指标", "数量指标", "助餐服务人次", "≥30000人次", "", "60", "", ""],
        ["", "满意度指标", "服务对象满意度指标", "老人满意度", "≥90%", "", "30", "", ""],
    ]
    funds = [BEIJING_FUNDS[0], ["年度资金总额", "50", "48", "46.5", "10", "96.88%", ""]]
    text = "\n".join(f"| {' | '.join(row)} |" for row in [*HEADER, *funds, *GOAL, *indicators, ["合计", "100", "", ""]])
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "blank.txt").write_text("某区项目支出绩效自评表\n" + text + "\n", encoding="utf-8")
    frames = pipeline.collect(raw)
    project = frames["projects"].iloc[0]
    assert project.layout == "pipe_table" and project.total_weight == 100
    assert project[["total_score", "self_total", "self_grade", "budget_score"]].isna().all()
    assert frames["indicators"].score.isna().all() and frames["indicators"].weight.tolist() == [60, 30]
    assert frames["parse_issues"].message.str.startswith("blank self-evaluation").sum() == 1


def test_a_blank_self_evaluation_in_tab_rows_keeps_its_indicators():
    indicators = [
        BEIJING_INDICATORS[0],
        ["", "产出指标", "数量指标", "助餐服务人次", "≥30000人次", "", "60", "", ""],
        ["", "满意度指标", "服务对象满意度指标", "老人满意度", "≥90%", "", "30", "", ""],
    ]
    funds = [BEIJING_FUNDS[0], ["年度资金总额", "50", "48", "46.5", "10", "96.88%", ""]]
    result = _read(_form(*HEADER, *funds, *GOAL, *indicators, ["合计", "100", "", ""]))
    assert result.projects[0]["layout"] == "tab_rows"
    assert [(i["indicator_name"], i["weight"], i["score"]) for i in result.indicators] == [
        ("助餐服务人次", 60, None),
        ("老人满意度", 30, None),
    ]
    assert (result.projects[0]["total_weight"], result.projects[0]["total_score"]) == (100, None)
    assert any("read cell by cell" in i.message for i in result.issues)


def test_a_headless_fragment_after_a_total_is_not_merged_into_the_next_form():
    """A page that starts with the tail of the previous form's table, then the next form's title."""
    form = [*HEADER, *BEIJING_FUNDS, *GOAL, *BEIJING_INDICATORS, *TOTAL]
    fragment = [["", "效益指标", "社会效益指标", "老人生活质量", "明显提高", "明显提高", "10", "10", ""]]
    second = [
        ["项目名称", "老年助餐点建设"],
        *HEADER[1:],
        *BEIJING_FUNDS,
        *GOAL,
        *BEIJING_INDICATORS,
        ["总分", "100", "90"],
    ]

    def pipes(rows):
        return "\n".join(f"| {' | '.join(c for c in row if c)} |" for row in rows)

    text = (
        "\n".join(["某区项目支出绩效自评表", pipes(form), pipes(fragment), "某区项目支出绩效自评表", pipes(second)])
        + "\n"
    )
    result = _read(text)
    assert result.file_row["forms_loaded"] == 2
    first, next_form = result.projects
    assert (first["total_weight"], first["total_score"], next_form["total_score"]) == (100, 97.69, 90)
    names = [(i["form_id"][-1], i["indicator_name"]) for i in result.indicators]
    assert names == [("1", "助餐服务人次"), ("1", "老人满意度"), ("2", "助餐服务人次"), ("2", "老人满意度")]
    assert any("cells after the 总分 row not read" in i.message and i.raw_text == "10 | 10" for i in result.issues)
