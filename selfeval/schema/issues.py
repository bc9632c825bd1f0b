"""The record of everything the ETL met or repaired: the parse_issues table's rows."""

from __future__ import annotations

from dataclasses import dataclass

from selfeval.vocab.value_sets import ISSUE_SEVERITIES as SEVERITIES


@dataclass(frozen=True)
class Issue:
    source_file: str
    form_id: str | None
    line: int | None
    field: str | None
    raw_text: str | None
    message: str
    severity: str  # one of SEVERITIES: error = form or file not loaded

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def describe(self) -> str:
        where = self.source_file + (f":{self.line}" if self.line else "")
        form = f" [{self.form_id}]" if self.form_id else ""
        return f"{self.severity}: {where}{form}: {self.message}"


def file_issue(source_file: str, message: str, severity: str = "warning") -> Issue:
    """An issue about a whole raw file (no form, no line): unreadable, duplicate, not listed, ..."""
    return Issue(source_file, None, None, "file", None, message, severity)
