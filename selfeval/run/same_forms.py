"""One form published twice: the same report saved as .docx and as .pdf, a web page and its
attachment, a page printed twice. Their files differ (so the files table's duplicate test,
on decoded text, does not see them) but the forms read the same; counted twice they would
double a unit's budget and weigh its scores twice.

A form is the same as an earlier one (in file order) when every part an analyst compares is
equal: year, 主管部门, 实施单位, 项目名称, the three amounts of 年度资金总额, the printed total
weight and score, and its indicators (how many, and the sums of their weights and scores).
The later form keeps its rows and gets `same_form_as` (the earlier form's id) and a warning;
the analyses leave it out (analysis.measures.analysable_forms).
"""

from __future__ import annotations

import pyarrow as pa

from selfeval.schema.issues import Issue

PROJECT_KEYS = (
    "year",
    "department",
    "implementing_unit",
    "project_name",
    "initial_budget",
    "full_year_budget",
    "executed",
    "total_weight",
    "total_score",
)


def mark(tables: dict[str, pa.Table], seen: dict[tuple, tuple[str, str]]) -> tuple[dict[str, pa.Table], list[Issue]]:
    """The batch's tables with projects.same_form_as filled in, and a warning per form found
    again. *seen* maps a form's signature to (form_id, source_file) of its first reading and
    is carried from batch to batch, so a copy in a later batch is found too."""
    projects = tables.get("projects")
    if projects is None or projects.num_rows == 0 or "same_form_as" not in projects.column_names:
        return tables, []
    indicators = tables.get("indicators")
    per_form: dict[str, tuple] = {}
    if indicators is not None and indicators.num_rows:
        counted = indicators.group_by("form_id").aggregate([("form_id", "count"), ("weight", "sum"), ("score", "sum")])
        for form_id, n, weight, score in zip(
            *(counted.column(c).to_pylist() for c in ("form_id", "form_id_count", "weight_sum", "score_sum"))
        ):
            per_form[form_id] = (n, _rounded(weight), _rounded(score))
    columns = [projects.column(c).to_pylist() for c in ("form_id", "source_file", "first_line", *PROJECT_KEYS)]
    same: list[str | None] = []
    issues: list[Issue] = []
    for form_id, source_file, line, *keys in zip(*columns):
        if keys[PROJECT_KEYS.index("project_name")] is None:  # a fragment: nothing to recognise it by
            same.append(None)
            continue
        signature = (*(_rounded(k) if isinstance(k, float) else k for k in keys), per_form.get(form_id, (0,)))
        first = seen.setdefault(signature, (form_id, source_file))
        if first[0] == form_id:
            same.append(None)
            continue
        same.append(first[0])
        issues.append(
            Issue(
                source_file,
                form_id,
                line,
                "form",
                None,
                f"same form as {first[0]} in {first[1]} (year, units, project name, amounts, total and indicators "
                "all equal): kept in the tables with same_form_as, left out of the analyses",
                "warning",
            )
        )
    if not issues:
        return tables, []
    at = projects.schema.get_field_index("same_form_as")
    marked = projects.set_column(at, projects.schema.field(at), pa.array(same, type=projects.schema.field(at).type))
    return {**tables, "projects": marked}, issues


def _rounded(value):
    """Amounts and scores compared to the precision they are printed in (a PDF and a Word
    copy of one form read the same digits; sums of floats may differ in the last bit)."""
    return None if value is None else round(float(value), 6)
