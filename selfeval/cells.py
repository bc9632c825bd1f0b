"""A form's lines -> rows of cells, for either export layout.

Two layouts are known, detected per form (not per file name):
- cell_per_line (Word export, file 000): each cell is a line starting with a
  tab, a cell's wrapped text continues on lines without a tab ("绩\\n效\\n指\\n标"),
  and a blank line ends a table row.
- tab_rows (PDF export, files 002 and 003): one line per table row, cells
  separated by tabs; cells may be shifted left or right (form.py copes).
"""
from __future__ import annotations

from operator import itemgetter, methodcaller


CELL_PER_LINE = "cell_per_line"
TAB_ROWS = "tab_rows"


class Row:
    """One table row: the line number of its first line and its cells as printed
    (stripped; empty cells kept as ""). `filled` (the non-empty cells) is computed once:
    form.py reads it several times per row."""

    __slots__ = ("line", "cells", "filled")

    def __init__(self, line: int, cells: list[str]):
        self.line = line
        self.cells = cells
        self.filled = [cell for cell in cells if cell]

    @property
    def text(self) -> str:
        return "\t".join(self.cells)

    def __repr__(self) -> str:
        return f"Row(line={self.line}, cells={self.cells!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Row) and (self.line, self.cells) == (other.line, other.cells)


def detect_layout(lines: list[tuple[int, str]], stripped: list[str] | None = None) -> str:
    """Tab-separated rows have several cells on a line; Word exports have one.
    stripped: the lines with their outer white space removed, when the caller has them."""
    if stripped is None:
        stripped = list(map(str.strip, map(itemgetter(1), lines)))  # map(): C loops, every line
    texts = [text for text in stripped if text]
    if not texts:
        return TAB_ROWS
    # two non-empty cells <=> a tab is left once the line's outer white space is stripped
    multi = sum(map(_HAS_TAB, texts))
    return TAB_ROWS if multi / len(texts) > 0.2 else CELL_PER_LINE


_HAS_TAB = methodcaller("__contains__", "\t")


def to_rows(lines: list[tuple[int, str]], layout: str | None = None) -> tuple[str, list[Row]]:
    # every line stripped once, for the layout test and for the cells (the parse's commonest call)
    stripped = list(map(str.strip, map(itemgetter(1), lines)))
    layout = layout or detect_layout(lines, stripped)
    rows = _cell_per_line(lines, stripped) if layout == CELL_PER_LINE else _tab_rows(lines, stripped)
    return layout, rows


def _tab_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows = []
    for (number, line), text in zip(lines, stripped):
        if not text:
            continue  # blank lines separate forms and pages, never cells
        rows.append(Row(number, [cell.strip() for cell in line.split("\t")]))
    return rows


def _cell_per_line(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
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
