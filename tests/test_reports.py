"""Tests for selfeval.reports.runner.

The end-to-end tests are real papermill runs of the tiny notebooks in
tests/fixtures/notebooks/ on ipykernel's "python3" kernel, against a
temporary project root and output folder (the real reports/ is never
touched). They run once per module (fixtures ``first_run``/``second_run``)
and the individual tests only inspect the outputs.
"""

import contextlib
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from selfeval.reports import runner as reports

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

CONFIG = f"""
# A kernel that does not exist: the runner must fall back to python3.
kernel: no-such-kernel-for-selfeval-tests
timeout_seconds: 120
notebooks:
  - path: notebooks/ok_report.ipynb
  - path: notebooks/failing_report.ipynb
    sets: [all]
parameter_sets:
  - name: all
    params: {{}}
  - name: xss
    params: {{department: "{XSS}", lang: en}}
"""


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = reports.main(argv)
    return code, out.getvalue(), err.getvalue()


def _make_project(root: Path) -> Path:
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "001.txt").write_text("朝阳区项目支出绩效自评表\n", encoding="utf-8")
    (root / "data" / "raw" / "002.txt").write_text("丰台区项目支出绩效自评表\n", encoding="utf-8")
    (root / "data" / "processed").mkdir(parents=True)
    # what the ETL built the tables from: the index names it (reports never rebuild tables)
    (root / "data" / "processed" / "run.json").write_text(
        json.dumps({"raw_files": {"001.txt": "a" * 64, "002.txt": "b" * 64}, "code": "0123456789abcdef"}),
        encoding="utf-8",
    )
    shutil.copytree(FIXTURES, root / "notebooks")
    return root


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("reports")
    project = _make_project(base / "project")
    config = base / "reports.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = base / "out"
    # Outputs of an earlier, successful run of the notebook that now fails.
    (out / "html").mkdir(parents=True)
    (out / "executed").mkdir(parents=True)
    last_good_html = "<html><body>LAST GOOD failing_report</body></html>"
    (out / "html" / "failing_report__all.html").write_text(last_good_html, encoding="utf-8")
    (out / "executed" / "failing_report__all.ipynb").write_text("{}", encoding="utf-8")
    (out / "figures" / "failing_report" / "all").mkdir(parents=True)
    (out / "figures" / "failing_report" / "all" / "findings.json").write_text('{"last": "good"}', encoding="utf-8")
    # what a killed run leaves: papermill's hidden temporary notebook and a staging figures folder
    (out / "executed" / ".ok_report__all.k1ll3d.ipynb").write_text("{}", encoding="utf-8")
    (out / "figures" / "ok_report" / ".staging-all").mkdir(parents=True)

    code, stdout, stderr = _run_cli(["--config", str(config), "--project-root", str(project), "--output-dir", str(out)])
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    return SimpleNamespace(
        project=project,
        config=config,
        out=out,
        code=code,
        stdout=stdout,
        stderr=stderr,
        index=index,
        rows={(r["notebook"], r["set"]): r for r in index["reports"]},
        last_good_html=last_good_html,
    )


@pytest.fixture(scope="module")
def second_run(first_run, tmp_path_factory):
    """ok_report breaks after a good run: its published outputs must survive."""
    base = tmp_path_factory.mktemp("reports2")
    project = base / "project"
    shutil.copytree(first_run.project, project)
    out = base / "out"
    shutil.copytree(first_run.out, out)
    shutil.copy(FIXTURES / "failing_report.ipynb", project / "notebooks" / "ok_report.ipynb")
    before = {
        "html": (out / "html" / "ok_report__all.html").read_bytes(),
        "executed": (out / "executed" / "ok_report__all.ipynb").read_bytes(),
        "png": (out / "figures" / "ok_report" / "all" / "execution_rate_by_unit.png").read_bytes(),
    }
    code, stdout, _ = _run_cli(
        ["--config", str(first_run.config), "--project-root", str(project), "--output-dir", str(out),
         "--only", "ok_report", "--sets", "all"]
    )  # fmt: skip
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    return SimpleNamespace(
        out=out, code=code, stdout=stdout, before=before, rows={(r["notebook"], r["set"]): r for r in index["reports"]}
    )


