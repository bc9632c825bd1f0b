"""paragraphs (a Word document saved as text, one table cell per paragraph): each cell is a line,
blank lines stand between the cells, and a line holding only no-break spaces (U+00A0, what Word
writes for an empty cell) is an empty cell. Rows are not marked: the parser reads the cells in
order (parse/stream.py)."""

from __future__ import annotations

from selfeval.extract.row import Row
from selfeval.vocab.labels import is_label

NBSP = "\u00a0"


def score(lines: list[tuple[int, str]], stripped: list[str]) -> float:
    """Share of the cells followed by a blank line, times the share of lines without tabs or pipes."""
    cells = [i for i, text in enumerate(stripped) if text or NBSP in lines[i][1]]
    if len(cells) < 4:
        return 0.0
    blank_after = sum(1 for i in cells if i + 1 < len(stripped) and not stripped[i + 1] and NBSP not in lines[i + 1][1])
    plain = sum(1 for i in cells if "\t" not in lines[i][1] and "|" not in lines[i][1])
    return blank_after / len(cells) * plain / len(cells)


def _wrapped(first: str, second: str) -> bool:
    """A label whose cell wrapped onto two paragraphs ("年初" / "预算数", "年度" / "指标值", "经济效益" /
    "指标", "项目资金" / "(万元)"; a Word cell with a line break saved as text, real/03): the two
    pieces make a known label and at least one of them is none on its own."""
    return bool(first and second) and is_label(first + second) and not (is_label(first) and is_label(second))


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows: list[Row] = []
    for (number, line), text in zip(lines, stripped):
        if text:
            previous = rows[-1].cells[0] if rows else ""
            if _wrapped(previous, text):
                rows[-1] = Row(rows[-1].line, [previous + text])  # one label, at its first line
            else:
                rows.append(Row(number, [text]))
        elif NBSP in line:
            rows.append(Row(number, [""]))  # an empty cell, printed as a no-break space
    return rows
