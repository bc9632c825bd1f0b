"""tab_rows (PDF export, files 002 and 003): one line per table row, cells separated by tabs;
cells may be shifted left or right (parse/form.py copes)."""

from __future__ import annotations

from selfeval.extract.row import Row


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows = []
    for (number, line), text in zip(lines, stripped):
        if not text:
            continue  # blank lines separate forms and pages, never cells
        rows.append(Row(number, [cell.strip() for cell in line.split("\t")]))
    return rows