# ---------------------------------------------------------------------------
# End-to-end: first run (2 ok reports, 1 failing)
# ---------------------------------------------------------------------------
def test_exit_status_and_one_line_per_report(first_run):
    assert first_run.code == 1
    lines = first_run.stdout.strip().splitlines()
    assert len(lines) == 3 + 1  # one per report, then where to look
    assert lines[0].startswith("ok") and "ok_report / all" in lines[0]
    assert lines[1].startswith("ok") and "ok_report / xss" in lines[1]
    assert lines[2].startswith("failed") and "RuntimeError: deliberate failure for the runner tests" in lines[2]
    assert lines[3] == f"2 ok, 1 failed: {first_run.out / 'index.html'}"
    assert Path(lines[3].rsplit(": ", 1)[1]).is_absolute()
    # The kernel fallback is announced on the terminal, not only in the log.
    assert "falling back to 'python3'" in first_run.stderr


def test_notebook_can_opt_out_of_parameter_sets(first_run):
    assert set(first_run.rows) == {("ok_report", "all"), ("ok_report", "xss"), ("failing_report", "all")}


def test_ok_report_outputs(first_run):
    out = first_run.out
    nb = nbformat.read(out / "executed" / "ok_report__all.ipynb", as_version=4)
    injected = nb.metadata.papermill.parameters
    assert injected["department"] == "all"
    # the notebook writes into a staging folder, which becomes figures/ok_report/all on success
    assert injected["figures_dir"] == str(out / "figures" / "ok_report" / ".staging-all")
    assert (out / "figures" / "ok_report" / "all" / "findings.json").is_file()
    assert injected["processed_dir"] == str(first_run.project / "data" / "processed")

    page = (out / "html" / "ok_report__all.html").read_text(encoding="utf-8")
    assert '<img alt="' in page or "<img " in page
    assert 'src="data:image/png;base64,' in page  # the chart is embedded, page is self-contained
    assert "save_figure" not in page  # code cells hidden by default
    assert "department: all" in page  # printed output kept

    figures = out / "figures" / "ok_report" / "all"
    assert (figures / "execution_rate_by_unit.png").stat().st_size > 0
    assert (figures / "execution_rate_by_unit.svg").stat().st_size > 0
    findings = json.loads((figures / "findings.json").read_text(encoding="utf-8"))
    assert findings["figure"] == "execution_rate_by_unit.png"
    assert Path(findings["cwd"]) == first_run.project  # notebooks run in the project root


