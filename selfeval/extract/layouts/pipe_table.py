"""pipe_table (an HTML or Word table saved as text with `|` between cells): `| a | b |` rows,
lines with one cell ending ` |`, `|` alone for an empty cell or row. A line that does not end
in `|` has its last cell continued on the next line. Empty cells are often dropped by the
export, so rows are not reliable: the parser reads the cells in order (parse/stream.py)."""

from __future__ import annotations

from selfeval.extract.row import Row


def score(lines: list[tuple[int, str]], stripped: list[str]) -> float:
    """Share of the non-blank lines holding a pipe (tab-separated lines count against)."""
    texts = [(line, text) for (_, line), text in zip(lines, stripped) if text]
    if not texts:
        return 0.0
    return sum(1 for line, text in texts if "|" in text and "\t" not in line.strip()) / len(texts)


def _cells(text: str) -> list[str]:
    pieces = [piece.strip() for piece in text.split("|")]
    if text.startswith("|"):
        pieces = pieces[1:]
    if text.endswith("|"):
        pieces = pieces[:-1]
    return pieces


def to_rows(lines: list[tuple[int, str]], stripped: list[str]) -> list[Row]:
    rows: list[Row] = []
    open_cell = False  # the previous line did not end in "|": its last cell goes on
    for (number, _), text in zip(lines, stripped):
        if not text:
            continue
        cells = _cells(text)
        if open_cell and rows and rows[-1].cells and not text.startswith("|"):
            previous = rows[-1]
            joined = (previous.cells[-1] + cells[0]).strip() if cells else previous.cells[-1]
            rows[-1] = Row(previous.line, [*previous.cells[:-1], joined, *cells[1:]])
        elif cells:
            rows.append(Row(number, cells))
        open_cell = not text.endswith("|")
    return rows
