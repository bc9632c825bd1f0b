"""A form's lines -> rows of cells, for either export layout.

Two layouts are known, detected per form (not per file name):
- cell_per_line (Word export, file 000): each cell is a line starting with a
  tab, a cell's wrapped text continues on lines without a tab ("绩\\n效\\n指\\n标"),
  and a blank line ends a table row.
- tab_rows (PDF export, files 002 and 003): one line per table row, cells
  separated by tabs; cells may be shifted left or right (form.py copes).
"""
from __future__ import annotations

from dataclasses import dataclass

CELL_PER_LINE = "cell_per_line"
TAB_ROWS = "tab_rows"


@dataclass
class Row:
    line: int            # line number of the row's first line
    cells: list[str]     # as printed (stripped), empty cells kept as ""

    @property
    def filled(self) -> list[str]:
        return [cell for cell in self.cells if cell]

    @property
    def text(self) -> str:
        return "\t".join(self.cells)


def detect_layout(lines: list[tuple[int, str]]) -> str:
    """Tab-separated rows have several cells on a line; Word exports have one."""
    texts = [line for _, line in lines if line.strip()]
    if not texts:
        return TAB_ROWS
    multi = sum(1 for line in texts if len([c for c in line.split("\t") if c.strip()]) >= 2)
    return TAB_ROWS if multi / len(texts) > 0.2 else CELL_PER_LINE


def to_rows(lines: list[tuple[int, str]], layout: str | None = None) -> tuple[str, list[Row]]:
    layout = layout or detect_layout(lines)
    rows = _cell_per_line(lines) if layout == CELL_PER_LINE else _tab_rows(lines)
    return layout, rows


def _tab_rows(lines: list[tuple[int, str]]) -> list[Row]:
    rows = []
    for number, line in lines:
        if not line.strip():
            continue  # blank lines separate forms and pages, never cells
        rows.append(Row(number, [cell.strip() for cell in line.split("\t")]))
    return rows


def _cell_per_line(lines: list[tuple[int, str]]) -> list[Row]:
    rows: list[Row] = []
    current: Row | None = None
    for number, line in lines:
        if "\t" not in line and not line.strip():
            current = None  # a blank line ends the row
            continue
        if line.startswith("\t") or current is None:
            if current is None:
                current = Row(number, [])
                rows.append(current)
            current.cells.append(line.lstrip("\t").strip())
        else:
            # wrapped text of the previous cell; CJK text joins without a space
            joiner = " " if current.cells[-1][-1:].isascii() and line[:1].isascii() else ""
            current.cells[-1] = (current.cells[-1] + joiner + line.strip()).strip()
    return rows
