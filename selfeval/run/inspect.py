"""`selfeval inspect FILE`: how one file was read, so that an analyst with a new template sees what to add
to the vocabulary (selfeval/vocab/labels.yaml).

For the file: its format and encoding (a document is read by its reader, as the pipeline reads it; for
a PDF also the engine that read its text when pdfminer could not), the forms found (title lines) and the
file's own issues. For each form: the layout chosen and every layout's score, whether it was read row by row or cell by cell, the
funds unit and the columns read from the tables' headers, what was read (name, funds, indicators, total,
completeness), the printed labels matched and what they mean, the label-like cells nothing matched
(candidates for the vocabulary), and every repair and warning.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from selfeval.extract import cells, formats
from selfeval.extract.read import decode
from selfeval.parse import stream
from selfeval.parse.form import FUND_COLUMN_ORDER, parse_form, reads_cell_by_cell
from selfeval.vocab import labels as vocab

MAX_UNKNOWN_LENGTH = 20  # characters: longer cells are texts (goals, notes), not labels
# what a matched label means, looked up in this order
_MEANINGS = (
    ("header", vocab.HEADER_LABELS),
    ("fund line", vocab.FUND_LINES),
    ("fund column", vocab.FUND_COLUMNS),
    ("indicator column", vocab.INDICATOR_COLUMNS),
    ("level-1", vocab.LEVEL1),
    ("level-2", vocab.LEVEL2),
    ("goal", vocab.GOAL_LABELS),
)
_BLOCKS = (
    ("funds block", vocab.FUNDS_BLOCK),
    ("goal block", vocab.GOAL_BLOCK),
    ("indicator block", vocab.INDICATOR_BLOCK),
    ("total row", vocab.TOTAL_ROW),
    ("indicator header", vocab.INDICATOR_HEADER),
    ("ignored fund column", vocab.FUND_COLUMNS_IGNORED),
)


def meaning(cell: str) -> str | None:
    """What a printed label means to the parser ("fund line: total"), None when it is no label."""
    for key in dict.fromkeys((vocab.norm_label(cell), vocab.block_key(cell))):
        for name, index in _MEANINGS:
            if key in index:
                return f"{name}: {index[key]}"
        for name, labels in _BLOCKS:
            if key in labels:
                return name
    return None


def _strings(form) -> list[str]:
    values = [
        *form.project.values(),
        *(v for f in form.funds for v in f.values()),
        *(v for i in form.indicators for v in i.values()),
    ]
    return [v for v in values if isinstance(v, str)]


def inspect_file(path: Path) -> dict:
    """The report of one file, as plain data (printed by main, or as JSON)."""
    data = path.read_bytes()
    report: dict = {
        "file": str(path),
        "bytes": len(data),
        "format": "text",
        "encoding": None,
        "read_by": None,
        "file_issues": [],
        "forms": [],
    }
    kind = formats.sniff(path.name, data)
    forced_layout = None
    if kind == formats.TEXT:
        text, encoding, issues = decode(data, path.name)
        report["file_issues"] += [i.describe() for i in issues]
    else:  # a document: its reader's tab-separated rows, as per_file reads them
        report["format"] = kind
        try:
            document = formats.read_document(path.name, data, kind)
        except formats.ReadError as exc:
            report["file_issues"].append(f"error: {exc}")
            return report
        text, encoding, forced_layout = document.text, document.encoding, cells.TAB_ROWS
        report["read_by"] = document.read_by
    if text is None:
        return report
    report["encoding"] = encoding
    chunks, issues = cells.read_forms(text, path.name, encoding or "utf-8")
    report["file_issues"] += [i.describe() for i in issues]
    for chunk in chunks:
        layout, rows = cells.to_rows(chunk.lines, forced_layout)
        form = parse_form(chunk, layout, rows)
        read = _strings(form)
        matched: dict[str, str] = {}
        unknown: list[str] = []
        for row in rows:
            for cell in row.filled:
                if vocab.is_filler(cell):
                    continue
                what = meaning(cell)
                if what is not None:
                    matched.setdefault(cell, what)
                elif (
                    len(cell) <= MAX_UNKNOWN_LENGTH
                    and not stream.is_number(cell)
                    and not stream.is_value_like(cell)
                    # an indicator read without its "指标1" prefix is read all the same
                    and not any(vocab.INDICATOR_PREFIX.sub("", cell) in value for value in read)
                    and cell not in unknown
                ):
                    unknown.append(cell)
        report["forms"].append(
            {
                "form_id": chunk.form_id,
                "title": chunk.title,
                "first_line": chunk.first_line,
                "layout": layout,
                "read": "cell by cell" if reads_cell_by_cell(layout, rows) else "row by row",
                "layout_scores": {name: round(score, 2) for name, score in cells.layout_scores(chunk.lines).items()},
                "funds_unit": form.project.get("funds_unit_raw"),
                "fund_columns": form.columns.get("funds", list(FUND_COLUMN_ORDER)),
                "indicator_columns": form.columns.get("indicators", ["target", "actual", "weight", "score", "note"]),
                "project_name": form.project.get("project_name"),
                "year": form.project.get("year"),
                "fund_lines": [f"{f['fund_label']} -> {f['fund_line']}" for f in form.funds],
                "indicators": len(form.indicators),
                "total": [
                    form.project.get("total_weight_raw"),
                    form.project.get("total_score_raw"),
                    form.project.get("grade_raw"),
                ],
                "completeness": form.project.get("completeness"),
                "missing_parts": form.project.get("missing_parts"),
                "loaded": not any(i.severity == "error" for i in form.issues),
                "labels_matched": matched,
                "unknown_labels": unknown,
                "issues": [
                    f"{i.severity}: line {i.line}: {i.message}" + (f" [{i.raw_text[:60]}]" if i.raw_text else "")
                    for i in form.issues
                ],
            }
        )
    return report


def render(report: dict) -> str:
    encoding = report["encoding"] or ("not decoded" if report["format"] == "text" else "no text encoding")
    out = [
        f"{report['file']}: {report['format']}, {encoding}, {report['bytes']} bytes, "
        f"{len(report['forms'])} form(s) found"
    ]
    if report.get("read_by"):
        out.append(f"  text read by {report['read_by']}")
    out += [f"  {issue}" for issue in report["file_issues"]]
    for form in report["forms"]:
        scores = ", ".join(
            f"{name} {score:.2f}" for name, score in sorted(form["layout_scores"].items(), key=lambda item: -item[1])
        )
        out += [
            "",
            f"form {form['form_id']} (line {form['first_line']}): {form['title']}",
            f"  layout: {form['layout']}, read {form['read']} (scores: {scores})",
            f"  funds: unit {form['funds_unit'] or '(none printed: 万元)'}; columns {form['fund_columns']}; "
            f"lines {form['fund_lines']}",
            f"  indicators: {form['indicators']} read; columns after the name {form['indicator_columns']}",
            f"  project: {form['project_name']!r}, year {form['year']}; total (weight, score, grade) "
            f"{form['total']}; {form['completeness']}"
            + (f" (missing {form['missing_parts']})" if form["missing_parts"] else "")
            + ("" if form["loaded"] else "; NOT LOADED"),
            f"  labels matched ({len(form['labels_matched'])}):",
        ]
        out += [f"    {cell} -> {what}" for cell, what in form["labels_matched"].items()]
        out.append(
            f"  unknown label-like cells ({len(form['unknown_labels'])}; add the ones that are labels to "
            f"selfeval/vocab/labels.yaml):"
        )
        out += [f"    {cell}" for cell in form["unknown_labels"]]
        out.append(f"  repairs and warnings ({len(form['issues'])}):")
        out += [f"    {issue}" for issue in form["issues"]]
    return "\n".join(out)


def main(argv: list[str] | None = None, prog: str = "selfeval inspect") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="how a file was read: format, layout per form, forms "
        "found, labels matched and unknown, repairs (what to add to the vocabulary "
        "for a new template)",
    )
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="a raw file (text export of the forms, or a document: Word, Excel, PDF, web page)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        if not path.is_file():
            print(f"{prog}: {path}: no such file", file=sys.stderr)
            status = 2
            continue
        report = inspect_file(path)
        print(json.dumps(report, ensure_ascii=False, indent=1) if args.json else render(report))
    return status
