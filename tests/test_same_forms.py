"""One report published in two formats (issue 14's known limit): the text export and a Word
copy of five of its forms load both, the copy marked same_form_as and left out of the analyses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from selfeval.analysis import measures, notebook
from selfeval.run import same_forms
from tests.conftest import seed_with
from tests.fixtures import render

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
F003 = "003_d45a1a0ca283005b"


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    """The seed files plus 003's first five forms rendered as .docx by python-docx."""
    forms = render.seed_forms(selection={f"{F003}.txt": 5})
    return seed_with(tmp_path_factory.mktemp("twice"), {"xiaoguan_2022.docx": render.render_docx(forms)})


def test_the_copy_loads_and_points_at_the_first_reading(twice):
    _, tables = twice
    p = tables["projects"].set_index("form_id")
    assert len(p) == 75
    copies = p[p.same_form_as.notna()]
    # 003 #001-#005 (财务管理软件运维服务经费, 资产购置(2022年), ...) read again from the .docx
    assert sorted(copies.index) == [f"xiaoguan_2022.docx#{k:03d}" for k in range(1, 6)]
    assert sorted(copies.same_form_as) == [f"{F003}#{k:03d}" for k in range(1, 6)]
    assert copies.loc["xiaoguan_2022.docx#001", "project_name"] == "财务管理软件运维服务经费"
    assert p.loc[f"{F003}#001"].isna().same_form_as  # the first reading is not marked
    issues = tables["parse_issues"]
    said = issues[issues.message.str.contains("same form as", na=False)]
    assert sorted(said.form_id) == sorted(copies.index) and set(said.severity) == {"warning"}
    assert f"same form as {F003}#001 in {F003}.txt" in " ".join(said.message)


def test_the_analyses_count_each_form_once(twice, seed_tables):
    _, tables = twice
    results = measures.compute(tables)
    seed = measures.compute(seed_tables)
    for name, r in results.items():
        assert r.as_dict()["value"] == seed[name].as_dict()["value"], name
        assert set(r.left_out[r.left_out.reason == "same_form"].form_id) == {
            f"xiaoguan_2022.docx#{k:03d}" for k in range(1, 6)
        }, name
    assert "5 forms are the same as a form of another file (published twice)" in results["execution_rate"].text
    assert "5 份表与另一文件中的表相同" in results["execution_rate"].text_zh


def test_a_report_counts_each_form_once_and_says_so(twice, tmp_path, monkeypatch):
    processed, _ = twice
    shown = []
    monkeypatch.setattr(notebook.Context, "show", lambda self, html: shown.append(html))
    ctx = notebook.setup("01_budget_execution", processed_dir=processed, figures_dir=tmp_path)
    assert len(ctx.projects) == 70
    assert "另有 5 份自评表与另一文件中的表相同" in shown[0]


def test_forms_that_differ_in_one_amount_are_not_the_same(seed_tables):
    p = seed_tables["projects"].head(2)
    twin = p.iloc[[0]].assign(form_id="x#001", source_file="x.txt")
    changed = p.iloc[[0]].assign(form_id="y#001", source_file="y.txt", executed=p.iloc[0].executed + 0.0001)
    frame = pd.concat([p, twin, changed], ignore_index=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    marked, said = same_forms.mark({"projects": table}, {})
    same = marked["projects"].column("same_form_as").to_pylist()
    assert same == [None, None, p.iloc[0].form_id, None] and len(said) == 1
