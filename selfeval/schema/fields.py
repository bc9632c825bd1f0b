"""Every column of every table, declared once.

The declaration documents the data (data dictionary, datapackage.json) and
validates it (pandera) on every run, so the three can never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from pandera.engines import pandas_engine

from selfeval.vocab.labels import VOCAB
from selfeval.vocab.value_sets import (
    BANDS,
    BASES,
    CHECKS,
    COMPARATORS,
    DIRECTIONS,
    EVIDENCE_CLASSES,
    FILE_FORMATS,
    GRADES,
    ISSUE_SEVERITIES,
    KINDS,
    REASONS,
)
from selfeval.vocab.value_sets import SEVERITIES as CHECK_SEVERITIES

# The tables of every run: one row per form or per its parts (FORM_TABLES), then the run's own.
FORM_TABLES = ("projects", "funds", "indicators", "checks")
TABLE_NAMES = (*FORM_TABLES, "files", "parse_issues")


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # string | float | int | bool
    label_zh: str  # the form's printed label, or a Chinese gloss
    description: str
    unit: str | None = None
    nullable: bool = True
    checks: tuple = ()


def _c(name, dtype, label_zh, description, unit=None, nullable=True, checks=()):
    return Column(name, dtype, label_zh, description, unit, nullable, tuple(checks))


_FRACTION = (pa.Check.ge(0),)
# Vocabularies of the derived columns, from the modules that produce them.
_GRADES = list(GRADES)
_KINDS, _COMPARATORS, _REASONS, _CHECK_NAMES = KINDS, COMPARATORS, REASONS, tuple(CHECKS)
_NONNEG = (pa.Check.ge(0),)
_SEVERITY = (pa.Check.isin(list(ISSUE_SEVERITIES)),)

_FUND_VALUES = [
    ("initial_budget", "年初预算数", "budget at the start of the year", "万元"),
    ("full_year_budget", "全年预算数", "full-year (adjusted) budget", "万元"),
    ("executed", "全年执行数", "amount spent in the year", "万元"),
    ("weight", "分值", "points the budget-execution line is worth (normally 10)", "points"),
    ("execution_rate", "执行率", "execution rate as printed, as a fraction (99.74% -> 0.9974)", "fraction"),
    ("score", "得分", "points the unit gave itself for budget execution", "points"),
]

TABLES: dict[str, dict] = {
    "projects": {
        "description": "One row per form (项目支出绩效自评表): header, goal, budget line and totals.",
        "primary_key": ["form_id"],
        "columns": [
            _c(
                "form_id",
                "string",
                "表单编号",
                "stable id: source file stem (a .txt export) or name (a document: a.docx) + '#' + ordinal in the file",
                nullable=False,
            ),
            _c("source_file", "string", "来源文件", "raw file name under data/raw/", nullable=False),
            _c("form_ordinal", "int", "文件内序号", "1-based position of the form in its file", nullable=False),
            _c("first_line", "int", "起始行", "line number of the form's title in the raw file", nullable=False),
            _c(
                "layout",
                "string",
                "版式",
                "how the form's text was laid out: cell_per_line (Word export), tab_rows "
                "(PDF export), paragraphs (one cell per paragraph), pipe_table (`|` between cells), flattened (a "
                "whole form on one line), aligned (columns aligned with spaces)",
                nullable=False,
            ),
            _c("title", "string", "表名", "the printed title line"),
            _c("year", "int", "年度", "budget year, from the form (else sources.csv)"),
            _c("district", "string", "区", "district (朝阳区, 丰台区, ...)"),
            _c("district_source", "string", "区来源", "where district came from: title, department or sources.csv"),
            _c("department", "string", "主管部门", "supervising department as printed"),
            _c("implementing_unit", "string", "实施单位", "implementing unit as printed"),
            _c("project_name", "string", "项目名称", "project name as printed (not unique)"),
            _c("contact_person", "string", "项目负责人", "person responsible (not printed on every template)"),
            _c("phone", "string", "联系电话", "contact phone, kept as text"),
            _c("goal_text", "string", "预期目标", "the year's goal as printed"),
            _c("achievement_text", "string", "实际完成情况", "what was achieved, as printed"),
            _c(
                "initial_budget", "float", "年初预算数", "年度资金总额 at the start of the year", "万元", checks=_NONNEG
            ),
            _c(
                "full_year_budget",
                "float",
                "全年预算数",
                "年度资金总额, full-year (adjusted) budget",
                "万元",
                checks=_NONNEG,
            ),
            _c("executed", "float", "全年执行数", "年度资金总额 spent in the year", "万元", checks=_NONNEG),
            _c("budget_weight", "float", "分值", "points for budget execution", "points", checks=_NONNEG),
            _c("execution_rate_raw", "string", "执行率", "execution rate as printed"),
            _c(
                "execution_rate",
                "float",
                "执行率",
                "execution rate as printed, as a fraction",
                "fraction",
                checks=_FRACTION,
            ),
            _c("budget_score", "float", "得分", "self-score for budget execution", "points", checks=_NONNEG),
            _c("total_weight_raw", "string", "总分(分值)", "total weight as printed"),
            _c("total_weight", "float", "总分(分值)", "total weight (normally 100)", "points", checks=_NONNEG),
            _c("total_score_raw", "string", "总分(得分)", "total self-score as printed"),
            _c("total_score", "float", "总分(得分)", "total self-score", "points", checks=_NONNEG),
            _c("n_indicators", "int", "三级指标数", "number of third-level indicators read", nullable=False),
            _c(
                "funds_unit_raw",
                "string",
                "金额单位",
                "unit printed in the funds block's label (万元 or 元; null: "
                "none printed, read as 万元); every amount column holds 万元",
            ),
            _c("grade_raw", "string", "自评等级(原文)", "grade printed beside the total (优, 良, ...), as printed"),
            _c(
                "completeness",
                "string",
                "完整性",
                "complete, or partial: the form was cut off (loaded with what "
                "it has; analyses that need whole forms leave it out)",
                nullable=False,
                checks=(pa.Check.isin(["complete", "partial"]),),
            ),
            _c(
                "missing_parts",
                "string",
                "缺少部分",
                "what a partial form lacks, '; '-separated: project_name, fund_total, goal, indicators, total",
            ),
            _c(
                "same_form_as",
                "string",
                "与之相同的表",
                "form_id of an earlier form (in file order) with the same year, units, project name, amounts, "
                "total and indicators: one form published twice (a .docx and a .pdf of one report, a page "
                "printed twice). Kept in the tables, left out of the analyses, a warning in parse_issues",
            ),
            # re-scored by the official rule (selfeval/score/scoring.py)
            _c(
                "computed_execution_rate",
                "float",
                "执行率(计算)",
                "全年执行数 / 全年预算数 of 年度资金总额, computed",
                "fraction",
                checks=_FRACTION,
            ),
            _c(
                "execution_rate_basis",
                "string",
                "执行率口径",
                "which denominator the printed rate matches (within 0.01 percentage points): full_year, "
                "initial (only executed / 年初预算数 matches), neither; null: no printed rate",
                checks=(pa.Check.isin(list(BASES)),),
            ),
            _c(
                "rule_budget_score",
                "float",
                "预算执行得分(规则)",
                "min(computed rate, 1) x budget weight, rounded to 2 decimals",
                "points",
                checks=_NONNEG,
            ),
            _c(
                "self_total",
                "float",
                "自评总分",
                "total self-score as printed (if not printed: the sum of the printed budget and indicator scores)",
                "points",
                checks=_NONNEG,
            ),
            _c(
                "rule_total",
                "float",
                "规则总分",
                "rule budget score + indicator rule scores (unverifiable indicators keep their self-score)",
                "points",
                checks=_NONNEG,
            ),
            _c(
                "verifiable_weight_share",
                "float",
                "可核验分值占比",
                "share of the form's weight (budget line + indicators) the rule re-scored",
                "fraction",
                checks=(pa.Check.in_range(0, 1),),
            ),
            _c(
                "inflation",
                "float",
                "自评虚高",
                "self_total - rule_total: the lower bound of inflation (only what the printed numbers contradict)",
                "points",
            ),
            _c(
                "self_grade",
                "string",
                "自评等级",
                "grade of self_total: excellent (优 >= 90), good (良 80-90), fair (中 60-80), poor (差 < 60)",
                checks=(pa.Check.isin(_GRADES),),
            ),
            _c(
                "rule_grade", "string", "规则等级", "grade of rule_total (same bands)", checks=(pa.Check.isin(_GRADES),)
            ),
            _c(
                "substantiated_total",
                "float",
                "有据得分",
                "rule budget score (the amounts are printed) + the rule "
                "scores of indicators whose actual is measured; points on missing, bare_claim and restated actuals "
                "not counted (rule SUBSTANTIATED, scoring.py)",
                "points",
                checks=_NONNEG,
            ),
            _c(
                "inflation_upper",
                "float",
                "自评虚高(上限)",
                "self_total - substantiated_total: the upper bound of inflation (inflation is the lower bound)",
                "points",
            ),
            _c(
                "substantiated_grade",
                "string",
                "有据等级",
                "grade of substantiated_total (same bands)",
                checks=(pa.Check.isin(_GRADES),),
            ),
            *[
                _c(
                    f"evidence_{c}_share",
                    "float",
                    f"证据({zh})占比",
                    f"share of the self-awarded points (printed budget "
                    f"score + indicator scores) whose evidence is {c}{extra}; null: no points awarded",
                    "fraction",
                    checks=(pa.Check.in_range(0, 1),),
                )
                for c, zh, extra in (
                    ("measured", "实测", " (the budget line counts as measured when its amounts are printed)"),
                    ("restated", "复述指标值", ""),
                    ("bare_claim", "空泛声明", ""),
                    ("missing", "缺失", " (or a budget score with no amounts to compute it from)"),
                )
            ],
        ],
    },
    "funds": {
        "description": "One row per form and fund line (年度资金总额, 当年财政拨款, 上年结转资金, 财政专户管理资金, "
        "单位资金, 其他资金).",
        "primary_key": ["form_id", "fund_line"],
        "columns": [
            _c("form_id", "string", "表单编号", "the form (projects.form_id)", nullable=False),
            _c(
                "fund_line",
                "string",
                "资金类别",
                "total, current_appropriation, carryover, special_account (财政专户管理资金), unit_funds "
                "(单位资金) or other (the keys of vocab/labels.yaml fund_lines)",
                nullable=False,
                checks=(pa.Check.isin(list(VOCAB["fund_lines"])),),
            ),
            _c("fund_label", "string", "资金类别(原文)", "the fund line's label as printed", nullable=False),
            _c("line", "int", "行号", "line number in the raw file", nullable=False),
            *[
                c
                for name, zh, desc, unit in _FUND_VALUES
                for c in (
                    _c(f"{name}_raw", "string", zh, f"{desc}: as printed"),
                    _c(name, "float", zh, desc, unit, checks=_NONNEG),
                )
            ],
            _c(
                "unit_raw",
                "string",
                "金额单位",
                "unit the amounts were printed in (万元 or 元; null: none printed); "
                "the amount columns hold 万元, the *_raw columns the printed figures",
            ),
            _c(
                "repaired_from",
                "string",
                "修复来源",
                "the fund line whose amounts (and rate) replaced this line's: "
                "a 年度资金总额 printed as zeros (formula cells exported as 0) takes 财政拨款's; null: as printed",
            ),
        ],
    },
    "indicators": {
        "description": "One row per third-level indicator (三级指标) of a form's 绩效指标 table.",
        "primary_key": ["form_id", "indicator_order"],
        "columns": [
            _c("form_id", "string", "表单编号", "the form (projects.form_id)", nullable=False),
            _c("indicator_order", "int", "序号", "1-based order of the indicator in its form", nullable=False),
            _c("line", "int", "行号", "line number in the raw file", nullable=False),
            _c("level1_raw", "string", "一级指标", "level-1 label as printed in this row (null: carried or inferred)"),
            _c(
                "level1",
                "string",
                "一级指标(代码)",
                "output, cost, effect or satisfaction",
                checks=(pa.Check.isin(["output", "cost", "effect", "satisfaction"]),),
            ),
            _c("level2_raw", "string", "二级指标", "level-2 label as printed in this row (null: carried or inferred)"),
            _c(
                "level2",
                "string",
                "二级指标(代码)",
                "quantity, quality, timeliness, cost, economic_cost, social_benefit, ...",
            ),
            _c("indicator_prefix", "string", "指标编号", "a printed prefix such as 指标1"),
            _c("indicator_name", "string", "三级指标", "indicator name as printed, prefix removed"),
            _c("target_raw", "string", "年度指标值", "target as printed"),
            _c("actual_raw", "string", "实际完成值", "actual as printed"),
            _c("weight_raw", "string", "分值", "weight as printed"),
            _c(
                "weight",
                "float",
                "分值",
                "points the indicator is worth ('10%' printed means 10)",
                "points",
                checks=_NONNEG,
            ),
            _c("score_raw", "string", "得分", "self-score as printed"),
            _c("score", "float", "得分", "points the unit gave itself", "points", checks=_NONNEG),
            _c("deviation_note", "string", "偏差原因分析及改进措施", "deviation reason and remedy as printed"),
            # values read by selfeval/score/values.py, re-scored by selfeval/score/scoring.py
            *[
                c
                for side, zh in (("target", "年度指标值"), ("actual", "实际完成值"))
                for c in (
                    _c(
                        f"{side}_comparator",
                        "string",
                        f"{zh}(比较符)",
                        f"{side}: comparator (>=, >, =, <=, <)",
                        checks=(pa.Check.isin(list(_COMPARATORS)),),
                    ),
                    _c(
                        f"{side}_number",
                        "float",
                        f"{zh}(数值)",
                        f"{side}: the single number read (null: none or several)",
                    ),
                    _c(
                        f"{side}_unit", "string", f"{zh}(单位)", f"{side}: canonical unit (%, 万元, 个, 万元/人年, ...)"
                    ),
                    _c(
                        f"{side}_kind",
                        "string",
                        f"{zh}(类型)",
                        f"{side}: {', '.join(_KINDS)}",
                        nullable=False,
                        checks=(pa.Check.isin(list(_KINDS)),),
                    ),
                )
            ],
            _c(
                "direction",
                "string",
                "方向",
                "higher, lower or exact is better: cost indicators (成本指标 and its "
                "level-2 children) lower whatever the comparator; otherwise >= and > higher; <= and < lower; "
                "= exact; no comparator: higher (null: target not a number)",
                checks=(pa.Check.isin(list(DIRECTIONS)),),
            ),
            _c("compared_target", "float", "指标值(比较)", "target number as compared (verifiable rows only)"),
            _c("compared_actual", "float", "完成值(比较)", "actual number in the target's unit (verifiable rows only)"),
            _c("met", "bool", "是否达成", "the actual satisfies the target (null: unverifiable)"),
            _c(
                "attainment_ratio",
                "float",
                "完成比",
                "compared_actual / compared_target (null: unverifiable or target 0)",
                "ratio",
            ),
            _c(
                "verifiable",
                "bool",
                "可核验",
                "target and actual comparable as numbers, so the rule re-scores it",
                nullable=False,
            ),
            _c(
                "unverifiable_reason",
                "string",
                "不可核验原因",
                "why not: " + ", ".join(_REASONS),
                checks=(pa.Check.isin(list(_REASONS)),),
            ),
            _c(
                "rule_score",
                "float",
                "得分(规则)",
                "score the rule gives (unverifiable: the self-score, kept)",
                "points",
                checks=_NONNEG,
            ),
            _c("inflation", "float", "自评虚高", "score - rule_score", "points"),
            _c(
                "score_band",
                "string",
                "得分档次",
                "band of score / weight: achieved (达成 >= 80%), partly_achieved "
                "(部分达成 60-80%), not_achieved (未达成 < 60%)",
                checks=(pa.Check.isin(list(BANDS)),),
            ),
            _c(
                "literal_direction",
                "string",
                "方向(按比较符)",
                "a cost target printed as a floor or exact (≥, >, =): "
                "the direction its comparator says (direction is lower); null: the two readings agree",
                checks=(pa.Check.isin(list(DIRECTIONS)),),
            ),
            _c(
                "literal_met",
                "bool",
                "是否达成(按比较符)",
                "met under literal_direction (null: readings agree or unverifiable)",
            ),
            _c(
                "literal_rule_score",
                "float",
                "得分(按比较符)",
                "rule score under literal_direction (null: readings agree or unverifiable)",
                "points",
                checks=_NONNEG,
            ),
            _c(
                "evidence",
                "string",
                "证据类型",
                "what the actual offers for the points: missing (no actual), "
                "bare_claim (a claim with no value: 已完成, 达标, 可达到预期指标, 优, ...), restated (the target's text "
                "once normalised, or its number and unit without its comparator: ≥90% -> 90%), measured (a value "
                "or result of its own); words in selfeval/vocab/values.yaml",
                nullable=False,
                checks=(pa.Check.isin(list(EVIDENCE_CLASSES)),),
            ),
            _c(
                "substantiated_score",
                "float",
                "有据得分",
                "rule_score when evidence is measured, else 0 (null: no score and no weight printed)",
                "points",
                checks=_NONNEG,
            ),
        ],
    },
    "files": {
        "description": "One row per entry of the raw folder (sub-folders included): what the run saw, loaded, "
        "rejected or skipped, and why (titles_seen = forms_loaded + forms_rejected).",
        "primary_key": ["source_file"],
        "columns": [
            _c("source_file", "string", "来源文件", "raw file name under data/raw/", nullable=False),
            _c(
                "sha256",
                "string",
                "校验值",
                "sha256 of the bytes that were parsed; null for an entry not read "
                "(skipped, or gone before it could be read)",
            ),
            _c(
                "format",
                "string",
                "文件格式",
                "format decided by the file's content (selfeval/extract/formats/sniff.py): "
                "text, docx, doc, xlsx, xls, pdf, html, rtf; encrypted, zip, ole: an unreadable kind; null for an "
                "entry not read",
                checks=(pa.Check.isin(list(FILE_FORMATS)),),
            ),
            _c(
                "encoding",
                "string",
                "编码",
                "encoding a text export or web page was decoded with (null: Word, Excel, PDF)",
            ),
            _c("titles_seen", "int", "表头数", "form titles found in the file", nullable=False, checks=_NONNEG),
            _c("forms_loaded", "int", "已载入", "forms that became rows of projects", nullable=False, checks=_NONNEG),
            _c(
                "forms_rejected",
                "int",
                "未载入",
                "forms not loaded: an error-level parse issue, or the file duplicates an earlier one",
                nullable=False,
                checks=_NONNEG,
            ),
            _c(
                "duplicate_of",
                "string",
                "重复于",
                "an earlier file with the same forms (the same decoded text, "
                "whatever its encoding and line ends); this one is not loaded",
            ),
            _c(
                "status",
                "string",
                "状态",
                "ok (every form loaded), partial (some), failed (none), duplicate "
                "(same forms as duplicate_of) or skipped (not read: see reason)",
                nullable=False,
                checks=(pa.Check.isin(["ok", "partial", "failed", "duplicate", "skipped"]),),
            ),
            _c(
                "reason",
                "string",
                "原因",
                "why a file was skipped, failed, partly loaded or is a duplicate; null when every form loaded",
            ),
        ],
    },
    "parse_issues": {
        "description": "Every anomaly the ETL met or repaired. error: the form or file was not loaded.",
        "primary_key": [],
        "columns": [
            _c("source_file", "string", "来源文件", "raw file name", nullable=False),
            _c("form_id", "string", "表单编号", "the form, when the issue is inside one"),
            _c("line", "int", "行号", "line number in the raw file"),
            _c("field", "string", "字段", "the field or block concerned"),
            _c("raw_text", "string", "原文", "the raw text concerned"),
            _c("message", "string", "说明", "what happened", nullable=False),
            _c("severity", "string", "级别", "error, warning or repaired", nullable=False, checks=_SEVERITY),
        ],
    },
    "checks": {
        "description": "One row per consistency check that fired: a form's printed arithmetic and its scores "
        "against the official rule (selfeval/score/checks.py; tolerance 0.01 points / 0.01 percentage points).",
        "primary_key": [],
        "columns": [
            _c("form_id", "string", "表单编号", "the form (projects.form_id)", nullable=False),
            _c(
                "indicator_order", "int", "序号", "the indicator (indicators.indicator_order); null: a form-level check"
            ),
            _c("line", "int", "行号", "line number in the raw file (the indicator's row, or the form's title)"),
            _c(
                "check",
                "string",
                "检查项",
                "which check: " + "; ".join(f"{c.name} ({c.severity}): {c.description}" for c in CHECKS.values()),
                nullable=False,
                checks=(pa.Check.isin(list(_CHECK_NAMES)),),
            ),
            _c(
                "expected",
                "float",
                "应为",
                "what the numbers or the rule give; per check: "
                + "; ".join(f"{c.name}: {c.expected}" for c in CHECKS.values()),
            ),
            _c(
                "printed",
                "float",
                "表中数",
                "what the form prints; per check: " + "; ".join(f"{c.name}: {c.printed}" for c in CHECKS.values()),
            ),
            _c(
                "severity",
                "string",
                "级别",
                "error (the form's numbers contradict each other), warning (departs from "
                "the rule, or a mis-specified target), note (indicator-quality signal)",
                nullable=False,
                checks=(pa.Check.isin(list(CHECK_SEVERITIES)),),
            ),
            _c("message", "string", "说明", "what was found, with the printed values", nullable=False),
        ],
    },
}

# Text in Arrow memory: compact, and read from Parquet without a Python object per cell.
_COLUMN_NAMES = {table: tuple(c.name for c in spec["columns"]) for table, spec in TABLES.items()}
_PANDAS_DTYPES = {"string": "string[pyarrow]", "float": "Float64", "int": "Int64", "bool": "boolean"}
_ARROW_TYPES = {
    "string": pyarrow.large_string(),
    "float": pyarrow.float64(),
    "int": pyarrow.int64(),
    "bool": pyarrow.bool_(),
}
# Arrow type -> the pandas dtype above, for reading the Parquet files back.
PANDAS_FROM_ARROW = {
    pyarrow.string(): pd.StringDtype("pyarrow"),
    pyarrow.large_string(): pd.StringDtype("pyarrow"),
    pyarrow.float64(): pd.Float64Dtype(),
    pyarrow.int64(): pd.Int64Dtype(),
    pyarrow.bool_(): pd.BooleanDtype(),
}
_FRICTIONLESS_TYPES = {"string": "string", "float": "number", "int": "integer", "bool": "boolean"}


def columns(table: str) -> list[str]:
    return list(_COLUMN_NAMES[table])


def conform(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Order and type a frame's columns as declared (missing columns become null)."""
    out = {}
    for column in TABLES[table]["columns"]:
        if column.name not in frame:
            out[column.name] = pd.Series(pd.NA, index=frame.index, dtype=_PANDAS_DTYPES[column.dtype])
            continue
        out[column.name] = _conform_column(frame[column.name], column.dtype)
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def _conform_column(values: pd.Series, dtype: str) -> pd.Series:
    if dtype in ("float", "int") and values.dtype == object:
        values = pd.to_numeric(values)  # None -> NaN, then a nullable dtype
    elif dtype == "string" and values.dtype != "string":
        values = values.astype(object).where(values.notna(), None)  # NaN is missing, not "nan"
    return values.astype(_PANDAS_DTYPES[dtype])


