"""Hostile text in a raw form: HTML, Markdown, spreadsheet formulas and control characters
in project names and indicator names and targets.

Parquet keeps the text as printed (it is data); the CSV export is made safe for Excel
(formula cells get an apostrophe, control characters are dropped); the HTML reports
show it as text, never as markup. The reports are really run (papermill + nbconvert)
for 丰台区, where the four renamed projects are all under 90% executed (listed by
name in 01_budget_execution) and the renamed indicator is the most repeated name
(listed in 03_indicator_phrasing).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import etl
from selfeval.paths import ROOT
from selfeval.reports import runner as reports
from selfeval.run import pipeline

FILE = "002_fd002be877c499a2.txt"
# form ordinal in 002 -> (printed name, hostile name); all four are under 90% executed
PROJECTS = {
    2: ("2024年-城指中心搬迁信息化建设", "@cmd\x07响铃\x1b[31m红色\x1b[0m搬迁<b>粗体</b>"),
    4: ("2024年-丰台区“接诉即办”重点治理及自助报表系统项目", "=1+1<img src=x onerror=alert(1)>报表系统"),
    5: ("2024年-丰台区智能民情图-基层综合服务平台运维", "+SUM(A1)**加粗**[链接](javascript:alert(1))平台运维"),
    6: ("2024年-网格化城市服务管理平台通讯保障项目", "-2+3<script>alert(3)</script>通讯保障"),
}
INDICATOR = ("系统利用率", '=HYPERLINK("http://evil.example")<i>利用率</i>**率**\x1b[1m\x07')
TARGET = "@SUM(1+1)<b>≥90%</b>"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _hostile_002(text: str) -> str:
    lines = text.split("\n")
    for n, line in enumerate(lines):
        cells = line.split("\t")
        if cells[0] == "项目名称":
            names = dict(PROJECTS.values())
            cells = [names.get(cell, cell) for cell in cells]
        if INDICATOR[0] in cells:
            at = cells.index(INDICATOR[0])
            target = next(i for i in range(at + 1, len(cells)) if cells[i])  # empty cells may come between
            cells[at], cells[target] = INDICATOR[1], TARGET
        lines[n] = "\t".join(cells)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    raw = tmp / "raw"
    raw.mkdir()
    for path in etl.RAW_DIR.iterdir():
        shutil.copy(path, raw / path.name)
    (raw / FILE).write_text(_hostile_002((etl.RAW_DIR / FILE).read_text(encoding="utf-8")), encoding="utf-8")
    processed = tmp / "processed"
    summary = pipeline.run(raw, processed, use_cache=False)
    assert summary["forms"] == 70 and summary["issues"]["error"] == 0
    config = {
        "kernel": "selfeval",
        "timeout_seconds": 300,
        "processed_dir": str(processed),
        "raw_dir": str(raw),
        "output_dir": str(tmp / "reports"),
        "notebooks": [
            {"path": "notebooks/01_budget_execution.ipynb"},
            {"path": "notebooks/03_indicator_phrasing.ipynb"},
        ],
        "parameter_sets": [{"name": "fengtai", "params": {"district": "丰台区"}}],
    }
    config_path = tmp / "reports.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    results = reports.run_reports(config_path, project_root=ROOT, output_dir=tmp / "reports")
    assert [r.error for r in results if not r.ok] == []
    html = {r.notebook: (tmp / "reports" / r.html).read_text(encoding="utf-8") for r in results}
    return processed, html


def _csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_parquet_keeps_the_text_as_printed(built):
    processed, _ = built
    projects = pd.read_parquet(processed / "projects.parquet").set_index("form_id")
    for ordinal, (_, hostile) in PROJECTS.items():
        assert projects.loc[f"002_fd002be877c499a2#{ordinal:03d}", "project_name"] == hostile
    indicators = pd.read_parquet(processed / "indicators.parquet")
    rows = indicators[indicators.indicator_name == INDICATOR[1]]
    assert len(rows) == 9 and (rows.target_raw == TARGET).all()


@pytest.mark.parametrize(
    "ordinal, expected",
    [
        (2, "'@cmd响铃[31m红色[0m搬迁<b>粗体</b>"),  # @ prefix; BEL and ESC dropped
        (4, "'=1+1<img src=x onerror=alert(1)>报表系统"),  # = prefix
        (5, "'+SUM(A1)**加粗**[链接](javascript:alert(1))平台运维"),  # + prefix
        (6, "'-2+3<script>alert(3)</script>通讯保障"),  # - prefix
    ],
    ids=["at-and-control", "equals", "plus", "minus"],
)
def test_csv_neutralises_formulas_and_control_characters(built, ordinal, expected):
    processed, _ = built
    by_id = {row["form_id"]: row for row in _csv_rows(processed / "projects.csv")}
    assert by_id[f"002_fd002be877c499a2#{ordinal:03d}"]["project_name"] == expected


def test_csv_neutralises_indicator_name_and_target(built):
    processed, _ = built
    rows = [r for r in _csv_rows(processed / "indicators.csv") if "HYPERLINK" in r["indicator_name"]]
    assert len(rows) == 9
    assert {r["indicator_name"] for r in rows} == {"'" + CONTROL.sub("", INDICATOR[1])}
    assert {r["target_raw"] for r in rows} == {"'" + TARGET}


def test_no_csv_cell_can_run_as_a_formula_or_hold_a_control_character(built):
    processed, _ = built
    for path in sorted(processed.glob("*.csv")):
        for row in _csv_rows(path):
            for column, value in row.items():
                assert not CONTROL.search(value), (path.name, column, value)
                if value[:1] in ("=", "+", "-", "@") and len(value) > 1:
                    assert re.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?%?", value), (path.name, column, value)


@pytest.mark.parametrize(
    "kind, escaped, raw",
    [
        ("html", "&lt;b&gt;粗体&lt;/b&gt;", "<b>粗体</b>"),
        ("html", "&lt;img src=x onerror=alert(1)&gt;", "<img src=x"),
        ("html", "&lt;script&gt;alert(3)&lt;/script&gt;", "<script>alert(3)"),
        ("markdown", "**加粗**[链接](javascript:alert(1))", "<strong>加粗"),
        ("markdown", "**加粗**[链接](javascript:alert(1))", 'href="javascript:'),
        ("formula", "=1+1&lt;img", None),
    ],
    ids=["b", "img", "script", "bold", "link", "formula"],
)
def test_project_names_are_text_in_the_html_report(built, kind, escaped, raw):
    html = built[1]["01_budget_execution"]
    assert escaped in html
    if raw:
        assert raw not in html


def test_indicator_text_is_text_in_the_html_report(built):
    html = built[1]["03_indicator_phrasing"]
    # the repeated-names table: the whole name, as escaped text (quotes too)
    assert "=HYPERLINK(&quot;http://evil.example&quot;)&lt;i&gt;利用率&lt;/i&gt;**率**" in html
    assert "<i>利用率</i>" not in html and 'href="http://evil.example"' not in html
    assert "<b>≥90%</b>" not in html


@pytest.mark.parametrize("notebook", ["01_budget_execution", "03_indicator_phrasing"])
def test_control_characters_do_not_break_the_report(built, notebook):
    """BEL and ESC in a project name: the notebook runs, validates and renders; the
    printable rest of the name is there, the ANSI sequence is not turned into colour."""
    import nbformat

    html = built[1][notebook]
    assert "Traceback" not in html
    assert "响铃" in html and "[31m红色" in html and "搬迁&lt;b&gt;粗体&lt;/b&gt;" in html
    assert 'class="ansi-red-fg"' not in html
    executed = built[0].parent / "reports" / "executed" / f"{notebook}__fengtai.ipynb"
    nbformat.validate(nbformat.read(executed, as_version=4))


def test_control_characters_are_not_written_raw_into_the_html(built):
    """notebook.load strips C0 control characters from the text the reports show."""
    assert not CONTROL.search(built[1]["01_budget_execution"])
