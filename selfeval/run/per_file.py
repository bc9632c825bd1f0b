"""One raw file -> rows of every form table and its issues (decode, cut into forms, cells, parse).

Never raises: a failure becomes an Issue, so one bad form never takes the others down.
A file is read as parts of at most `forms_per_part` forms (parse_parts): a file of
100,000 forms is decoded once and then parsed form by form, never held as rows whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field

from selfeval.extract import formats
from selfeval.extract.cells import TAB_ROWS, read_forms, to_rows
from selfeval.extract.read import decode, iter_forms
from selfeval.parse import twins
from selfeval.parse.form import parse_form
from selfeval.parse.project import project_row
from selfeval.schema.issues import Issue, file_issue

# Forms parsed before their rows are handed on (re-scored, typed, turned into Arrow) and freed.
FORMS_PER_PART = 2000
# Decoded text hashed this many characters at a time (no second copy of a large file's text).
_HASH_CHARS = 1 << 20


@dataclass
class FileResult:
    file_row: dict
    projects: list[dict] = field(default_factory=list)
    funds: list[dict] = field(default_factory=list)
    indicators: list[dict] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def new_file_row(name: str, sha: str | None, kind: str | None = None) -> dict:
    return {
        "source_file": name,
        "sha256": sha,
        "format": kind,
        "encoding": None,
        "titles_seen": 0,
        "forms_loaded": 0,
        "forms_rejected": 0,
        "duplicate_of": None,
        "status": "failed",
        "reason": None,
        "text_sha256": None,
    }


def text_sha256(text: str) -> str:
    """sha256 of the decoded, newline-folded text: the same forms in other bytes (a CRLF copy,
    a GB18030 re-export, a BOM) hash alike, so a copy is found however it was saved."""
    digest = hashlib.sha256()
    for at in range(0, len(text), _HASH_CHARS):
        digest.update(text[at : at + _HASH_CHARS].encode("utf-8", errors="surrogatepass"))
    return digest.hexdigest()


def parse_file(name: str, data: bytes, source: dict | None) -> FileResult:
    """One raw file -> rows for every table. Never raises: a failure becomes an issue."""
    parts = list(parse_parts(name, data, source))
    whole = FileResult(parts[0].file_row)
    for part in parts:
        whole.projects += part.projects
        whole.funds += part.funds
        whole.indicators += part.indicators
        whole.issues += part.issues
    return whole


def parse_parts(
    name: str, data: bytes, source: dict | None, forms_per_part: int = FORMS_PER_PART
) -> Iterator[FileResult]:
    """The file's rows as parts of at most forms_per_part forms, all sharing one file_row, which is
    complete once the last part was taken. The caller should hold no other reference to `data`:
    it is dropped as soon as the text is decoded."""
    sha = hashlib.sha256(data).hexdigest()
    kind = formats.sniff(name, data)
    file_row = new_file_row(name, sha, kind)
    text, encoding, locators, issues = _file_text(name, data, kind)
    del data  # the bytes are no longer needed: only the text stays in memory

    def located(found: list[Issue]) -> list[Issue]:
        return list(found) if locators is None else _located(found, locators)

    part = FileResult(file_row, issues=located(issues))
    if text is None:
        file_row["reason"] = next((i.message for i in issues if i.severity == "error"), None)
        part.issues += source_issues(name, sha, source)
        yield part
        return
    file_row["encoding"] = encoding
    file_row["text_sha256"] = text_sha256(text)
    # a document's lines are table rows, tab-separated by its reader: never cell_per_line
    forced_layout = None if locators is None else TAB_ROWS
    forms = 0
    split_issues: list[Issue] = []

    def reject(chunk, message: str) -> None:
        """A form not loaded: one error at its title line, counted in the file's row."""
        part.issues.append(Issue(name, chunk.form_id, chunk.first_line, "form", chunk.title, message, "error"))
        file_row["forms_rejected"] += 1

    for chunk in _forms(text, name, encoding or kind, split_issues):
        file_row["titles_seen"] += 1
        part.issues += located(split_issues)
        split_issues.clear()
        try:
            layout, rows = to_rows(chunk.lines, forced_layout)
            form = parse_form(chunk, layout, rows)
        except Exception as exc:  # a parser bug must not take the other forms down
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            reject(chunk, f"parser failed on this form: {last}")
            continue
        part.issues += located(form.issues)
        if any(i.severity == "error" for i in form.issues):
            reject(chunk, "form not loaded because of the error(s) above")
            continue
        file_row["forms_loaded"] += 1
        project = project_row(form, source)
        if not project.get("title"):
            project["title"] = None  # a form found without a title line: no title, not ""
        part.projects.append(project)
        part.funds += form.funds  # rows carry their form_id (form.py)
        part.indicators += form.indicators
        forms += 1
        if forms >= forms_per_part:
            # level labels printed one row off, repaired across twin forms (same unit) of the part
            part.issues += twins.repair(name, part.projects, part.indicators)
            yield part
            part, forms = FileResult(file_row), 0
    part.issues += located(split_issues)
    part.issues += twins.repair(name, part.projects, part.indicators)
    loaded, rejected = file_row["forms_loaded"], file_row["forms_rejected"]
    file_row["status"] = "ok" if not rejected and loaded else ("partial" if loaded else "failed")
    if file_row["status"] == "failed":
        file_row["reason"] = next((i.message for i in part.issues if i.severity == "error"), "no form loaded")
    elif rejected:
        file_row["reason"] = f"{rejected} form(s) not loaded; see parse_issues"
    part.issues += source_issues(name, sha, source)
    part.issues += count_issues(name, file_row["titles_seen"], source)
    yield part