def rows_to_arrow(table: str, rows: list[dict]) -> pyarrow.Table:
    """Rows (dicts; absent keys, None and NaN are null) -> an Arrow table with the declared
    schema, converted by Arrow in C++: several times cheaper than a DataFrame of Python
    objects for the 3,000-form batches of the ETL. When Arrow will not take a column as
    it is (an int in a text column, say), every column goes the way of conform()."""
    declared = arrow_schema(table)
    try:
        # as one struct array: twice as fast as Table.from_pylist on the same dicts
        arrow = pyarrow.Table.from_struct_array(pyarrow.array(rows, type=pyarrow.struct(list(declared))))
    except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
        frame = conform(table, pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns(table)))
        return pyarrow.Table.from_pandas(frame, schema=declared, preserve_index=False).replace_schema_metadata()
    for i, field in enumerate(declared):  # NaN is missing, as in pandas, not a number
        if pyarrow.types.is_floating(field.type) and arrow.column(i).null_count < len(arrow):
            column = arrow.column(i)
            arrow = arrow.set_column(i, field, pc.if_else(pc.is_nan(column), None, column))
    return arrow


def arrow_schema(table: str) -> pyarrow.Schema:
    """The table's columns as Arrow types: the Parquet and CSV files' schema, also when empty."""
    return pyarrow.schema(
        [pyarrow.field(c.name, _ARROW_TYPES[c.dtype], nullable=True) for c in TABLES[table]["columns"]]
    )


