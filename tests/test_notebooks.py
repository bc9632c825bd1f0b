"""Every notebook, executed for real through papermill on the seed tables, for the
all, 朝阳区 and 丰台区 parameter sets; the numbers each one records are compared with
values computed here from the tables, independently of the notebook's code."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
import yaml

import etl
from selfeval.paths import ROOT
from selfeval.reports import runner as reports
from selfeval.run import pipeline
from selfeval.store import outputs

SETS = [("all", {}), ("chaoyang", {"district": "朝阳区"}), ("fengtai", {"district": "丰台区"})]
NOTEBOOKS = ["00_explore", "01_budget_execution", "02_score_inflation", "03_indicator_phrasing"]


def _config(tmp, processed, sets):
    config = {
        "kernel": "selfeval",
        "timeout_seconds": 300,
        "processed_dir": str(processed),
        "raw_dir": str(etl.RAW_DIR),
        "output_dir": str(tmp / "reports"),
        "defaults": {"district": "all", "department": "all", "year": "all", "lang": "zh"},
        "notebooks": [{"path": f"notebooks/{n}.ipynb"} for n in NOTEBOOKS],
        "parameter_sets": [{"name": name, "params": params} for name, params in sets],
    }
    path = tmp / "reports.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notebooks")
    processed = tmp / "processed"
    pipeline.run(etl.RAW_DIR, processed, use_cache=False)
    results = reports.run_reports(_config(tmp, processed, SETS), project_root=ROOT, output_dir=tmp / "reports")
    tables = outputs.read_tables(processed)
    return tmp / "reports", results, tables


def findings(out, notebook, set_name):
    return json.loads((out / "figures" / notebook / set_name / "findings.json").read_text(encoding="utf-8"))


def _projects(tables, district=None):
    p = tables["projects"]
    return p if district is None else p[p.district == district]


def test_every_notebook_ran(run):
    out, results, _ = run
    assert [(r.notebook, r.set, r.status) for r in results if not r.ok] == []
    assert len(results) == len(NOTEBOOKS) * len(SETS)
    for r in results:
        html = (out / r.html).read_text(encoding="utf-8")
        assert "Traceback" not in html


@pytest.mark.parametrize("set_name, district", [("all", None), ("chaoyang", "朝阳区"), ("fengtai", "丰台区")])
def test_budget_execution_numbers(run, set_name, district):
    out, _, tables = run
    p = _projects(tables, district)
    f = findings(out, "01_budget_execution", set_name)
    assert f["forms"] == len(p)
    assert f["full_year_budget"] == pytest.approx(float(p.full_year_budget.sum()))
    assert f["executed"] == pytest.approx(float(p.executed.sum()))
    rate = p.executed.astype(float) / p.full_year_budget.astype(float)
    assert f["under_90"] == int((rate < 0.9).sum())
    changed = (p.full_year_budget - p.initial_budget).astype(float).abs() > 1e-9
    assert f["budget_changed"] == int(changed.sum())


def test_budget_execution_fengtai_by_hand(run):
    # 002's 15 forms: 4 are under 90% (75.87%, 61.85%, 77.25%, 89.49%); only 搬迁信息化建设 changed budget
    f = findings(run[0], "01_budget_execution", "fengtai")
    assert (f["forms"], f["under_90"], f["budget_changed"], f["budget_cut"]) == (15, 4, 1, 1)


@pytest.mark.parametrize("set_name, district", [("all", None), ("chaoyang", "朝阳区"), ("fengtai", "丰台区")])
def test_score_inflation_numbers(run, set_name, district):
    out, _, tables = run
    p = _projects(tables, district)
    f = findings(out, "02_score_inflation", set_name)
    assert f["forms"] == len(p)
    assert f["share_100"] == pytest.approx(float((p.total_score == 100).mean()))
    assert f["mean_inflation"] == pytest.approx(float((p.self_total - p.rule_total).mean()))
    ind = tables["indicators"][tables["indicators"].form_id.isin(p.form_id)]
    missed_full = ind[(ind.met == False) & (ind.score >= ind.weight)]  # noqa: E712
    assert f["full_marks_missed"] == len(missed_full)


def test_score_inflation_by_hand(run):
    # 003: all 48 forms print 100/100; 002: no form prints 100
    assert findings(run[0], "02_score_inflation", "fengtai")["share_100"] == 0
    chaoyang = findings(run[0], "02_score_inflation", "chaoyang")
    assert chaoyang["share_100"] == pytest.approx((48 + 6) / 55)  # 000: all but 公共事务协管经费 (99)
    # ≥400000 vs 40000 (002 line 82) and ≥500000条 vs 6 (002 line 148); costs are ceilings (issue 12):
    # 003 line 66 ≥30万元 vs 31.98万元 (20 of 20) and 003 line 800 ≥58800元 vs 63420元 (10 of 10); 003 line 638
    # (≥250万元 vs 143.67, cut by review) is within its ceiling
    assert findings(run[0], "02_score_inflation", "fengtai")["full_marks_missed"] == 2
    assert chaoyang["full_marks_missed"] == 2


@pytest.mark.parametrize("set_name, district", [("all", None), ("fengtai", "丰台区")])
def test_phrasing_numbers(run, set_name, district):
    out, _, tables = run
    p = _projects(tables, district)
    ind = tables["indicators"][tables["indicators"].form_id.isin(p.form_id)]
    f = findings(out, "03_indicator_phrasing", set_name)
    assert f["indicators"] == len(ind)
    assert f["quantitative_share"] == pytest.approx(float((ind.target_kind == "quantitative").mean()))
    targets = ind.target_raw.dropna().str.replace(r"\s+", "", regex=True)
    assert f["top_target"] == targets.value_counts().index[0]


def test_explore_counts(run):
    f = findings(run[0], "00_explore", "all")
    assert (f["forms"], f["units"], f["indicators"]) == (70, 3, 540)


def test_html_report_embeds_its_charts(run):
    out = run[0]
    html = (out / "html" / "01_budget_execution__all.html").read_text(encoding="utf-8")
    # linked, not embedded: the page stays small and the PNG is the slide-sized file
    charts = re.findall(r'<figure class="chart"[^>]*><img src="([^"]+)"', html)
    assert len(charts) >= 4
    for src in charts:
        assert (out / "html" / src).resolve().is_file(), src
    assert "../figures/01_budget_execution/all/execution_rate_by_unit.png" in charts
    assert (out / "figures" / "01_budget_execution" / "all" / "execution_rate_by_unit.svg").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "01_budget_execution__fengtai.html" in index


def test_an_empty_selection_still_renders(tmp_path):
    processed = tmp_path / "processed"
    pipeline.run(etl.RAW_DIR, processed, use_cache=False)
    results = reports.run_reports(
        _config(tmp_path, processed, [("haidian", {"district": "海淀区"})]),
        project_root=ROOT,
        output_dir=tmp_path / "reports",
        only=["01_budget_execution", "02_score_inflation"],
    )
    assert all(r.ok for r in results), [r.error for r in results]
    html = (tmp_path / "reports" / results[0].html).read_text(encoding="utf-8")
    assert "没有符合参数的自评表（海淀区）" in html  # the scope line says why the report is empty
    assert "没有符合参数的自评表，因此没有发现。" in html  # and so does the findings box


def test_form_text_is_escaped_in_html(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in etl.RAW_DIR.glob("*"):
        shutil.copy(path, raw / path.name)
    hostile = "<script>alert(1)</script>资产购置"
    target = raw / "003_d45a1a0ca283005b.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("资产购置(2022年)", hostile), encoding="utf-8")
    processed = tmp_path / "processed"
    pipeline.run(raw, processed, use_cache=False)
    assert hostile in set(pd.read_parquet(processed / "projects.parquet").project_name)
    results = reports.run_reports(
        _config(tmp_path, processed, [("all", {})]),
        project_root=ROOT,
        output_dir=tmp_path / "reports",
        only=["01_budget_execution"],
    )
    assert results[0].ok, results[0].error
    html = (tmp_path / "reports" / results[0].html).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;资产购置" in html  # the changed-budget table shows it
    assert "<script>alert(1)</script>" not in html


# --- every shared measure agrees: the README, the reports' findings.json, the index (issue 12) ----


def _values(result) -> object:
    return json.loads(json.dumps(result.as_dict()["value"]))  # as findings.json holds it


def _same(recorded, expected) -> bool:
    """Equal values, floats to 1e-9, into nested dicts (a measure's sides or classes)."""
    if isinstance(expected, dict):
        return (
            isinstance(recorded, dict)
            and recorded.keys() == expected.keys()
            and all(_same(recorded[k], expected[k]) for k in expected)
        )
    if isinstance(expected, float):
        return recorded == pytest.approx(expected, rel=1e-9, abs=1e-12)
    return recorded == expected


@pytest.mark.parametrize("notebook", ["01_budget_execution", "02_score_inflation", "03_indicator_phrasing"])
def test_reports_record_the_named_measures_as_measures_computes_them(run, notebook):
    from selfeval.analysis import measures

    out, _, tables = run
    recorded = findings(out, notebook, "all")["measures"]
    expected = measures.headline(tables, notebook)
    assert list(recorded) == [r.name for r in expected]
    for result in expected:
        assert _same(recorded[result.name]["value"], _values(result)), (result.name, recorded[result.name]["value"])
        assert recorded[result.name]["threshold"] == result.measure.threshold


def test_readme_findings_and_index_quote_the_same_measures(run):
    """The README's block is `selfeval findings` (test_findings.py); here its numbers of the shared
    measures are the ones the `all` reports recorded, and the index shows those same numbers."""
    from selfeval.analysis import present
    from selfeval.reports import pages

    out, _, tables = run
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("<!-- findings:start -->")[1]
    recorded = findings(out, "02_score_inflation", "all")
    off = recorded["measures"]["forms_off_rule"]["value"]
    span = recorded["measures"]["inflation_range"]["value"]
    assert (off["above"], off["below"]) == (8, 6)  # read by hand: the 14 forms where self and rule differ
    assert f"- {off['above']} forms score themselves at least 0.01 points above the rule" in readme
    assert f"; {off['below']} score below it" in readme
    assert f"{span['lower']:+.2f}" in readme and f"{span['upper']:+.2f}" in readme
    index = (out / "index.html").read_text(encoding="utf-8")
    for key in (
        "measures.inflation_range.value.lower",
        "measures.inflation_range.value.upper",
        "measures.forms_off_rule.value.above",
        "measures.forms_off_rule.value.below",
    ):
        spec = next(s for s in present.catalogue()["headline"]["02_score_inflation"] if s["key"] == key)
        shown = present.FORMATS[spec["format"]](pages.lookup(recorded, key))
        assert f"<b>{shown}</b> {spec['zh']}" in index, (key, shown)


def test_a_report_run_reads_the_tables_it_is_given_and_never_rebuilds_them(tmp_path):
    """Issue 15: with processed_dir elsewhere, 00_explore used to rebuild those tables from the
    repository's data/raw (7 forms became 70). Reports read; the index names the tables' fingerprint."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(etl.RAW_DIR / "000_cbaa33e73a3cfdfd.txt", raw)  # the 7 forms of file 000
    processed = tmp_path / "processed"
    pipeline.run(raw, processed, use_cache=False)
    before = {p.name: p.stat().st_mtime_ns for p in processed.iterdir() if p.is_file()}
    config = _config(tmp_path, processed, [("all", {})])  # raw_dir: the repository's 70-form data/raw
    results = reports.run_reports(config, project_root=ROOT, output_dir=tmp_path / "reports", only=["00_explore"])
    assert [r.status for r in results] == ["ok"]
    assert len(outputs.read_tables(processed)["projects"]) == 7
    assert {p.name: p.stat().st_mtime_ns for p in processed.iterdir() if p.is_file()} == before
    assert findings(tmp_path / "reports", "00_explore", "all")["forms"] == 7
    index = json.loads((tmp_path / "reports" / "index.json").read_text(encoding="utf-8"))
    assert index["data_fingerprint"] == reports.tables_fingerprint(processed)


def test_execution_is_correlated_with_the_indicator_scores_only(run):
    """Issue 12: the total holds the budget score (the rate times 10), so 01 correlates the rate with the
    indicator scores, the one definition of analysis/measures.py: -0.02 on the seed forms, not 0.51."""
    from selfeval.analysis import measures

    out, _, tables = run
    recorded = findings(out, "01_budget_execution", "all")["rate_score_correlation"]
    expected = measures.compute(tables, ["execution_vs_indicator_score"])["execution_vs_indicator_score"].value
    assert recorded == pytest.approx(expected) and round(recorded, 2) == -0.02
