"""Parameter filters, the scope sentence and the findings file shared by every notebook."""

import json

import pytest

from selfeval.analysis import notebook


def test_unit_name_strips_budget_codes(unit_tables):
    units = unit_tables["projects"].set_index("form_id")["unit"]
    # 003 line 625: 主管部门 "618-小关" -> the implementing unit without "618001-"
    assert units["003_d45a1a0ca283005b#028"] == "北京市朝阳区人民政府小关街道办事处"
    assert unit_tables["projects"]["unit"].nunique() == 3


@pytest.mark.parametrize(
    "params, forms",
    [
        ({}, 70),
        ({"district": "朝阳区"}, 55),
        ({"district": "丰台区"}, 15),
        ({"department": "北京市朝阳区城市管理监督指挥中心"}, 7),
        ({"department": "北京市朝阳区人民政府小关街道办事处"}, 48),
        ({"year": 2022}, 48),
        ({"year": "2021", "district": "朝阳区"}, 7),
        ({"district": "海淀区"}, 0),
    ],
)
def test_select(unit_tables, params, forms):
    selection = notebook.select(unit_tables, **params)
    assert len(selection.projects) == forms
    assert set(selection.indicators.form_id) <= set(selection.projects.form_id)
    if forms:
        assert selection.indicators.form_id.nunique() == forms


def test_scope_text_names_years_by_district(unit_tables):
    text = notebook.scope_text(notebook.select(unit_tables, district="丰台区"))
    assert text.startswith("15 forms from 1 unit(s)")
    assert "朝阳区: 2021, 2022" in text and "丰台区: 2024" in text
    empty = notebook.scope_text(notebook.select(unit_tables, district="海淀区"))
    assert "No form matches" in empty


def test_record_merges_and_writes_json(tmp_path):
    notebook.record(tmp_path, forms=3)
    notebook.record(tmp_path, share=0.5)
    assert json.loads((tmp_path / "findings.json").read_text()) == {"forms": 3, "share": 0.5}


def test_control_character_scan_never_misses_one():
    """The byte scan may say "maybe" for a clean column, never "no" for one with a control character."""
    import re

    import pandas as pd

    control = re.compile(notebook.CONTROL_CHARACTERS)
    texts = pd.Series(["中文" + chr(i) + "文" for i in range(0x3000)] + [None], dtype="string[pyarrow]")
    for i in range(len(texts) - 1):
        one = texts.iloc[i : i + 1]  # a slice: a view into the whole column's buffers
        has, maybe = bool(control.search(texts[i])), notebook._may_hold_control_characters(one)
        assert maybe or not has, hex(i)  # never "no" for a control character (C0, DEL, C1, bidi)
        if not {0xC2, 0xE2} & set(chr(i).encode()):  # only the lead bytes of C1 and bidi controls say "maybe"
            assert maybe == has, hex(i)
    assert not notebook._may_hold_control_characters(texts.iloc[0x100:0x2000])
    assert notebook._may_hold_control_characters(texts.astype("string[python]"))  # cannot tell: strip


def test_control_characters_are_stripped_only_where_there_are_some():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "a": pd.Series(["x\x07y", "ok", None], dtype="string[pyarrow]"),
            "b": pd.Series(["clean", "也干净", None], dtype="string[pyarrow]"),
        }
    )
    out = notebook._without_control_characters(frame)
    assert out["a"].tolist()[:2] == ["xy", "ok"] and out["a"].isna().tolist() == [False, False, True]
    assert out["b"].equals(frame["b"])


def test_load_reads_only_the_tables_asked_for(tmp_path):
    import etl
    from selfeval.run import pipeline

    pipeline.run(etl.RAW_DIR, tmp_path, use_cache=False)
    tables = notebook.load(tmp_path, ["indicators"])
    assert set(tables) == {"projects", "indicators"} and "unit" in tables["projects"]
    everything = notebook.load(tmp_path)
    assert {"projects", "funds", "indicators", "checks"} <= set(everything)
    assert everything["indicators"].equals(tables["indicators"])


