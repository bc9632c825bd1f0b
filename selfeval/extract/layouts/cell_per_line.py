"""cell_per_line (Word export, file 000): each cell is a line starting with a tab, a cell's wrapped
text continues on lines without a tab, and a blank line ends a table row."""

from __future__ import annotations

from selfeval.extract.row import Row


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows: list[Row] = []
    first: int | None = None  # line number of the row being read
    cells: list[str] = []
    for (number, line), text in zip(lines, stripped):
        if not text and "\t" not in line:
            if first is not None:  # a blank line ends the row
                rows.append(Row(first, cells))
            first, cells = None, []
            continue
        if line[0] == "\t" or first is None:
            if first is None:
                first = number
            cells.append(text)  # white space includes the leading tab
        else:
            # wrapped text of the previous cell; CJK text joins without a space
            joiner = " " if cells[-1][-1:].isascii() and line[:1].isascii() else ""
            cells[-1] = (cells[-1] + joiner + text).strip()
    if first is not None:
        rows.append(Row(first, cells))
    return rows