def to_pandas(table: pyarrow.Table) -> pd.DataFrame:
    """An Arrow table (or a Parquet file's contents) as a frame with the declared pandas dtypes."""
    return table.to_pandas(types_mapper=PANDAS_FROM_ARROW.get, ignore_metadata=True)


class _ArrowText(pandas_engine.STRING):
    """string[pyarrow] for pandera, answering its dtype check once per column. pandera's
    own (0.35) answers per element when the dtype matches, and its backend then builds
    and prints an empty failure-case table for every text column of every batch: 60% of
    the validation time at 100,000 forms. A column of any other dtype fails, as before."""

    def check(self, pandera_dtype, data_container=None) -> bool:  # noqa: ARG002 (whole column)
        try:
            return pandas_engine.Engine.dtype(pandera_dtype).type == self.type
        except TypeError:
            return False


def _pandera_dtype(dtype: str):
    return _ArrowText("pyarrow") if dtype == "string" else _PANDAS_DTYPES[dtype]


@cache  # built once per table and process, not once per batch
def pandera_schema(table: str) -> pa.DataFrameSchema:
    spec = TABLES[table]
    return pa.DataFrameSchema(
        {
            c.name: pa.Column(_pandera_dtype(c.dtype), checks=list(c.checks), nullable=c.nullable)
            for c in spec["columns"]
        },
        unique=spec["primary_key"] or None,
        strict=True,
        ordered=True,
        name=table,
    )