def _forms(text: str, name: str, encoding: str, issues: list[Issue]) -> Iterator:
    """The file's forms, streamed at their title lines (extract.read.iter_forms); a text whose titles
    sit inside lines (a flattened export, a pipe table) is prepared first (extract.cells.read_forms)."""
    if "|" not in text:
        found = False
        for chunk in iter_forms(text, name, encoding, issues):
            found = True
            yield chunk
        if found:
            return
        issues.clear()  # the stream's "no form found": tried again on the prepared text
    chunks, more = read_forms(text, name, encoding)
    issues.extend(more)
    yield from chunks


def count_issues(name: str, found: int, source: dict | None) -> list[Issue]:
    """sources.csv's n_forms (where given) against the forms found: a form the title patterns
    missed, or one glued to the form before it, shows here."""
    expected = (source or {}).get("n_forms")
    if expected and str(expected).strip() and int(expected) != found:
        return [
            file_issue(name, f"data/raw/sources.csv says {int(expected)} form(s), {found} found in the file", "warning")
        ]
    return []


def failed_read(name: str, reason: str) -> FileResult:
    """A file that could not be read at all (moved away or unreadable during the run)."""
    row = new_file_row(name, None)
    row["reason"] = reason
    return FileResult(row, issues=[file_issue(name, f"{name}: {reason}", "error")])


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
        return None, None, None, [file_issue(name, str(exc), "error")]
    except Exception as exc:  # a reader's bug or a library's surprise must not take the run down
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return (
            None,
            None,
            None,
            [
                file_issue(
                    name,
                    f"{name}: cannot read this {kind} file ({last[:200]}); "
                    "save it again from its program or ask for a new copy",
                    "error",
                )
            ],
        )
    said = []
    if document.read_by and document.read_by.startswith("pdfium"):  # another engine read the glyphs: say so
        said.append(
            file_issue(
                name,
                f"{name}: text read by {document.read_by}; compare a few amounts with the printed PDF",
                "warning",
            )
        )
    return document.text, document.encoding, [line.locator for line in document.lines], said


def _located(issues: list[Issue], locators: list[str]) -> list[Issue]:
    """A document's issues with the place of their line in the document (line numbers count
    the reader's lines: one per table row or paragraph)."""
    located = []
    for issue in issues:
        if issue.line is not None and 1 <= issue.line <= len(locators):
            issue = dataclasses.replace(issue, message=f"{issue.message} [{locators[issue.line - 1]}]")
        located.append(issue)
    return located


def source_issues(name: str, sha: str, source: dict | None) -> list[Issue]:
    """What data/raw/sources.csv says about a raw file: changed bytes, or not listed."""
    if source is None:
        return [
            file_issue(
                name, "file not listed in data/raw/sources.csv; district and year only from the forms", "warning"
            )
        ]
    if source.get("sha256") and source["sha256"] != sha:
        return [file_issue(name, "sha256 differs from data/raw/sources.csv: the raw file was changed", "warning")]
    return []
