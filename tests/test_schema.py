"""The single column declaration: the docs and the data package follow from it."""

import json

import etl
from selfeval.paths import ROOT
from selfeval.run import pipeline
from selfeval.schema import fields as schema


def test_docs_data_dictionary_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == schema.data_dictionary_markdown(), "run `make docs`"


def test_datapackage_describes_every_table_and_column(tmp_path):
    pipeline.run(etl.RAW_DIR, tmp_path, use_cache=False)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == set(schema.TABLES)
    for name, resource in resources.items():
        assert [f["name"] for f in resource["schema"]["fields"]] == schema.columns(name)
        assert (tmp_path / resource["path"]).exists()
    assert resources["projects"]["schema"]["primaryKey"] == ["form_id"]


def test_every_table_validates_and_blank_cells_stay_null(seed_tables):
    for name, frame in seed_tables.items():
        schema.validate(name, frame)
    carry = seed_tables["funds"].query("fund_line == 'carryover'")
    assert carry["initial_budget"].isna().all() and not (carry["initial_budget"] == 0).any()


def test_validation_refuses_a_text_column_of_another_dtype(seed_tables):
    import pandera.errors
    import pytest

    projects = seed_tables["projects"]
    schema.validate("projects", projects)
    for wrong in (
        projects.assign(project_name=projects["project_name"].astype(object)),
        projects.assign(project_name=projects["project_name"].astype("string[python]")),
    ):
        with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors), match="project_name"):
            schema.validate("projects", wrong)