def validate(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    return pandera_schema(table).validate(frame, lazy=True)


def datapackage(resources: dict[str, str]) -> dict:
    """A Frictionless Data Package (v2) describing the tables; resources maps table -> file path."""
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "selfeval",
        "title": "Beijing project expenditure performance self-evaluation forms (项目支出绩效自评表)",
        "resources": [
            {
                "name": table,
                "path": path,
                "format": path.rsplit(".", 1)[-1],
                "description": TABLES[table]["description"],
                "schema": {
                    "fields": [
                        {
                            "name": c.name,
                            "type": _FRICTIONLESS_TYPES[c.dtype],
                            "title": c.label_zh,
                            "description": c.description + (f" ({c.unit})" if c.unit else ""),
                            "constraints": {"required": not c.nullable},
                        }
                        for c in TABLES[table]["columns"]
                    ],
                    **({"primaryKey": TABLES[table]["primary_key"]} if TABLES[table]["primary_key"] else {}),
                },
            }
            for table, path in resources.items()
        ],
    }


def data_dictionary_markdown() -> str:
    lines = [
        "# Data dictionary",
        "",
        "Generated from `selfeval/schema/fields.py` (the single declaration of every column); "
        "do not edit by hand: `make docs` rewrites it.",
        "",
    ]
    for table, spec in TABLES.items():
        lines += [
            f"## {table}",
            "",
            spec["description"],
            "",
            "| column | type | unit | 中文 | meaning |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{c.name}` | {c.dtype} | {c.unit or ''} | {c.label_zh} | {c.description} |" for c in spec["columns"]
        ]
        lines.append("")
    return "\n".join(lines)


def datapackage_json(resources: dict[str, str]) -> str:
    return json.dumps(datapackage(resources), ensure_ascii=False, indent=2)
