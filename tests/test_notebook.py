"""Parameter filters, the scope sentence and the findings file shared by every notebook."""
import json

import pytest

from selfeval import notebook


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
