"""A form's lines -> rows of cells: the Row, the layout test, and the dispatch to one module per layout.

Two layouts are known, detected per form (not per file name):
- cell_per_line (Word export, file 000): each cell is a line starting with a
  tab, a cell's wrapped text continues on lines without a tab ("绩\\n效\\n指\\n标"),
  and a blank line ends a table row.
- tab_rows (PDF export, files 002 and 003): one line per table row, cells
  separated by tabs; cells may be shifted left or right (form.py copes).
"""
from __future__ import annotations

from operator import itemgetter, methodcaller

from selfeval.extract.layouts import cell_per_line, tab_rows
from selfeval.extract.row import Row  # noqa: F401  (the rows this module returns)

CELL_PER_LINE = "cell_per_line"
TAB_ROWS = "tab_rows"


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
    rows = cell_per_line.to_rows(lines, stripped) if layout == CELL_PER_LINE else tab_rows.to_rows(lines, stripped)
    return layout, rows