def test_failed_report_keeps_last_good_outputs(first_run):
    out = first_run.out
    row = first_run.rows[("failing_report", "all")]
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: deliberate failure for the runner tests"
    # The previous good HTML and executed notebook are untouched ...
    assert (out / "html" / "failing_report__all.html").read_text(encoding="utf-8") == first_run.last_good_html
    assert (out / "executed" / "failing_report__all.ipynb").read_text(encoding="utf-8") == "{}"
    assert row["html"] == "html/failing_report__all.html"  # linked as the last good HTML
    # ... and the failed execution is kept for debugging, with its traceback.
    failed = nbformat.read(out / "executed" / "failed" / "failing_report__all.ipynb", as_version=4)
    errors = [
        o for c in failed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert errors and errors[0].ename == "RuntimeError"
    assert row["failed_notebook"] == "executed/failed/failing_report__all.ipynb"
    # the figures and findings of the last good run too (the notebook only ever wrote to its staging folder)
    assert (out / "figures" / "failing_report" / "all" / "findings.json").read_text(
        encoding="utf-8"
    ) == '{"last": "good"}'


def test_a_killed_runs_leftovers_are_removed_by_the_next_run(first_run):
    assert not (first_run.out / "executed" / ".ok_report__all.k1ll3d.ipynb").exists()
    assert not list((first_run.out / "figures").glob("*/.staging-*"))


def test_index_json_and_html(first_run):
    out = first_run.out
    fingerprint = reports.tables_fingerprint(first_run.project / "data" / "processed")
    assert first_run.index["data_fingerprint"] == fingerprint
    assert len(fingerprint) == 12
    for row in first_run.index["reports"]:
        assert row["data_fingerprint"] == fingerprint
        assert row["seconds"] > 0
        dt.datetime.fromisoformat(row["finished_at"])
        assert row["figures_dir"] == f"figures/{row['notebook']}/{row['set']}/"
    assert [r["status"] for r in first_run.index["reports"]] == ["ok", "ok", "failed"]

    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<tr>") == 1 + 2  # a grid: header + one row per notebook, a column per set
    for needle in (
        ">ok_report<", ">failing_report<", ">全部<",
        'href="html/ok_report__all.html"', 'href="html/ok_report__all.figures.html"',
        "RuntimeError: deliberate failure for the runner tests",
        'href="executed/failed/failing_report__all.ipynb"', "上次成功的版本", fingerprint,
    ):  # fmt: skip
        assert needle in page, needle
    assert page.count(fingerprint) == 2  # once above the grid, once in the footer: not per row
    assert "(北京时间)" in page or "（北京时间）" in page


def test_parameter_values_are_escaped(first_run):
    index_page = (first_run.out / "index.html").read_text(encoding="utf-8")
    report_page = (first_run.out / "html" / "ok_report__xss.html").read_text(encoding="utf-8")
    for page in (index_page, report_page):
        assert XSS_ESCAPED in page
        assert "<script>alert(1)" not in page
    # Both the print() output and the DataFrame cell show the escaped value.
    assert report_page.count(XSS_ESCAPED) >= 2


def test_run_log_and_kernel_fallback(first_run):
    logs = list((first_run.out / "runs").glob("*.log"))
    assert len(logs) == 1
    text = logs[0].read_text(encoding="utf-8")
    assert "falling back to 'python3'" in text
    assert "FAILED failing_report__all: RuntimeError" in text
    assert "department: all" in text  # cell output is logged too


def test_no_temporary_files_left(first_run):
    leftovers = [p for p in first_run.out.rglob(".*") if p.name != ".run.lock"]
    assert leftovers == []


def test_show_code_keeps_code_cells(first_run):
    nb = nbformat.read(first_run.out / "executed" / "ok_report__all.ipynb", as_version=4)
    assert "save_figure" in reports.notebook_to_html(nb, "t", show_code=True)
    assert "save_figure" not in reports.notebook_to_html(nb, "t")


# ---------------------------------------------------------------------------
# End-to-end: a good report starts failing
# ---------------------------------------------------------------------------
def test_failure_after_success_does_not_replace_published_outputs(second_run):
    out = second_run.out
    assert second_run.code == 1
    assert len(second_run.stdout.strip().splitlines()) == 1 + 1
    assert (out / "html" / "ok_report__all.html").read_bytes() == second_run.before["html"]
    assert (out / "executed" / "ok_report__all.ipynb").read_bytes() == second_run.before["executed"]
    assert (out / "executed" / "failed" / "ok_report__all.ipynb").exists()
    row = second_run.rows[("ok_report", "all")]
    assert row["status"] == "failed" and row["html"] == "html/ok_report__all.html"


def test_partial_run_keeps_other_index_rows(second_run):
    assert second_run.rows[("ok_report", "xss")]["status"] == "ok"
    assert second_run.rows[("failing_report", "all")]["status"] == "failed"
    assert len(second_run.rows) == 3


# ---------------------------------------------------------------------------
# Unit tests (no kernel)
# ---------------------------------------------------------------------------
def test_project_config_is_valid():
    config = reports.load_config(reports.DEFAULT_CONFIG)
    assert config.kernel == "selfeval"
    assert config.timeout_seconds == 600
    assert config.output_dir == reports.PACKAGE_ROOT / "reports"
    stems = [n.stem for n in config.notebooks]
    assert stems == ["00_explore", "01_budget_execution", "02_score_inflation", "03_indicator_phrasing"]
    jobs = reports.plan(config)
    assert [j.pset.name for j in jobs if j.notebook.stem == "00_explore"] == ["all", "all-en"]
    sets = {p.name: p.params for p in config.parameter_sets}
    assert sets["all"] == reports.DEFAULT_PARAMS
    assert sets["chaoyang"]["district"] == "朝阳区" and sets["fengtai"]["district"] == "丰台区"
    departments = {p["department"] for p in sets.values()} - {"all"}
    assert departments == {
        "北京市朝阳区城市管理监督指挥中心",
        "丰台区城市管理指挥中心",
        "北京市朝阳区人民政府小关街道办事处",
    }
    for name, params in sets.items():
        if params["department"] != "all":
            assert name.startswith("dept-")


def _write(tmp_path, text):
    path = tmp_path / "reports.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_SETS = "parameter_sets:\n  - name: all\n    params: {}\n"
GOOD_NOTEBOOKS = "notebooks:\n  - path: notebooks/a.ipynb\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD_NOTEBOOKS + "parameter_sets:\n  - name: All Sets\n", "set name"),
        (GOOD_NOTEBOOKS + GOOD_SETS + "  - name: all\n", "duplicate"),
        (GOOD_NOTEBOOKS + "parameter_sets:\n  - name: x\n    params: {lang: fr}\n", "lang"),
        (GOOD_NOTEBOOKS + "parameter_sets:\n  - name: x\n    params: {year: '2021'}\n", "year"),
        (GOOD_NOTEBOOKS + "parameter_sets:\n  - name: x\n    params: {figures_dir: /tmp}\n", "set by the runner"),
        (
            GOOD_NOTEBOOKS + "parameter_sets:\n  - name: x\n    params: {distrct: 朝阳区}\n",
            r"unknown parameter\(s\) distrct",
        ),
        ("notebooks:\n  - path: notebooks/a.ipynb\n    sets: [nope]\n" + GOOD_SETS, "unknown sets"),
        (GOOD_NOTEBOOKS + GOOD_SETS + "notebook: typo\n", "unknown keys"),
        (GOOD_SETS, "no notebooks"),
        (GOOD_NOTEBOOKS + GOOD_SETS + "timeout_seconds: 0\n", "timeout_seconds"),
    ],
)
def test_config_errors(tmp_path, text, message):
    with pytest.raises(reports.ConfigError, match=message):
        reports.load_config(_write(tmp_path, text), project_root=tmp_path)


