"""A table row as printed: the line it starts on and its cells."""

from __future__ import annotations


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
