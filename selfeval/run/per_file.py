"""One raw file -> rows of every form table and its issues (decode, cut into forms, cells, parse).

Never raises: a failure becomes an Issue, so one bad form never takes the others down.
"""
from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field

from selfeval.extract import formats
from selfeval.extract.cells import TAB_ROWS, to_rows
from selfeval.extract.read import decode, split_forms
from selfeval.parse import twins
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
    kind = formats.sniff(name, data)
    result = FileResult({"source_file": name, "sha256": sha, "format": kind, "encoding": None, "titles_seen": 0,
                         "forms_loaded": 0, "forms_rejected": 0, "duplicate_of": None, "status": "failed"})
    text, encoding, locators, issues = _file_text(name, data, kind)
    if locators is not None:
        issues = _located(issues, locators)
    result.issues += issues
    if text is None:
        return result
    result.file_row["encoding"] = encoding
    chunks, issues = split_forms(text, name, encoding or kind)
    result.issues += issues if locators is None else _located(issues, locators)
    result.file_row["titles_seen"] = len(chunks)
    # a document's lines are table rows, tab-separated by its reader: never cell_per_line
    forced_layout = None if locators is None else TAB_ROWS
    for chunk in chunks:
        try:
            layout, rows = to_rows(chunk.lines, forced_layout)
            form = parse_form(chunk, layout, rows)
        except Exception as exc:  # a parser bug must not take the other forms down
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       f"parser failed on this form: {last}", "error"))
            result.file_row["forms_rejected"] += 1
            continue
        result.issues += form.issues if locators is None else _located(form.issues, locators)
        if any(i.severity == "error" for i in form.issues):
            result.file_row["forms_rejected"] += 1
            result.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title,
                                       "form not loaded because of the error(s) above", "error"))
            continue
        result.file_row["forms_loaded"] += 1
        result.projects.append(project_row(form, source))
        result.funds += form.funds  # rows carry their form_id (form.py)
        result.indicators += form.indicators
    # level labels printed one row off, repaired across the file's twin forms (same unit)
    result.issues += twins.repair(name, result.projects, result.indicators)
    loaded, rejected = result.file_row["forms_loaded"], result.file_row["forms_rejected"]
    result.file_row["status"] = "ok" if not rejected and loaded else ("partial" if loaded else "failed")
    result.issues += source_issues(name, sha, source)
    return result


def _file_text(name: str, data: bytes, kind: str) -> tuple[str | None, str | None, list[str] | None, list[Issue]]:
    """(text, encoding, locators, issues): a text export decoded, or a document (Word, Excel,
    PDF, web page) read into tab-separated lines by its reader (selfeval/extract/formats/),
    locators then saying where each line is in the document. text is None when the file
    cannot be read: then one error says why and what to do."""
    if kind == formats.TEXT:
        text, encoding, issues = decode(data, name)
        return text, encoding, None, issues
    try:
        document = formats.read_document(name, data, kind)
    except formats.ReadError as exc:
        return None, None, None, [Issue(name, None, None, "file", None, str(exc), "error")]
    except Exception as exc:  # a reader's bug or a library's surprise must not take the run down
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return None, None, None, [Issue(name, None, None, "file", None,
                                        f"{name}: cannot read this {kind} file ({last[:200]}); "
                                        "save it again from its program or ask for a new copy", "error")]
    return document.text, document.encoding, [line.locator for line in document.lines], []


def _located(issues: list[Issue], locators: list[str]) -> list[Issue]:
    """A document's issues with the place of their line in the document (line numbers count
    the reader's lines: one per table row or paragraph)."""
    located = []
    for issue in issues:
        if issue.line is not None and 1 <= issue.line <= len(locators):
            issue = Issue(issue.source_file, issue.form_id, issue.line, issue.field, issue.raw_text,
                          f"{issue.message} [{locators[issue.line - 1]}]", issue.severity)
        located.append(issue)
    return located


def source_issues(name: str, sha: str, source: dict | None) -> list[Issue]:
    """What data/raw/sources.csv says about a raw file: changed bytes, or not listed."""
    if source is None:
        return [Issue(name, None, None, "file", None,
                      "file not listed in data/raw/sources.csv; district and year only from the forms", "warning")]
    if source.get("sha256") and source["sha256"] != sha:
        return [Issue(name, None, None, "file", None,
                      "sha256 differs from data/raw/sources.csv: the raw file was changed", "warning")]
    return []