def test_plan_filters(tmp_path):
    config = reports.load_config(
        _write(
            tmp_path,
            "notebooks:\n  - notebooks/a.ipynb\n  - path: notebooks/b.ipynb\n    sets: [all]\n"
            + GOOD_SETS
            + "  - name: en\n    params: {lang: en, year: 2022}\n",
        ),
        project_root=tmp_path,
    )
    ids = lambda jobs: [j.report_id for j in jobs]  # noqa: E731
    assert ids(reports.plan(config)) == ["a__all", "a__en", "b__all"]
    assert ids(reports.plan(config, only=["notebooks/b.ipynb"])) == ["b__all"]
    assert ids(reports.plan(config, sets=["en"])) == ["a__en"]
    assert config.notebooks[0].path == tmp_path / "notebooks" / "a.ipynb"
    with pytest.raises(reports.ConfigError, match="unknown notebooks"):
        reports.plan(config, only=["zz"])
    with pytest.raises(reports.ConfigError, match="unknown parameter sets"):
        reports.plan(config, sets=["zz"])


def test_tables_fingerprint_names_what_the_tables_were_built_from(tmp_path):
    assert reports.tables_fingerprint(tmp_path / "absent") == "missing"
    (tmp_path / "run.json").write_text(json.dumps({"raw_files": {"a.txt": "1" * 64}, "code": "c1", "seconds": 1}))
    first = reports.tables_fingerprint(tmp_path)
    assert len(first) == 12
    (tmp_path / "run.json").write_text(json.dumps({"raw_files": {"a.txt": "1" * 64}, "code": "c1", "seconds": 9}))
    assert reports.tables_fingerprint(tmp_path) == first  # a rerun of the same tables
    (tmp_path / "run.json").write_text(json.dumps({"raw_files": {"a.txt": "2" * 64}, "code": "c1"}))
    assert reports.tables_fingerprint(tmp_path) != first


def test_error_summary():
    from papermill.exceptions import PapermillExecutionError

    exc = PapermillExecutionError(3, 3, "1/0", "ZeroDivisionError", "division by zero", ["\x1b[31mTraceback"])
    assert reports.error_summary(exc) == "ZeroDivisionError: division by zero"
    assert reports.error_summary(ValueError("first line\n\nlast line\n")) == "last line"
    assert reports.error_summary(TimeoutError()) == "TimeoutError:"


def test_resolve_kernel_fallback():
    assert reports.resolve_kernel("python3") == "python3"
    assert reports.resolve_kernel("no-such-kernel-xyz") == reports.FALLBACK_KERNEL
    with pytest.raises(reports.ConfigError, match="not installed"):
        reports.resolve_kernel("no-such-kernel-xyz", strict=True)


def test_index_html_escapes_every_field():
    evil = '<img src=x onerror="alert(1)">'
    record = {
        "notebook": evil, "set": "s", "params": {evil: evil}, "status": "failed", "error": evil,
        "seconds": 1.0, "finished_at": evil, "data_fingerprint": evil,
        "html": f"html/{evil}.html", "executed": None, "failed_notebook": None, "figures_dir": "figures/x/s/",
    }  # fmt: skip
    page = reports.render_index_html([record], generated_at=evil, fingerprint=evil)
    assert "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    reports.atomic_write(target, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(reports.os, "replace", boom)
    with pytest.raises(OSError):
        reports.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_concurrent_run_is_refused(tmp_path):
    from filelock import FileLock

    project = _make_project(tmp_path / "project")
    config = _write(tmp_path, CONFIG)
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / ".run.lock")):
        with pytest.raises(RuntimeError, match="in progress"):
            reports.run_reports(config, project_root=project, output_dir=out)
        code, stdout, stderr = _run_cli(
            ["--config", str(config), "--project-root", str(project), "--output-dir", str(out)]
        )
    assert code == 2 and stdout == ""
    assert "another report run is in progress" in stderr


