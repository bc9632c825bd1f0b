"""Issue 14 part 4: analyses that need whole forms leave the forms cut off out and say how many;
issue 13: every named measure speaks both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selfeval.analysis import measures, notebook
from selfeval.store import outputs
from tests.conftest import seed_with

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
CUT = "cut#001"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def cut_tables(tmp_path_factory):
    """The seed forms plus a copy of 000's first form (公共事务协管经费) cut off after its fund
    lines (lines 1-45 of 000: the title, 项目名称, 主管部门, 资金 rows; no 年度总体目标, no
    indicators, no 总分), written by the ETL to a processed folder."""
    text = (RAW / "000_cbaa33e73a3cfdfd.txt").read_text(encoding="utf-8")
    cut = text[: text.index("年度总体目标")].encode("utf-8")
    return seed_with(tmp_path_factory.mktemp("partial"), {"cut.txt": cut})


def test_the_cut_form_is_loaded_as_partial(cut_tables):
    _, tables = cut_tables
    p = tables["projects"].set_index("form_id")
    assert len(p) == 71
    row = p.loc[CUT]
    assert (row.completeness, row.missing_parts) == ("partial", "goal; indicators; total")
    # 000 lines 29-32: 年度资金总额 9234.4314 (年初) 9234.4314 (全年) 8216.7841 (执行)
    assert (row.initial_budget, row.full_year_budget, row.executed) == (9234.4314, 9234.4314, 8216.7841)


def test_measures_that_need_whole_forms_leave_the_partial_one_out(cut_tables, seed_tables):
    _, tables = cut_tables
    results = measures.compute(tables)
    seed = measures.compute(seed_tables)
    for name, m in measures.MEASURES.items():
        r = results[name]
        if m.needs_complete:
            assert CUT in set(r.left_out.form_id), name
            assert set(r.left_out[r.left_out.form_id == CUT].reason) == {"partial"}, name
            assert CUT not in set(r.forms.form_id), name
            # without it, the values are those of the seed forms alone
            assert r.as_dict()["value"] == seed[name].as_dict()["value"], name
            assert "1 form is cut off (a partial form)" in r.text, name
            assert "1 份表不完整（被截断）" in r.text_zh, name
        else:
            assert CUT not in set(r.left_out.form_id), name
    # budget execution reads the fund lines a partial form still has: 9,234.43 万元 more
    assert results["execution_rate"].value != seed["execution_rate"].value
    assert CUT in set(results["execution_rate"].forms.form_id)
    assert {"execution_rate", "under_execution", "budget_changed"} == {
        n for n, m in measures.MEASURES.items() if not m.needs_complete
    }


def test_a_report_on_whole_forms_says_how_many_it_left_out(cut_tables, tmp_path, monkeypatch):
    processed, _ = cut_tables
    shown = []
    monkeypatch.setattr(notebook.Context, "show", lambda self, html: shown.append(html))
    figures = tmp_path / "figures"
    ctx = notebook.setup("02_score_inflation", processed_dir=processed, figures_dir=figures, complete=True)
    assert len(ctx.projects) == 70 and CUT not in set(ctx.projects.form_id)
    assert CUT not in set(ctx.indicators.form_id) and CUT not in set(ctx.checks.form_id)
    assert json.loads((figures / "findings.json").read_text(encoding="utf-8"))["partial_forms_left_out"] == 1
    header = shown[0]
    assert "另有 1 份自评表不完整（被截断）" in header and "公共事务协管经费" in header
    assert "selfeval-forms:" in header  # the form is linked to its page
    # a report that keeps partial forms (budget execution) says nothing of the kind
    shown.clear()
    ctx = notebook.setup("01_budget_execution", processed_dir=processed, figures_dir=figures, lang="en")
    assert len(ctx.projects) == 71 and "cut off" not in shown[0]


def test_every_measure_has_a_sentence_in_each_language(seed_tables):
    for name, r in measures.compute(seed_tables).items():
        zh, en = r.sentence("zh"), r.sentence("en")
        assert zh and en and zh != en, name
        assert CJK.search(zh), name
        # the English sentence holds Chinese only inside printed names and values
        template = measures.present.entry(f"measure_sentences.{name}")
        assert not CJK.search(template["en"]) and CJK.search(template["zh"]), name
        assert r.as_dict()["text_zh"] == zh and r.as_dict()["text"] == en


def test_left_out_reasons_read_in_both_languages(seed_tables):
    r = measures.compute(seed_tables, ["budget_changed"])["budget_changed"]
    # 002 #011, #014 and 003 #039-#048 print no 年初预算数
    assert r.left_out_text("en") == "12 forms print no initial budget"
    assert r.left_out_text("zh") == "12 份表未印年初预算数"
    assert r.text_zh.endswith("（未纳入：12 份表未印年初预算数）")
    one = measures.compute(seed_tables, ["execution_vs_indicator_score"])["execution_vs_indicator_score"]
    assert one.left_out_text("en") == "1 form prints no budget-line score"


def test_tables_without_the_completeness_column_are_all_whole(seed_tables):
    old = {**seed_tables, "projects": seed_tables["projects"].drop(columns=["completeness"])}
    kept, partial = measures.complete_forms(old)
    assert partial.empty and kept is old


def test_processed_tables_are_read_as_written(cut_tables):
    processed, tables = cut_tables
    assert set(outputs.read_table(processed / "projects.parquet")["completeness"]) == {"complete", "partial"}


def test_the_findings_box_sentence_leaves_the_rows_to_the_forms_list(seed_tables):
    r = measures.compute(seed_tables, ["cost_restates_budget"])["cost_restates_budget"]
    # the full sentence lists indicator rows (000 line 274 first); the brief one only counts
    assert "000#002 line 274" in r.sentence("en") and "line" not in r.sentence("en", brief=True)
    assert (
        r.sentence("zh", brief=True) == "82 个成本指标中 27 个复述预算：指标值等于预算数 21 个，实际值等于执行数 25 个"
    )
    # a measure without a brief form gives its sentence
    e = measures.compute(seed_tables, ["full_self_score"])["full_self_score"]
    assert e.sentence("zh", brief=True) == e.sentence("zh") == "70 份表中 54 份（77.1%）自评满分"


def test_one_thing_counted_reads_in_the_singular():
    from selfeval.analysis import present

    assert present.text("nb01.f_mismatch", "en", n="1", forms="x").startswith("1 form prints an execution rate")
    assert present.text("nb01.f_mismatch", "en", n="2", forms="x").startswith("2 forms print an execution rate")
    assert present.text("nb01.f_mismatch", "zh", n="1", forms="x").startswith("1 份表单")
