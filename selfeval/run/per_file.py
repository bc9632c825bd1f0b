"""One raw file -> rows of every form table and its issues (decode, cut into forms, cells, parse).

Never raises: a failure becomes an Issue, so one bad form never takes the others down.
"""
from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field

from selfeval.extract.cells import read_forms, to_rows
from selfeval.extract.read import decode
from selfeval.parse.form import parse_form
from selfeval.parse.project import project_row
from selfeval.schema.issues import Issue


@dataclass
class FileResult:
    file_row: dict
    projects: list[dict] = field(default_factory=list)
    funds: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)



def parse_file(name: str, data: bytes, source: dict | None) -> FileResult:
    """One raw file -> rows for every table. Never raises: a failure becomes an issue."""
    sha = hashlib.sha256(data).hexdigest()
    result = FileResult({"source_file": name, "sha256": sha, "encoding": None, "titles_seen": 0,
                         "forms_loaded": 0, "forms_rejected": 0, "duplicate_of": None, "status": "failed"})
    text, encoding, issues = decode(data, name)
    result.issues += issues
    if text is None or encoding is None:
        return result
    result.file_row["encoding"] = encoding
    chunks, issues = read_forms(text, name, encoding)  # split_forms, titles inside a line cut first
    result.issues += issues
    result.file_row["titles_seen"] = len(chunks)
    for chunk in chunks:
        try:
            layout, rows = to_rows(chunk.lines)
            form = parse_form(chunk, layout, rows)
        except Exception as exc:  # a parser bug must not take the other forms down
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       f"parser failed on this form: {last}", "error"))
            result.file_row["forms_rejected"] += 1
            continue
        result.issues += form.issues
        if any(i.severity == "error" for i in form.issues):
            result.file_row["forms_rejected"] += 1
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       "form not loaded because of the error(s) above", "error"))
            continue
        result.file_row["forms_loaded"] += 1
        result.projects.append(project_row(form, source))
        result.funds += form.funds  # rows carry their form_id (form.py)
        result.indicators += form.indicators
    loaded, rejected = result.file_row["forms_loaded"], result.file_row["forms_rejected"]
    result.file_row["status"] = "ok" if not rejected and loaded else ("partial" if loaded else "failed")
    result.issues += source_issues(name, sha, source)
    return result


def source_issues(name: str, sha: str, source: dict | None) -> list[Issue]:
    """What data/raw/sources.csv says about a raw file: changed bytes, or not listed."""
    if source is None:
        return [Issue(name, None, None, "file", None,
                      "file not listed in data/raw/sources.csv; district and year only from the forms", "warning")]
    if source.get("sha256") and source["sha256"] != sha:
        return [Issue(name, None, None, "file", None,
                      "sha256 differs from data/raw/sources.csv: the raw file was changed", "warning")]
    return []

