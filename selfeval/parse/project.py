"""A parsed form -> its row of the projects table (district from the form or sources.csv)."""

from __future__ import annotations

from selfeval.parse.form import Form
from selfeval.schema import fields as schema
from selfeval.vocab.labels import VOCAB, norm_label


def district_of(form: Form, source: dict | None) -> tuple[str | None, str | None]:
    """District from the printed title, else the department's name, else sources.csv."""
    for field_name, origin in (("title", "title"), ("department", "department"), ("implementing_unit", "department")):
        text = norm_label(form.project.get(field_name))
        for district in VOCAB["districts"]:
            if district in text:
                return district, origin
    if source and source.get("district"):
        return source["district"], "sources.csv"
    return None, None


_PROJECT_COLUMNS = schema.columns("projects")


def project_row(form: Form, source: dict | None) -> dict:
    total = next((f for f in form.funds if f["fund_line"] == "total"), {})
    district, district_source = district_of(form, source)
    row = dict.fromkeys(_PROJECT_COLUMNS)
    row.update((key, value) for key, value in form.project.items() if key in row)
    row.update(
        form_id=form.chunk.form_id,
        source_file=form.chunk.source_file,
        form_ordinal=form.chunk.ordinal,
        first_line=form.chunk.first_line,
        layout=form.layout,
        year=form.project.get("year") or (int(source["year"]) if source and source.get("year") else None),
        district=district,
        district_source=district_source,
        initial_budget=total.get("initial_budget"),
        full_year_budget=total.get("full_year_budget"),
        executed=total.get("executed"),
        budget_weight=total.get("weight"),
        execution_rate_raw=total.get("execution_rate_raw"),
        execution_rate=None if total.get("execution_rate") is None else total["execution_rate"] / 100,  # printed %
        budget_score=total.get("score"),
        n_indicators=len(form.indicators),
    )
    return row