# ---------------------------------------------------------------------------
# What a reader sees: the catalogue, number formats, tables, findings (selfeval.present)
# ---------------------------------------------------------------------------
def test_every_text_has_both_languages():
    from selfeval.analysis import present

    def walk(node, key=""):
        if isinstance(node, dict) and {"zh", "en"} <= set(node):
            # a flow mapping with an unquoted comma ({en: a, b}) reads as a key "b": caught here
            assert set(node) <= {"zh", "en", "en_one"}, (key, node)
            assert all(isinstance(v, str) for v in node.values()), key
            # English texts have no Chinese, but the link to the Chinese page names it in Chinese
            assert not CJK.search(node["en"]) or key == "site.language_other", key
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(node, list):  # headline specs
            for item in node:
                assert {"key", "format", "zh", "en"} <= set(item), key
        else:
            raise AssertionError(f"{key}: neither a text pair nor a section")

    walk(present.catalogue())
    assert present.text("findings.title", "zh") == "主要发现"
    assert present.text("findings.title", "en") == "Key findings"
    with pytest.raises(KeyError, match="texts.yaml"):
        present.text("no.such.text", "zh")


CJK = __import__("re").compile(r"[\u4e00-\u9fff]")


def test_number_formats():
    from selfeval.analysis import present

    assert present.money(12171.9894) == "12,171.99"
    assert present.money(None) == present.DASH  # blank stays blank, never 0
    assert present.pct(0.916374) == "91.6%"
    assert present.pct(0.9974, digits=2) == "99.74%"
    assert present.count(4.0) == "4"
    assert present.points(99.5) == "99.5" and present.points(100.0) == "100" and present.points(94.38) == "94.38"
    assert present.signed_points(0.2214) == "+0.22" and present.signed_points(-0.001) == "0"
    assert present.header("full_year_budget", "money", "zh") == "全年预算数（万元）"
    assert present.header("full_year_budget", "money", "en") == "Full-year budget (10k yuan)"
    assert present.header("rate", "pct", "zh") == "执行率"  # the cells carry the %
    assert present.code("level1", "output", "zh") == "产出指标"
    assert present.code("level1", "output", "en") == "Output"
    assert present.code("check", "something_new", "zh") == "something_new"  # data, shown as it is


def test_table_html_escapes_sorts_and_links():
    import pandas as pd

    from selfeval.analysis import present

    frame = pd.DataFrame(
        {
            "form_id": ["f#001", "f#002"],
            "project_name": [XSS, "路灯"],
            "full_year_budget": [1234.5, None],
            "level1": ["output", "cost"],
        }
    )
    html = present.table_html(
        frame,
        [present.col(c) for c in ("project_name:form", "full_year_budget:money", "level1:code:level1")],
        "zh",
        "t",
    )
    assert XSS not in html and XSS_ESCAPED in html
    assert '<th scope="col"' in html and "<th></th>" not in html  # no index column
    assert 'data-sort="1234.5"' in html and ">1,234.50<" in html and ">—<" in html
    assert 'href="selfeval-forms:f-001.zh.html"' in html
    assert ">产出指标<" in html and ">成本指标<" in html
    assert 'href="selfeval-figures:tables/t.csv"' in html
    empty = present.table_html(frame.iloc[:0], [present.col("project_name")], "en", "t")
    assert empty == '<p class="empty" id="t">No row meets the condition.</p>'


def test_findings_box_names_forms_and_links_the_evidence():
    from selfeval.analysis import present

    forms = [(f"f#00{i}", f"项目{i}") for i in range(1, 6)]
    finding = present.Finding("nb01.f_under", "ranking", {"n": "5"}, forms)
    box = present.findings_box([finding], "zh")
    assert box.startswith('<section class="findings" id="findings"><h2>主要发现</h2><ol><li>5 个项目执行率低于 90%：')
    assert box.count('class="form"') == present.FORMS_NAMED and "等 5 份" in box
    assert '<a class="see" href="#ranking">见表</a>' in box
    assert "and 2 more" in present.findings_box([finding], "en")
    assert "No form matches" in present.findings_box([], "en")
