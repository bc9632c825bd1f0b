"""Parameter filters, the scope sentence and the findings file shared by every notebook."""
import json

import pytest

from selfeval.analysis import notebook


def test_unit_name_strips_budget_codes(unit_tables):
    units = unit_tables["projects"].set_index("form_id")["unit"]
    # 003 line 625: 主管部门 "618-小关" -> the implementing unit without "618001-"
    assert units["003_d45a1a0ca283005b#028"] == "北京市朝阳区人民政府小关街道办事处"
    assert unit_tables["projects"]["unit"].nunique() == 3


@pytest.mark.parametrize("params, forms", [
    ({}, 70),
    ({"district": "朝阳区"}, 55),
    ({"district": "丰台区"}, 15),
    ({"department": "北京市朝阳区城市管理监督指挥中心"}, 7),
    ({"department": "北京市朝阳区人民政府小关街道办事处"}, 48),
    ({"year": 2022}, 48),
    ({"year": "2021", "district": "朝阳区"}, 7),
    ({"district": "海淀区"}, 0),
])
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
        one = texts.iloc[i:i + 1]  # a slice: a view into the whole column's buffers
        assert notebook._may_hold_control_characters(one) == bool(control.search(texts[i])), hex(i)
    assert not notebook._may_hold_control_characters(texts.iloc[0x7f + 1:0x100])
    assert notebook._may_hold_control_characters(texts.astype("string[python]"))  # cannot tell: strip


def test_control_characters_are_stripped_only_where_there_are_some():
    import pandas as pd

    frame = pd.DataFrame({"a": pd.Series(["x\x07y", "ok", None], dtype="string[pyarrow]"),
                          "b": pd.Series(["clean", "也干净", None], dtype="string[pyarrow]")})
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

    names = pd.Series(["618-小关", None, "618001-北京市朝阳区人民政府小关街道办事处", "618-小关", "无代码单位", "１２-全角"],
                      dtype="string[pyarrow]", name="department")
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
        pd.testing.assert_frame_equal(notebook.with_unit(ind, p),
                                      ind.merge(p[["form_id", "unit"]], on="form_id", how="left"))
    p, ind = tables["projects"].iloc[1:], tables["indicators"]  # a form with no project row: no unit
    pd.testing.assert_frame_equal(notebook.with_unit(ind, p), ind.merge(p[["form_id", "unit"]], on="form_id", how="left"))