def test_isin_matches_pandas():
    import pandas as pd

    ids = pd.Series(["a#1", "a#2", None, "b#1", "c#9"], dtype="string[pyarrow]")
    chosen = pd.Series(["a#2", "b#1", "z"], dtype="string[pyarrow]")
    expected = ids.isin(set(chosen)).astype(bool)
    assert notebook._isin(ids, chosen).tolist() == expected.tolist()
    assert notebook._isin(ids.iloc[1:4], chosen).tolist() == expected.iloc[1:4].tolist()
    assert notebook._isin(ids, chosen.iloc[:0]).tolist() == [False] * 5
    assert notebook._isin(ids.astype(object), chosen.astype(object)).tolist() == expected.tolist()


def test_budget_codes_stripped_once_per_name_as_by_str_replace():
    import pandas as pd

    names = pd.Series(
        ["618-小关", None, "618001-北京市朝阳区人民政府小关街道办事处", "618-小关", "无代码单位", "１２-全角"],
        dtype="string[pyarrow]",
        name="department",
    )
    expected = names.fillna("").str.replace(notebook._CODE_PREFIX, "", regex=True)
    pd.testing.assert_series_equal(notebook._without_code(names), expected)
    pd.testing.assert_series_equal(notebook._without_code(names.iloc[:0]), expected.iloc[:0])


def test_with_unit_is_the_left_merge(tmp_path):
    import pandas as pd

    import etl
    from selfeval.run import pipeline

    pipeline.run(etl.RAW_DIR, tmp_path, use_cache=False)
    tables = notebook.load(tmp_path, ["indicators"])
    for params in ({}, {"district": "丰台区"}, {"district": "海淀区"}):
        sel = notebook.select(tables, **params)
        p, ind = sel.projects, sel.indicators
        pd.testing.assert_frame_equal(
            notebook.with_unit(ind, p), ind.merge(p[["form_id", "unit"]], on="form_id", how="left")
        )
    p, ind = tables["projects"].iloc[1:], tables["indicators"]  # a form with no project row: no unit
    pd.testing.assert_frame_equal(
        notebook.with_unit(ind, p), ind.merge(p[["form_id", "unit"]], on="form_id", how="left")
    )


def test_ranked_projects_for_the_report_table(unit_tables, tmp_path):
    ctx = notebook.Context("01_budget_execution", notebook.select(unit_tables, district="丰台区"), "zh", tmp_path)
    ranking = ctx.ranking("rate", ascending=True)
    assert len(ranking) == 15 and ctx.one_unit
    first = ranking.iloc[0]
    # 002 #004: 全年执行数 100.4 of 全年预算数 162.32 -> 61.85%
    assert first["form_id"] == "002_fd002be877c499a2#004"
    assert round(float(first["rate"]), 4) == 0.6185
    assert first["checks_fired"] == int((unit_tables["checks"]["form_id"] == first["form_id"]).sum())
    assert all(isinstance(name, str) and name for name in first["check_names"])
    assert ranking["rate"].is_monotonic_increasing
    # one unit: its name is not repeated on every row
    assert [c.name for c in ctx.ranking_columns()][:4] == ["project_name", "full_year_budget", "executed", "rate"]


def test_scope_line_in_each_language(unit_tables, tmp_path):
    zh = notebook.Context("01_budget_execution", notebook.select(unit_tables, district="丰台区"), "zh", tmp_path)
    assert zh.scope_line().startswith("15 份自评表，1 个单位（丰台区城市管理指挥中心），2024 年度，1 个区。")
    en = notebook.Context("01_budget_execution", notebook.select(unit_tables, district="海淀区"), "en", tmp_path)
    assert en.scope_line() == "No form matches the parameters (海淀区): this report has no data."


def test_record_writes_a_world_readable_file(tmp_path):
    import stat

    notebook.record(tmp_path, forms=3)
    assert stat.S_IMODE((tmp_path / "findings.json").stat().st_mode) == 0o644
