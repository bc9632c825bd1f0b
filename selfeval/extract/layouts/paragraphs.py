"""paragraphs (a Word document saved as text, one table cell per paragraph): each cell is a line,
blank lines stand between the cells, and a line holding only no-break spaces (U+00A0, what Word
writes for an empty cell) is an empty cell. Rows are not marked: the parser reads the cells in
order (parse/stream.py)."""

from __future__ import annotations

from selfeval.extract.row import Row

NBSP = "\u00a0"


def score(lines: list[tuple[int, str]], stripped: list[str]) -> float:
    """Share of the cells followed by a blank line, times the share of lines without tabs or pipes."""
    cells = [i for i, text in enumerate(stripped) if text or NBSP in lines[i][1]]
    if len(cells) < 4:
        return 0.0
    blank_after = sum(1 for i in cells if i + 1 < len(stripped) and not stripped[i + 1] and NBSP not in lines[i + 1][1])
    plain = sum(1 for i in cells if "\t" not in lines[i][1] and "|" not in lines[i][1])
    return blank_after / len(cells) * plain / len(cells)


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows = []
    for (number, line), text in zip(lines, stripped):
        if text:
            rows.append(Row(number, [text]))
        elif NBSP in line:
            rows.append(Row(number, [""]))  # an empty cell, printed as a no-break space
    return rows
