"""aligned (`pdftotext -layout`): one line per printed line, columns aligned with runs of spaces.
Cells are cut at two or more spaces; a cell wrapped onto the next printed line becomes a cell of
that line. Rows are not reliable (wrapped cells): the parser reads the cells in order
(parse/stream.py)."""

from __future__ import annotations

import re

from selfeval.extract.row import Row

_GAP = re.compile(r"\s{2,}")


def score(lines: list[tuple[int, str]], stripped: list[str]) -> float:
    """Share of the non-blank lines with a gap of two or more spaces between two cells."""
    texts = [text for (_, line), text in zip(lines, stripped) if text and "\t" not in line and "|" not in line]
    if len(texts) < 4:
        return 0.0
    return sum(1 for text in texts if _GAP.search(text)) / len([t for t in stripped if t])


_NUMBERS = re.compile(r"^[\d.,%]+(?: [\d.,%]+)+$")  # "10 10": narrow number columns one space apart


def _cells(text: str) -> list[str]:
    cells: list[str] = []
    for cell in _GAP.split(text):
        cells += cell.split(" ") if _NUMBERS.match(cell) else [cell]
    return cells


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    return [Row(number, _cells(text)) for (number, _), text in zip(lines, stripped) if text]
